//! What an object of one size costs the oracle on each tier: storage rates, minimum durations,
//! and the cheapest chain of moves between any two tiers (Floyd–Warshall).

use crate::config::TierConfig;
use crate::engine::placement::billing::{min_storage_ms, move_cost, storage_rate_ms};

/// Per object size: storage rates, minimum durations, and the cheapest chain of moves between
/// any two tiers with its first hop.
pub(super) struct Prices {
    pub(super) rate: Vec<f64>,
    pub(super) min: Vec<f64>,
    pub(super) mc: Vec<Vec<f64>>,
    pub(super) next: Vec<Vec<usize>>,
}

impl Prices {
    pub(super) fn new(tiers: &[TierConfig], size: u64) -> Self {
        let n = tiers.len();
        let rate: Vec<f64> = tiers.iter().map(|t| storage_rate_ms(t, size)).collect();
        let min: Vec<f64> = tiers.iter().map(min_storage_ms).collect();
        let mut mc: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        if i == j {
                            0.0
                        } else {
                            move_cost(&tiers[i], &tiers[j], size)
                        }
                    })
                    .collect()
            })
            .collect();
        let mut next: Vec<Vec<usize>> = (0..n).map(|_| (0..n).collect()).collect();
        for k in 0..n {
            // Passing through k stays there 0 ms and pays its whole minimum.
            let pass = rate[k] * min[k];
            for i in 0..n {
                for j in 0..n {
                    if i != j && mc[i][k] + pass + mc[k][j] < mc[i][j] {
                        mc[i][j] = mc[i][k] + pass + mc[k][j];
                        next[i][j] = next[i][k];
                    }
                }
            }
        }
        Self { rate, min, mc, next }
    }
}
