//! Per-object features at a time t, from the same stats row for live scoring and for training, so they cannot drift apart.

use crate::clock::Millis;
use crate::events::Op;
use crate::store::{DECAY_TAUS_SECS, decayed_count};
pub use crate::store::{StatsRow, add_access};

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
