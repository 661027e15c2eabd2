//! S3 server access logs: one request per line, space-separated fields with `[time]` and
//! `"request-uri"` kept whole, in the published order (bucket owner, bucket, time, remote IP,
//! requester, request ID, operation, key, request-URI, HTTP status, error code, bytes sent,
//! object size, …). Object reads, writes and deletes become accesses; errors are counted as the
//! bill counts them (4xx billed, 5xx not).

use super::log_line::{Line, TraceEvent, clf_date};
use crate::engine::events::Op;

/// Fields up to and including the object size: fewer is a malformed line.
const NEEDED: usize = 13;

/// Splits a log line into its fields: spaces separate, `[...]` and `"..."` are one field each
/// (without their brackets or quotes).
pub(super) fn fields(line: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let close = match rest.as_bytes()[0] {
            b'[' => Some(']'),
            b'"' => Some('"'),
            _ => None,
        };
        let (field, next) = match close {
            Some(c) => {
                let end = rest[1..]
                    .find(c)
                    .ok_or_else(|| format!("unclosed {} in field {}", &rest[..1], out.len() + 1))?;
                (&rest[1..1 + end], &rest[end + 2..])
            }
            None => {
                let end = rest.find(' ').unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        out.push(field);
        rest = next.trim_start();
    }
    Ok(out)
}

/// Decodes a percent-encoded key (S3 logs and inventories write keys URL-encoded).
pub(super) fn decode_key(raw: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("key {raw:?} is not UTF-8 once decoded"))
}

/// What an S3 operation does to an object, if anything.
fn op_of(operation: &str) -> Option<Op> {
    Some(match operation {
        // A copy logs the source read as COPY.OBJECT_GET and the destination write as COPY.OBJECT.
        "REST.GET.OBJECT" | "REST.COPY.OBJECT_GET" => Op::Get,
        "REST.HEAD.OBJECT" => Op::Head,
        // A multipart upload writes the object when it completes (POST.UPLOAD), not per part.
        "REST.PUT.OBJECT" | "REST.POST.OBJECT" | "REST.COPY.OBJECT" | "REST.POST.UPLOAD" => Op::Put,
        // Lifecycle expirations and multi-object deletes remove the object like a DELETE.
        "REST.DELETE.OBJECT" | "BATCH.DELETE.OBJECT" | "S3.EXPIRE.OBJECT" => Op::Delete,
        _ => return None,
    })
}

/// One line of an S3 server access log.
pub(super) fn line(text: &str) -> Result<Line, String> {
    let f = fields(text)?;
    if f.len() < NEEDED {
        return Err(format!(
            "{} fields, an S3 access log line has at least {NEEDED} (owner bucket [time] ip requester id operation key \"request\" status error bytes size)",
            f.len()
        ));
    }
    let ts_ms = clf_date(f[2])?;
    let operation = f[6];
    let Some(op) = op_of(operation) else {
        if !operation.contains('.') {
            return Err(format!("{operation:?} is not an S3 operation (e.g. REST.GET.OBJECT)"));
        }
        return Ok(Line::Other);
    };
    // Lifecycle actions log no status ("-"): they happen.
    let status: u16 = match f[9] {
        "-" => 200,
        s => s.parse().map_err(|_| format!("status {s:?} is not a number"))?,
    };
    if status >= 400 {
        return Ok(Line::Failed { billed: status < 500 });
    }
    if f[7] == "-" || f[7].is_empty() {
        return Err(format!("{operation} without a key"));
    }
    let key = decode_key(f[7])?;
    let number = |name: &str, s: &str| -> Result<Option<u64>, String> {
        match s {
            "-" => Ok(None),
            s => s.parse().map(Some).map_err(|_| format!("{name} {s:?} is not a number")),
        }
    };
    let sent = number("bytes sent", f[11])?;
    let size = number("object size", f[12])?;
    let e = TraceEvent { ts_ms, key, size, op };
    // A GET that sent fewer bytes than the object holds was a range read.
    let partial = op == Op::Get && (status == 206 || matches!((sent, size), (Some(b), Some(s)) if b < s));
    Ok(if partial { Line::Partial(e) } else { Line::Access(e) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_brackets_and_quotes_whole() {
        let f = fields(r#"a b [06/Feb/2019:00:00:38 +0000] "GET /b/k HTTP/1.1" 200 "-" x"#).unwrap();
        assert_eq!(
            f,
            [
                "a",
                "b",
                "06/Feb/2019:00:00:38 +0000",
                "GET /b/k HTTP/1.1",
                "200",
                "-",
                "x"
            ]
        );
        assert!(fields(r#"a "open"#).unwrap_err().contains("unclosed"));
    }

    #[test]
    fn keys_are_percent_decoded() {
        assert_eq!(
            decode_key("photos/2019/a%20b%2Bc.jpg").unwrap(),
            "photos/2019/a b+c.jpg"
        );
    }
}
