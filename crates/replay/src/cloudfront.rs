//! CloudFront standard logs (W3C extended format): tab-separated fields named by the
//! `#Fields:` header. Edge-cache hits never reach the bucket, so only what went to the origin
//! (misses, refreshes, passes) is replayed as a read of the origin's object.

use super::log_line::{Line, TraceEvent};
use super::s3_log::decode_key;
use crate::engine::events::Op;

/// The columns a line needs, located by the last `#Fields:` header seen.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    date: usize,
    time: usize,
    method: usize,
    stem: usize,
    status: usize,
    /// The object's content length (later versions of the format); `sc-bytes` counts headers too.
    content_len: Option<usize>,
    result: Option<usize>,
    range_start: Option<usize>,
    count: usize,
    seen: bool,
}

impl Fields {
    fn from_header(names: &str) -> Result<Fields, String> {
        let names: Vec<&str> = names.split_whitespace().collect();
        let at = |n: &str| names.iter().position(|x| *x == n);
        let need = |n: &str| at(n).ok_or_else(|| format!("#Fields: has no {n}"));
        Ok(Fields {
            date: need("date")?,
            time: need("time")?,
            method: need("cs-method")?,
            stem: need("cs-uri-stem")?,
            status: need("sc-status")?,
            content_len: at("sc-content-len"),
            result: at("x-edge-result-type"),
            range_start: at("sc-range-start"),
            count: names.len(),
            seen: true,
        })
    }

    /// One line: a header (which names the columns from here on) or a request.
    pub fn line(&mut self, text: &str) -> Result<Line, String> {
        if let Some(h) = text.strip_prefix('#') {
            if let Some(names) = h.strip_prefix("Fields:") {
                *self = Fields::from_header(names)?;
            }
            return Ok(Line::Header);
        }
        if !self.seen {
            return Err("a request before any #Fields: header".into());
        }
        let f: Vec<&str> = text.split('\t').collect();
        if f.len() < self.count {
            return Err(format!("{} fields, #Fields: names {}", f.len(), self.count));
        }
        let when = format!("{} {}", f[self.date], f[self.time]);
        let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let ts_ms = time::PrimitiveDateTime::parse(&when, &fmt)
            .map(|t| (t.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
            .map_err(|e| format!("bad date {when:?}: {e}"))?;
        let status: u16 = f[self.status]
            .parse()
            .map_err(|_| format!("status {:?} is not a number", f[self.status]))?;
        let result = self.result.map(|i| f[i]);
        match result {
            Some("Hit") => return Ok(Line::EdgeHit),
            // Answered by the edge (an HTTP-to-HTTPS redirect): the origin never saw it.
            Some("Redirect") => return Ok(Line::Other),
            _ => {}
        }
        // CloudFront itself may fail (5xx from the edge); the origin bills only what reached it.
        if status >= 400 {
            return Ok(Line::Failed { billed: false });
        }
        let op = match f[self.method] {
            "GET" => Op::Get,
            "HEAD" => Op::Head,
            // PUT/POST/DELETE through CloudFront reach the origin like a direct request.
            "PUT" | "POST" => Op::Put,
            "DELETE" => Op::Delete,
            "OPTIONS" => return Ok(Line::Other),
            m => return Err(format!("unknown method {m:?}")),
        };
        let key = decode_key(f[self.stem])?;
        if key.is_empty() || key == "-" {
            return Err("empty cs-uri-stem".into());
        }
        let ranged = self.range_start.is_some_and(|i| f[i] != "-") || status == 206;
        let size = match self.content_len.map(|i| f[i]) {
            Some(n) if !ranged && status == 200 && n != "-" => {
                Some(n.parse().map_err(|_| format!("sc-content-len {n:?} is not a number"))?)
            }
            _ => None,
        };
        let e = TraceEvent { ts_ms, key, size, op };
        Ok(if ranged { Line::Partial(e) } else { Line::Access(e) })
    }
}
