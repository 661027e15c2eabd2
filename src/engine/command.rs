//! Command: the one control language. Keys, scenario steps and the daemon all speak it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Embedded workload: events per wall-clock second.
    SetEventRate { per_sec: f64 },
    /// Embedded workload: Zipf exponent of popularity.
    SetSkew { skew: f64 },
    /// Embedded workload: a flash crowd on a cold object, now.
    FlashCrowd,
}
