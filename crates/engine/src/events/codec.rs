//! JSON codec for access events: dim's own format and the seed's, with validation and a reason for every rejection.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{AccessEvent, Op};
use crate::clock::Millis;

pub const MAX_KEY_BYTES: usize = 1024;
/// S3's largest object; anything bigger is not a real size.
pub const MAX_SIZE_BYTES: u64 = 5 * (1 << 40);
/// Raw payload kept with a rejected event.
pub const MAX_RAW_KEPT: usize = 2048;

/// Why an event was rejected. The label is stable (metrics, the rejected-events table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
    InvalidJson,
    MissingKey,
    KeyTooLong,
    KeyHasNul,
    UnknownOp,
    BadSize,
    BadTs,
    FutureTs,
}

impl RejectReason {
    pub const ALL: [RejectReason; 8] = [
        RejectReason::InvalidJson,
        RejectReason::MissingKey,
        RejectReason::KeyTooLong,
        RejectReason::KeyHasNul,
        RejectReason::UnknownOp,
        RejectReason::BadSize,
        RejectReason::BadTs,
        RejectReason::FutureTs,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RejectReason::InvalidJson => "invalid_json",
            RejectReason::MissingKey => "missing_key",
            RejectReason::KeyTooLong => "key_too_long",
            RejectReason::KeyHasNul => "key_has_nul",
            RejectReason::UnknownOp => "unknown_op",
            RejectReason::BadSize => "bad_size",
            RejectReason::BadTs => "bad_ts",
            RejectReason::FutureTs => "future_ts",
        }
    }
}

/// A rejected event: its reason, a human detail and (a bounded copy of) the raw payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub reason: RejectReason,
    pub detail: String,
    pub raw: String,
}

/// What the decoder needs from the engine: its clock and the allowed future skew.
#[derive(Debug, Clone, Copy)]
pub struct DecodeContext {
    pub now_ms: Millis,
    pub max_future_ms: Millis,
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow, default)]
    key: Option<&'a RawValue>,
    #[serde(borrow, default)]
    op: Option<Cow<'a, str>>,
    /// The seed's field: "read" | "write".
    #[serde(borrow, default)]
    action: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    ts: Option<&'a RawValue>,
    #[serde(borrow, default)]
    size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    client: Option<Cow<'a, str>>,
}

fn reject(reason: RejectReason, detail: impl Into<String>, raw: &[u8]) -> Rejected {
    let end = raw.len().min(MAX_RAW_KEPT);
    Rejected {
        reason,
        detail: detail.into(),
        raw: String::from_utf8_lossy(&raw[..end]).into_owned(),
    }
}

/// Decodes and validates one payload. Never panics, whatever the bytes.
pub fn decode(raw: &[u8], ctx: DecodeContext) -> Result<AccessEvent, Rejected> {
    let wire: Wire = serde_json::from_slice(raw).map_err(|e| reject(RejectReason::InvalidJson, e.to_string(), raw))?;

    let key = checked_key(wire.key, raw)?;

    let op = match (wire.op.as_deref(), wire.action.as_deref()) {
        (Some(op), _) => parse_op(op),
        (None, Some(action)) => parse_action(action),
        (None, None) => None,
    }
    .ok_or_else(|| {
        let got = wire.op.as_deref().or(wire.action.as_deref()).unwrap_or("nothing");
        reject(
            RejectReason::UnknownOp,
            format!("op must be GET, PUT, HEAD or DELETE (or action read/write), got {got:?}"),
            raw,
        )
    })?;

    let size = checked_size(wire.size, raw)?;

    let ts = match wire.ts {
        None => ctx.now_ms,
        Some(v) if v.get() == "null" => ctx.now_ms,
        Some(v) => parse_ts(v.get()).map_err(|d| reject(RejectReason::BadTs, d, raw))?,
    };
    if ts > ctx.now_ms + ctx.max_future_ms {
        return Err(reject(
            RejectReason::FutureTs,
            format!("ts is {} s ahead of the engine clock", (ts - ctx.now_ms) / 1000),
            raw,
        ));
    }

    Ok(AccessEvent {
        ts,
        key,
        op,
        size,
        client: wire.client.map(Cow::into_owned),
    })
}

