//! Access traces for replay: Common/Combined Log Format (with the Internet Traffic Archive's
//! `[DD:HH:MM:SS]` dates too), S3 server access logs, CloudFront standard logs, JSONL of dim's
//! access events, and `ts,key,size,op` CSV, plain or gzipped. Bad lines are counted and the first
//! few kept with their line numbers; nothing panics on bad input.

use std::io::BufRead;

use super::log_line::clf_date;
pub use super::log_line::{Line, TraceEvent};
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::events::codec::{self, DecodeContext};

/// Bad lines kept for the report (all are counted).
const KEPT: usize = 5;

/// A trace's format, as `--format` names it (clap spells the variants in kebab case: the names
/// `name` gives, which a test checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Clf,
    Jsonl,
    Csv,
    S3AccessLog,
    Cloudfront,
}

impl Format {
    /// The names `--format` takes, comma-separated (for messages).
    pub fn names() -> String {
        let names: Vec<&str> = <Self as clap::ValueEnum>::value_variants()
            .iter()
            .map(|f| f.name())
            .collect();
        names.join(", ")
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Clf => "clf",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::S3AccessLog => "s3-access-log",
            Format::Cloudfront => "cloudfront",
        }
    }
}

/// The requests of a log that are not object accesses, or not whole ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Requests {
    /// Answered with an error (4xx/5xx): skipped, no object served.
    pub failed: usize,
    /// Of those, the ones the bill still counts (S3: 4xx). The same for every policy, so not
    /// in any policy's cost.
    pub billed_errors: usize,
    /// Range reads, replayed as whole GETs (the request is billed the same; retrieval per GB is
    /// charged on the whole object, an upper bound).
    pub partial_reads: usize,
    /// CDN edge-cache hits: never reached the bucket, skipped.
    pub edge_hits: usize,
    /// Bucket-level and other non-object operations, skipped.
    pub other: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
    pub text: String,
}

/// A parsed trace, in time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub events: Vec<TraceEvent>,
    /// Lines read (blank lines included).
    pub lines: usize,
    pub bad: usize,
    pub first_bad: Vec<BadLine>,
    pub requests: Requests,
}

impl Trace {
    fn reject(&mut self, line: usize, reason: impl Into<String>, text: &str) {
        BadLine::keep(&mut self.first_bad, &mut self.bad, line, reason, text);
    }
}

impl BadLine {
    /// Counts a bad line in `count` and keeps the first few of them in `kept`.
    pub fn keep(kept: &mut Vec<BadLine>, count: &mut usize, line: usize, reason: impl Into<String>, text: &str) {
        *count += 1;
        if kept.len() < KEPT {
            kept.push(BadLine {
                line,
                reason: reason.into(),
                text: text.chars().take(200).collect(),
            });
        }
    }
}

/// Reads a whole trace. I/O errors end it; malformed lines are counted and skipped.
pub fn read(input: impl BufRead, format: Format) -> std::io::Result<Trace> {
    let mut t = Trace::default();
    let mut cloudfront = super::cloudfront::Fields::default();
    if format == Format::Csv {
        read_csv(input, &mut t)?;
    } else {
        for (i, line) in input.split(b'\n').enumerate() {
            let raw = line?;
            t.lines += 1;
            let text = String::from_utf8_lossy(&raw);
            let text = text.trim_end_matches('\r');
            if text.trim().is_empty() {
                continue;
            }
            let parsed = match format {
                Format::Clf => clf_line(text),
                Format::S3AccessLog => super::s3_log::line(text),
                Format::Cloudfront => cloudfront.line(text),
                _ => jsonl_line(text).map(Line::Access),
            };
            let r = &mut t.requests;
            match parsed {
                Ok(Line::Access(e)) => t.events.push(e),
                Ok(Line::Partial(e)) => {
                    r.partial_reads += 1;
                    t.events.push(e);
                }
                Ok(Line::Failed { billed }) => {
                    r.failed += 1;
                    r.billed_errors += usize::from(billed);
                }
                Ok(Line::EdgeHit) => r.edge_hits += 1,
                Ok(Line::Other) => r.other += 1,
                Ok(Line::Header) => {}
                Err(why) => t.reject(i + 1, why, text),
            }
        }
    }
    // Stable: equal timestamps keep their order in the file.
    t.events.sort_by_key(|e| e.ts_ms);
    Ok(t)
}

/// Opens a trace file, gunzipping it when its name ends in `.gz` (CloudFront delivers its logs
/// so, S3 Inventory its CSVs).
pub fn open(path: &std::path::Path) -> std::io::Result<Box<dyn BufRead>> {
    let file = std::fs::File::open(path)?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    })
}

