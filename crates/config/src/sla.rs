//! The SLA: how fast a read must be, what a slower one costs, and which keys must never be slow.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    pub hot_latency_ms: f64,
    pub hot_threshold: f64,
    /// Dollars per read served slower than `hot_latency_ms` (a restore wait included): what the
    /// planner, the replay's meter, both oracles and capture add to the bill, so "good" means
    /// one thing everywhere. 0 prices latency at nothing. The default and why:
    /// `config/default.toml`.
    pub miss_cost: f64,
    /// Keys under these prefixes must never be served slower than the SLA (a hard constraint,
    /// as for pinned objects), whatever it costs.
    pub hard_prefixes: Vec<String>,
}

impl SlaConfig {
    /// `key` must never be served slower than the SLA.
    pub fn is_hard(&self, key: &str) -> bool {
        self.hard_prefixes.iter().any(|p| key.starts_with(p.as_str()))
    }
}
