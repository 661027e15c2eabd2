//! Command: the one control language. Keys, scenario steps and the daemon all speak it.

use serde::{Deserialize, Serialize};

use super::tiers::chaos::ChaosSettings;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Embedded workload: events per wall-clock second.
    SetEventRate {
        per_sec: f64,
    },
    /// Embedded workload: Zipf exponent of popularity.
    SetSkew {
        skew: f64,
    },
    /// Embedded workload: a flash crowd on `objects` cold objects, now.
    FlashCrowd {
        objects: usize,
    },
    /// Embedded workload: `objects` new objects uploaded at once.
    PutBurst {
        objects: usize,
    },
    /// Embedded workload: keep `objects` objects growing (written every half second) for
    /// `engine_secs`. Objects with a migration queued are chosen first, then cold ones.
    GrowObjects {
        objects: usize,
        engine_secs: u64,
    },
    /// Change a tier's capacity (the optimizer plans with it from its next run).
    SetCapacity {
        tier: String,
        bytes: u64,
    },
    /// Pause or resume the scenario being played (its clock stops; the engine runs on).
    PauseScenario {
        paused: bool,
    },
    /// Replace what is injected on a tier.
    Chaos {
        tier: String,
        settings: ChaosSettings,
    },
    /// Stop injecting on one tier, or on all of them.
    ChaosClear {
        tier: Option<String>,
    },
    PauseMigrations,
    ResumeMigrations,
    /// Failed tasks go back to pending with a fresh attempt count.
    RetryFailed,
    CancelTask {
        id: i64,
    },
    /// Move one object to a tier now (a manual migration).
    MigrateNow {
        key: String,
        tier: String,
    },
    /// Keep an object where it is (the planner never moves a pinned object), or release it.
    Pin {
        key: String,
        pinned: bool,
    },
    /// Explain this object in every snapshot from now on (the dashboard's detail view), or stop.
    Inspect {
        key: Option<String>,
    },
    /// List every tier again and register what is there.
    Rescan,
    /// Re-plan placement now.
    OptimizeNow,
    /// Retrain the hotness model now.
    RetrainNow,
}

impl Command {
    /// Commands that set how the engine runs (switches and knobs) rather than act on data: a
    /// scenario applies those it starts with before the engine has anything to act on.
    pub fn is_setting(&self) -> bool {
        matches!(
            self,
            Command::SetEventRate { .. }
                | Command::SetSkew { .. }
                | Command::SetCapacity { .. }
                | Command::Chaos { .. }
                | Command::ChaosClear { .. }
                | Command::PauseMigrations
                | Command::ResumeMigrations
        )
    }

    /// Commands that act on the embedded workload generator (nothing to act on with Kafka).
    pub fn drives_workload(&self) -> bool {
        matches!(
            self,
            Command::SetEventRate { .. }
                | Command::SetSkew { .. }
                | Command::FlashCrowd { .. }
                | Command::PutBurst { .. }
                | Command::GrowObjects { .. }
        )
    }
}