/// One CLF line: `host [ident user] [date] "METHOD path PROTO" status bytes [referer agent]`.
fn clf_line(line: &str) -> Result<Line, String> {
    let open = line.find('[').ok_or("no [date]")?;
    let close = open + line[open..].find(']').ok_or("unclosed [date]")?;
    let ts_ms = clf_date(&line[open + 1..close])?;
    let rest = &line[close + 1..];
    let q1 = rest.find('"').ok_or("no \"request\"")?;
    // The request ends at the first quote followed by a status code: requests in real logs
    // sometimes carry quotes of their own (`GET /a.gif alt="" HTTP/1.0`).
    let q2 = rest[q1 + 1..]
        .match_indices('"')
        .map(|(i, _)| q1 + 1 + i)
        .find(|q| {
            rest[q + 1..]
                .split_whitespace()
                .next()
                .and_then(|t| t.parse::<u16>().ok())
                .is_some_and(|c| (100..=599).contains(&c))
        })
        .ok_or("no \"request\" followed by a status")?;
    let request = &rest[q1 + 1..q2];
    let mut parts = request.split_whitespace();
    let method = parts.next().ok_or("empty request")?;
    let path = parts.next().ok_or("no path in the request")?;
    let op = match method.to_ascii_uppercase().as_str() {
        "GET" => Op::Get,
        "HEAD" => Op::Head,
        "PUT" | "POST" => Op::Put,
        "DELETE" => Op::Delete,
        other => return Err(format!("unknown method {other}")),
    };
    let mut tail = rest[q2 + 1..].split_whitespace();
    let status: u16 = tail
        .next()
        .ok_or("no status")?
        .parse()
        .map_err(|_| "status is not a number")?;
    let bytes = tail.next().ok_or("no size")?;
    if status >= 400 {
        return Ok(Line::Failed { billed: false });
    }
    // `-` (no body), 304 Not Modified and 206 Partial Content say nothing of the object's size.
    let size = match bytes {
        "-" => None,
        b => {
            let n: u64 = b.parse().map_err(|_| format!("size {b:?} is not a number"))?;
            (status != 304 && status != 206).then_some(n)
        }
    };
    // The query string is part of the request, not of the object.
    let key = path.split('?').next().unwrap_or(path);
    if key.is_empty() {
        return Err("empty path".into());
    }
    let e = TraceEvent {
        ts_ms,
        key: key.to_string(),
        size,
        op,
    };
    Ok(if status == 206 {
        Line::Partial(e)
    } else {
        Line::Access(e)
    })
}

/// One JSON access event, decoded by the same codec as live ingest; it must carry a timestamp.
fn jsonl_line(line: &str) -> Result<TraceEvent, String> {
    // The codec fills a missing ts with "now": make now a value no real timestamp has.
    const NOW: Millis = Millis::MAX / 4;
    let ctx = DecodeContext {
        now_ms: NOW,
        max_future_ms: 0,
    };
    let e = codec::decode(line.as_bytes(), ctx).map_err(|r| format!("{}: {}", r.reason.label(), r.detail))?;
    if e.ts == NOW {
        return Err("no ts".into());
    }
    Ok(TraceEvent {
        ts_ms: e.ts,
        key: e.key,
        size: e.size,
        op: e.op,
    })
}

