//! Command: the one control language. Keys, scenario steps and the daemon all speak it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::tiers::chaos::ChaosSettings;

/// What the engine can be told. Each command's kind (`CommandKind`, generated from this enum)
/// is spelt as its JSON tag: the control API, scenario steps and logs share that one name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(tag = "command", rename_all = "snake_case")]
#[strum_discriminants(
    name(CommandKind),
    derive(Hash, strum::EnumIter, strum::IntoStaticStr, strum::EnumString),
    strum(serialize_all = "snake_case")
)]
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

impl CommandKind {
    /// The kind's name, as the command's JSON tag spells it.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        self.into()
    }

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

/// A command in the words the logs use: "chaos on aws-hot: latency 500 ms, 30 % throttled".
impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::SetEventRate { per_sec } => write!(f, "event rate {per_sec}/s"),
            Command::SetSkew { skew } => write!(f, "popularity skew {skew}"),
            Command::FlashCrowd { objects } => write!(f, "flash crowd on {objects} objects"),
            Command::PutBurst { objects } => write!(f, "burst of {objects} new objects"),
            Command::GrowObjects { objects, engine_secs } => {
                write!(f, "grow {objects} objects for {engine_secs} s")
            }
            Command::SetCapacity { tier, bytes } => write!(f, "capacity of {tier} to {bytes} bytes"),
            Command::PauseScenario { paused: true } => f.write_str("pause the scenario"),
            Command::PauseScenario { paused: false } => f.write_str("resume the scenario"),
            Command::Chaos { tier, settings } => write!(f, "chaos on {tier}: {settings}"),
            Command::ChaosClear { tier: Some(t) } => write!(f, "clear chaos on {t}"),
            Command::ChaosClear { tier: None } => f.write_str("clear chaos on every tier"),
            Command::PauseMigrations => f.write_str("pause migrations"),
            Command::ResumeMigrations => f.write_str("resume migrations"),
            Command::RetryFailed => f.write_str("retry failed tasks"),
            Command::CancelTask { id } => write!(f, "cancel task {id}"),
            Command::MigrateNow { key, tier } => write!(f, "migrate {key} to {tier} now"),
            Command::Pin { key, pinned: true } => write!(f, "pin {key}"),
            Command::Pin { key, pinned: false } => write!(f, "unpin {key}"),
            Command::Inspect { key: Some(k) } => write!(f, "inspect {k}"),
            Command::Inspect { key: None } => f.write_str("stop inspecting"),
            Command::Rescan => f.write_str("rescan every tier"),
            Command::OptimizeNow => f.write_str("plan placement now"),
            Command::RetrainNow => f.write_str("retrain the model now"),
        }
    }
}

/// Why the engine did not carry out a command. Every client shows it: the dashboard in its
/// footer, a scenario in its log, the control API as an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    #[error("no tier named {tier:?}")]
    UnknownTier { tier: String },
    #[error("no object {key:?}")]
    UnknownObject { key: String },
    #[error("task {id} is finished, cleaning up, or unknown")]
    UnknownTask { id: i64 },
    #[error("{field} = {value} is out of range: {expected}")]
    BadValue {
        field: String,
        value: f64,
        expected: String,
    },
    #[error("workload commands drive the embedded generator; events come from Kafka here")]
    WorkloadOnKafka,
    #[error("no scenario is playing")]
    NoScenario,
    #[error("an inventory scan is already running")]
    ScanRunning,
    #[error("{key} is already on {tier}, unplaced, or has a task in flight")]
    NothingToMove { key: String, tier: String },
    #[error("the store failed: {message}")]
    Store { message: String },
    #[error("the engine is busy; try again")]
    Busy,
    #[error("the engine has stopped")]
    Stopped,
    /// `dim attach`: the engine did not answer (or its answer could not be read).
    #[error("no answer from the engine: {message}")]
    Unreachable { message: String },
}

/// What the engine answers to a command: carried out, or refused and why.
pub type Answer = Result<(), Refusal>;

