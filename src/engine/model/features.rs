//! Per-object features at a time t, from the same stats row for live scoring and for training, so they cannot drift apart.

use serde::{Deserialize, Serialize};

use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::store::{DECAY_TAUS_SECS, decayed_count, log_add, score_of};

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

impl StatsRow {
    /// The row after one more access (not a DELETE: that ends the row), as ingest would store it.
    pub fn record(&mut self, ts: Millis, op: Op, size: Option<u64>) {
        self.first_seen = Some(self.first_seen.map_or(ts, |f| f.min(ts)));
        self.last_access = Some(self.last_access.map_or(ts, |l| l.max(ts)));
        if op == Op::Put {
            self.writes += 1;
            if let Some(s) = size {
                self.size = s;
            }
        } else {
            self.reads += 1;
        }
        let mut h = [self.h1, self.h24, self.h168];
        add_access(&mut h, &mut self.hour_sin, &mut self.hour_cos, ts);
        [self.h1, self.h24, self.h168] = h;
    }
}

pub const NAMES: [&str; 13] = [
    "log_recent_1h",
    "log_recent_1d",
    "log_recent_1w",
    "log_hours_since_access",
    "log_age_hours",
    "log_size",
    "write_share",
    "trend_1h_vs_1d",
    "profile_sin",
    "profile_cos",
    "now_sin",
    "now_cos",
    "log_accesses",
];
pub const N: usize = NAMES.len();

const HOUR_MS: f64 = 3_600_000.0;

/// Decayed access counts (1 h, 1 d, 1 w time constants) at `t`.
pub fn recent(row: &StatsRow, t: Millis) -> [f64; 3] {
    [
        decayed_count(row.h1, t, DECAY_TAUS_SECS[0]),
        decayed_count(row.h24, t, DECAY_TAUS_SECS[1]),
        decayed_count(row.h168, t, DECAY_TAUS_SECS[2]),
    ]
}

/// The feature vector of `row` at time `t` (engine ms). Uses nothing but `row` and `t`.
pub fn features(row: &StatsRow, t: Millis) -> [f64; N] {
    let [c1h, c1d, c1w] = recent(row, t);
    let since = row
        .last_access
        .map_or(24.0 * 365.0, |la| ((t - la).max(0) as f64) / HOUR_MS);
    let age = row.first_seen.map_or(0.0, |fs| ((t - fs).max(0) as f64) / HOUR_MS);
    let n = (row.reads + row.writes) as f64;
    let (ps, pc) = if n > 0.0 {
        (row.hour_sin / n, row.hour_cos / n)
    } else {
        (0.0, 0.0)
    };
    let hour = (t.rem_euclid(86_400_000)) as f64 / HOUR_MS;
    let angle = std::f64::consts::TAU * hour / 24.0;
    [
        c1h.ln_1p(),
        c1d.ln_1p(),
        c1w.ln_1p(),
        since.ln_1p(),
        age.ln_1p(),
        (row.size as f64).ln_1p(),
        if n > 0.0 { row.writes as f64 / n } else { 0.0 },
        ((c1h * 24.0 + 0.1) / (c1d + 0.1)).ln(),
        ps,
        pc,
        angle.sin(),
        angle.cos(),
        n.ln_1p(),
    ]
}