/// The event's key, if it is a non-empty string within the length limit and without NUL.
fn checked_key(key: Option<&RawValue>, raw: &[u8]) -> Result<String, Rejected> {
    let key: String = match key {
        None => return Err(reject(RejectReason::MissingKey, "no \"key\" field", raw)),
        Some(v) => match serde_json::from_str::<Cow<str>>(v.get()) {
            Ok(k) => k.into_owned(),
            Err(_) => {
                return Err(reject(
                    RejectReason::MissingKey,
                    format!("\"key\" is not a string: {}", v.get()),
                    raw,
                ));
            }
        },
    };
    if key.is_empty() {
        return Err(reject(RejectReason::MissingKey, "\"key\" is empty", raw));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(reject(
            RejectReason::KeyTooLong,
            format!("key is {} bytes, the limit is {MAX_KEY_BYTES}", key.len()),
            raw,
        ));
    }
    if key.contains('\0') {
        return Err(reject(RejectReason::KeyHasNul, "key contains a NUL character", raw));
    }
    Ok(key)
}

/// The event's size, if given: a whole number of bytes up to 5 TiB (`null` is no size).
fn checked_size(size: Option<&RawValue>, raw: &[u8]) -> Result<Option<u64>, Rejected> {
    Ok(match size {
        None => None,
        Some(v) if v.get() == "null" => None,
        Some(v) => match v.get().parse::<u64>() {
            Ok(s) if s <= MAX_SIZE_BYTES => Some(s),
            Ok(s) => {
                return Err(reject(
                    RejectReason::BadSize,
                    format!("size {s} is larger than 5 TiB"),
                    raw,
                ));
            }
            Err(_) => {
                return Err(reject(
                    RejectReason::BadSize,
                    format!("size must be a whole number of bytes, got {}", v.get()),
                    raw,
                ));
            }
        },
    })
}

fn parse_op(s: &str) -> Option<Op> {
    match s.to_ascii_uppercase().as_str() {
        "GET" => Some(Op::Get),
        "PUT" => Some(Op::Put),
        "HEAD" => Some(Op::Head),
        "DELETE" => Some(Op::Delete),
        _ => None,
    }
}

fn parse_action(s: &str) -> Option<Op> {
    match s.to_ascii_lowercase().as_str() {
        "read" => Some(Op::Get),
        "write" => Some(Op::Put),
        "head" => Some(Op::Head),
        "delete" => Some(Op::Delete),
        _ => None,
    }
}

/// Epoch numbers are told apart by magnitude (the seed mixed seconds and milliseconds):
/// below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
pub fn epoch_to_ms(n: f64) -> Option<Millis> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let ms = if n < 1e11 {
        n * 1e3
    } else if n < 1e14 {
        n
    } else if n < 1e17 {
        n / 1e3
    } else {
        n / 1e6
    };
    Some(ms as Millis)
}

fn parse_ts(raw: &str) -> Result<Millis, String> {
    if raw.starts_with('"') {
        let s: String = serde_json::from_str(raw).map_err(|e| format!("bad ts string: {e}"))?;
        if let Ok(n) = s.trim().parse::<f64>() {
            return epoch_to_ms(n).ok_or_else(|| format!("ts {s:?} is not a valid epoch time"));
        }
        let t = OffsetDateTime::parse(&s, &Rfc3339)
            .map_err(|_| format!("ts {s:?} is neither an epoch number nor RFC 3339"))?;
        Ok((t.unix_timestamp_nanos() / 1_000_000) as Millis)
    } else {
        let n: f64 = raw
            .parse()
            .map_err(|_| format!("ts must be an epoch number or an RFC 3339 string, got {raw}"))?;
        epoch_to_ms(n).ok_or_else(|| format!("ts {raw} is not a valid epoch time"))
    }
}

/// Encodes an event in dim's own format (the embedded source skips this; `simulate` and benches use it).
pub fn encode(e: &AccessEvent) -> Vec<u8> {
    serde_json::to_vec(e).unwrap_or_default()
}