impl Command {
    /// Refuses values no engine could act on (a negative rate, a share over 100 %), before they
    /// reach the engine; what depends on the engine's state (tiers, objects) it checks itself.
    pub fn check(&self) -> Answer {
        let bad = |field: &str, value, expected: &str| {
            Err(Refusal::BadValue {
                field: field.to_string(),
                value,
                expected: expected.to_string(),
            })
        };
        match self {
            Command::SetEventRate { per_sec } if !(per_sec.is_finite() && *per_sec >= 0.0) => {
                bad("per_sec", *per_sec, "events per second, 0 or more")
            }
            Command::SetSkew { skew } if !(skew.is_finite() && *skew > 0.0) => {
                bad("skew", *skew, "a Zipf exponent above 0")
            }
            Command::Chaos { settings, .. } if !(0.0..=100.0).contains(&settings.error_rate) => {
                bad("error_rate", settings.error_rate, "a percentage from 0 to 100")
            }
            _ => Ok(()),
        }
    }
}

/// A command on its way to the engine, with where to send the answer.
pub(crate) struct Request {
    pub command: Command,
    pub answer: oneshot::Sender<Answer>,
}

/// The engine's command inbox, cloned by every client (dashboard, scenario player, tests).
#[derive(Clone)]
pub struct Commands {
    tx: mpsc::Sender<Request>,
    applied: Arc<AtomicU64>,
}

impl Commands {
    pub(crate) fn new(tx: mpsc::Sender<Request>, applied: Arc<AtomicU64>) -> Commands {
        Commands { tx, applied }
    }

    /// How many commands the engine has applied (accepted or refused): a snapshot whose
    /// `commands_applied` reaches it shows them all.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Sends a command and waits for the engine's answer.
    pub async fn send(&self, command: Command) -> Answer {
        command.check()?;
        let (answer, rx) = oneshot::channel();
        self.tx
            .send(Request { command, answer })
            .await
            .map_err(|_| Refusal::Stopped)?;
        rx.await.unwrap_or(Err(Refusal::Stopped))
    }

    /// Sends a command without waiting (the dashboard's loop): the answer arrives on the receiver.
    /// Refused at once when the value is bad, the inbox is full or the engine has stopped.
    pub fn submit(&self, command: Command) -> Result<oneshot::Receiver<Answer>, Refusal> {
        command.check()?;
        let (answer, rx) = oneshot::channel();
        self.tx.try_send(Request { command, answer }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Refusal::Busy,
            mpsc::error::TrySendError::Closed(_) => Refusal::Stopped,
        })?;
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    /// One command of each kind.
    fn one_of(kind: CommandKind) -> Command {
        use CommandKind as K;
        let (key, tier) = (String::from("k"), String::from("t"));
        match kind {
            K::SetEventRate => Command::SetEventRate { per_sec: 1.0 },
            K::SetSkew => Command::SetSkew { skew: 1.0 },
            K::FlashCrowd => Command::FlashCrowd { objects: 1 },
            K::PutBurst => Command::PutBurst { objects: 1 },
            K::GrowObjects => Command::GrowObjects {
                objects: 1,
                engine_secs: 1,
            },
            K::SetCapacity => Command::SetCapacity { tier, bytes: 1 },
            K::PauseScenario => Command::PauseScenario { paused: true },
            K::Chaos => Command::Chaos {
                tier,
                settings: ChaosSettings::default(),
            },
            K::ChaosClear => Command::ChaosClear { tier: None },
            K::PauseMigrations => Command::PauseMigrations,
            K::ResumeMigrations => Command::ResumeMigrations,
            K::RetryFailed => Command::RetryFailed,
            K::CancelTask => Command::CancelTask { id: 1 },
            K::MigrateNow => Command::MigrateNow { key, tier },
            K::Pin => Command::Pin { key, pinned: true },
            K::Inspect => Command::Inspect { key: None },
            K::Rescan => Command::Rescan,
            K::OptimizeNow => Command::OptimizeNow,
            K::RetrainNow => Command::RetrainNow,
        }
    }

    /// A kind's name is the command's JSON tag, so scenario steps, the API and logs agree.
    #[test]
    fn every_kind_is_named_as_its_json_tag() {
        for kind in CommandKind::iter() {
            let command = one_of(kind);
            assert_eq!(command.kind(), kind);
            let json = serde_json::to_value(&command).unwrap();
            assert_eq!(json["command"], kind.name(), "{command:?}");
            assert_eq!(kind.name().parse::<CommandKind>().ok(), Some(kind));
        }
    }
}
