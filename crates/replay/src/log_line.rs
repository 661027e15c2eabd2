//! One line of an access log, as every format's reader returns it, and the CLF date the web and
//! S3 logs share.

use crate::engine::clock::Millis;
use crate::engine::events::Op;

/// One access in a trace: when (ms, trace time), which object, how big if known, what.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    pub ts_ms: Millis,
    pub key: String,
    pub size: Option<u64>,
    pub op: Op,
}

/// What one well-formed line of a log says.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// An access to an object.
    Access(TraceEvent),
    /// A read of part of an object (a range): one GET on the bill like any other.
    Partial(TraceEvent),
    /// A request answered with an error; `billed` when the provider still bills the request
    /// (S3 bills 4xx, not 5xx). No object was served.
    Failed { billed: bool },
    /// Served from a CDN's edge cache: it never reached the bucket.
    EdgeHit,
    /// A request that neither reads nor writes an object (a listing, an ACL, a lifecycle
    /// transition, a multipart part).
    Other,
    /// A header or comment.
    Header,
}

/// `10/Oct/2000:13:55:36 -0700` (CLF) or `30:00:00:02` (day:hh:mm:ss, the Internet Traffic
/// Archive's EPA and SDSC traces; ms from the start of that month's day 0).
pub fn clf_date(s: &str) -> Result<Millis, String> {
    let fields: Vec<&str> = s.split(':').collect();
    if fields.len() == 4
        && fields
            .iter()
            .all(|f| f.chars().all(|c| c.is_ascii_digit()) && !f.is_empty())
    {
        let n: Vec<i64> = fields.iter().map(|f| f.parse().unwrap_or(0)).collect();
        if n[1] > 23 || n[2] > 59 || n[3] > 60 {
            return Err(format!("bad time {s}"));
        }
        return Ok((((n[0] * 24 + n[1]) * 60 + n[2]) * 60 + n[3]) * 1000);
    }
    let fmt = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
    );
    time::OffsetDateTime::parse(s, &fmt)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as Millis)
        .map_err(|e| format!("bad date {s:?}: {e}"))
}