/// `ts,key,size,op` with an optional header row; ts in epoch seconds or ms (told apart by
/// magnitude, as in the codec) and size empty or `-` when unknown.
fn read_csv(input: impl BufRead, t: &mut Trace) -> std::io::Result<()> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    for (i, rec) in r.records().enumerate() {
        t.lines += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) if e.is_io_error() => return Err(std::io::Error::other(e.to_string())),
            Err(e) => {
                t.reject(i + 1, e.to_string(), "");
                continue;
            }
        };
        let line = rec.position().map_or(i + 1, |p| p.line() as usize);
        let text = rec.iter().collect::<Vec<_>>().join(",");
        if i == 0 && rec.get(0) == Some("ts") {
            continue;
        }
        if rec.len() != 4 {
            t.reject(line, format!("{} fields, expected ts,key,size,op", rec.len()), &text);
            continue;
        }
        let ts = match rec[0].parse::<f64>().ok().and_then(codec::epoch_to_ms) {
            Some(ts) => ts,
            None => {
                t.reject(line, format!("bad ts {:?}", &rec[0]), &text);
                continue;
            }
        };
        if rec[1].is_empty() {
            t.reject(line, "empty key", &text);
            continue;
        }
        let size = match &rec[2] {
            "" | "-" => None,
            s => match s.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    t.reject(line, format!("bad size {s:?}"), &text);
                    continue;
                }
            },
        };
        let op = match rec[3].to_ascii_uppercase().as_str() {
            "GET" => Op::Get,
            "HEAD" => Op::Head,
            "PUT" => Op::Put,
            "DELETE" => Op::Delete,
            other => {
                t.reject(line, format!("unknown op {other:?}"), &text);
                continue;
            }
        };
        t.events.push(TraceEvent {
            ts_ms: ts,
            key: rec[1].to_string(),
            size,
            op,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(s: &str, f: Format) -> Trace {
        read(s.as_bytes(), f).unwrap()
    }

    #[test]
    fn clf_in_both_date_styles_with_304_dashes_errors_and_bad_lines() {
        let t = read_str(
            r#"port11.annex1.naples.net [30:00:00:02] "GET /icons/a.gif HTTP/1.0" 200 2624
h2 - - [30/Aug/1995:00:00:01 -0400] "GET /index.html?x=1 HTTP/1.0" 304 0
h3 [30:00:00:05] "HEAD /b HTTP/1.0" 200 -
h4 [30:00:00:06] "GET /missing HTTP/1.0" 404 -
h5 [30:00:00:07] "GET /c HTTP/1.0" 200 12 "http://ref" "Mozilla/4.0"
garbage line
h6 [30:99:00:00] "GET /d HTTP/1.0" 200 1
h7 [30:00:00:08] "FETCH /e HTTP/1.0" 200 1
h8 [30:00:00:09] "GET /f HTTP/1.0" 200 12x

h9 [30:00:00:10] "GET /g HTTP/1.0" 200 38
h10 [30:00:00:11] "GET /h.gifalt="" HTTP/1.0" 200 5"#,
            Format::Clf,
        );
        let mut keys: Vec<&str> = t.events.iter().map(|e| e.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["/b", "/c", "/g", "/h.gifalt=\"\"", "/icons/a.gif", "/index.html"]
        );
        let a = t.events.iter().find(|e| e.key == "/icons/a.gif").unwrap();
        assert_eq!((a.ts_ms, a.size, a.op), ((30 * 86_400 + 2) * 1000, Some(2624), Op::Get));
        let idx = t.events.iter().find(|e| e.key == "/index.html").unwrap();
        assert_eq!(idx.size, None, "304 says nothing about the size");
        assert_eq!(idx.ts_ms, 809_755_201_000, "30 Aug 1995 04:00:01 UTC");
        assert_eq!(t.events.iter().find(|e| e.key == "/b").unwrap().op, Op::Head);
        assert_eq!(t.requests.failed, 1);
        assert_eq!(t.requests.billed_errors, 0);
        assert_eq!(t.bad, 4);
        assert_eq!(t.lines, 12);
        let lines: Vec<usize> = t.first_bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [6, 7, 8, 9]);
        assert!(t.first_bad[2].reason.contains("unknown method FETCH"));
        // Sorted by time: the CLF-dated line (1995 epoch) sorts by its own clock, the archive
        // style by its day offset; a trace mixes neither in practice.
        assert!(t.events.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms));
    }

    #[test]
    fn every_format_has_the_name_format_takes() {
        assert_eq!(Format::names(), "clf, jsonl, csv, s3-access-log, cloudfront");
        for f in <Format as clap::ValueEnum>::value_variants().iter().copied() {
            let clap_name = clap::ValueEnum::to_possible_value(&f).map(|v| v.get_name().to_string());
            assert_eq!(
                clap_name.as_deref(),
                Some(f.name()),
                "--format spells {f:?} as name() does"
            );
        }
    }

    #[test]
    fn jsonl_uses_the_codec_and_needs_a_timestamp() {
        let t = read_str(
            "{\"ts\": 1700000000, \"key\": \"a\", \"op\": \"GET\", \"size\": 10}\n\
             {\"key\": \"b\", \"op\": \"GET\"}\n\
             {\"ts\": 1700000001000, \"key\": \"c\", \"op\": \"put\"}\n\
             not json\n",
            Format::Jsonl,
        );
        assert_eq!(t.events.len(), 2);
        assert_eq!(t.events[0].ts_ms, 1_700_000_000_000);
        assert_eq!(t.events[1].op, Op::Put);
        assert_eq!(t.bad, 2);
        assert_eq!(t.first_bad[0].line, 2);
        assert_eq!(t.first_bad[0].reason, "no ts");
        assert!(
            t.first_bad[1].reason.starts_with("invalid_json"),
            "{}",
            t.first_bad[1].reason
        );
    }

    #[test]
    fn csv_with_header_unknown_sizes_and_bad_rows() {
        let t = read_str(
            "ts,key,size,op\n1700000000,a,10,GET\n1700000001,b,-,put\n1700000002,c,,HEAD\nxx,d,1,GET\n1700000003,e,1\n1700000004,f,1,COPY\n",
            Format::Csv,
        );
        let keys: Vec<&str> = t.events.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(t.events[1].size, None);
        assert_eq!(t.events[1].op, Op::Put);
        assert_eq!(t.bad, 3);
        assert_eq!(t.first_bad.iter().map(|b| b.line).collect::<Vec<_>>(), [5, 6, 7]);
    }
}
