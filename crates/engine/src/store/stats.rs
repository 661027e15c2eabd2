//! An object's access statistics as the store keeps them, and the log-space decayed scores they use.

use serde::{Deserialize, Serialize};

use super::StoreError;
use super::conn::Row;
use crate::clock::Millis;

/// Time constants of the decayed access scores: 1 hour, 1 day, 1 week (engine seconds).
pub const DECAY_TAUS_SECS: [f64; 3] = [3_600.0, 86_400.0, 604_800.0];

const HOUR_MS: f64 = 3_600_000.0;

/// An object's access statistics as stored (in `objects` now, in `history` at past times).
/// Every field only summarises accesses up to the time it was read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsRow {
    pub size: u64,
    pub first_seen: Option<Millis>,
    pub last_access: Option<Millis>,
    pub reads: u64,
    pub writes: u64,
    pub h1: Option<f64>,
    pub h24: Option<f64>,
    pub h168: Option<f64>,
    pub hour_sin: f64,
    pub hour_cos: f64,
}

/// The stats columns, in the order `row_from` reads them.
pub(super) const STATS_COLS: &str = "size, first_seen, last_access, reads, writes, h1, h24, h168, hour_sin, hour_cos";

/// The stats of a result row whose `STATS_COLS` start at column `at`.
pub(crate) fn row_from(r: &Row<'_, '_>, at: usize) -> Result<StatsRow, StoreError> {
    Ok(StatsRow {
        size: r.get::<i64>(at)?.max(0) as u64,
        first_seen: r.get(at + 1)?,
        last_access: r.get(at + 2)?,
        reads: r.get::<i64>(at + 3)?.max(0) as u64,
        writes: r.get::<i64>(at + 4)?.max(0) as u64,
        h1: r.get(at + 5)?,
        h24: r.get(at + 6)?,
        h168: r.get(at + 7)?,
        hour_sin: r.get(at + 8)?,
        hour_cos: r.get(at + 9)?,
    })
}

/// Adds one access at `ts` to decayed scores (1 h, 1 d, 1 w) and the time-of-day profile: the one
/// update ingest (into its batch aggregate) and replay (into a row) both apply.
pub fn add_access(h: &mut [Option<f64>; 3], hour_sin: &mut f64, hour_cos: &mut f64, ts: Millis) {
    for (h, tau) in h.iter_mut().zip(DECAY_TAUS_SECS) {
        *h = log_add(*h, Some(score_of(ts, tau)));
    }
    let hour = (ts.rem_euclid(86_400_000)) as f64 / HOUR_MS;
    let angle = std::f64::consts::TAU * hour / 24.0;
    *hour_sin += angle.sin();
    *hour_cos += angle.cos();
}

/// Adds two log-space scores: ln(e^a + e^b), with NULL as "no accesses".
pub fn log_add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => {
            let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
            Some(hi + (lo - hi).exp().ln_1p())
        }
    }
}

/// The decayed access count at `now_ms` of a log-space score for time constant `tau_secs`.
pub fn decayed_count(score: Option<f64>, now_ms: Millis, tau_secs: f64) -> f64 {
    score.map_or(0.0, |h| (h - now_ms as f64 / 1000.0 / tau_secs).exp())
}

/// The log-space score contribution of one access at `ts_ms`.
pub fn score_of(ts_ms: Millis, tau_secs: f64) -> f64 {
    ts_ms as f64 / 1000.0 / tau_secs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_add_matches_direct_sum() {
        let a = 2.0f64;
        let b = 3.5f64;
        let direct = (a.exp() + b.exp()).ln();
        assert!((log_add(Some(a), Some(b)).unwrap() - direct).abs() < 1e-12);
        assert_eq!(log_add(None, Some(b)), Some(b));
        assert_eq!(log_add(None, None), None);
        // No overflow at engine-time magnitudes (seconds since 1970 / 1 h).
        let big = 500_000.0;
        assert!((log_add(Some(big), Some(big)).unwrap() - (big + 2f64.ln())).abs() < 1e-9);
    }
}
