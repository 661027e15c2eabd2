//! Typed configuration: an embedded default (`config/default.toml`) with a user file layered over it.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(unreachable_pub)]

mod catalog;
mod invalid;
mod load;
mod sla;
mod suggest;
mod tier;
mod validate;
mod validate_store;

pub use catalog::{CATALOG_TOML, StorageClass, UnknownClass, classes as catalog_classes, fill as fill_class};
pub use load::{ConfigError, load, load_str, load_str_with, load_with};
pub use load::{Source, layered, overlay};
pub use sla::SlaConfig;
pub use suggest::closest;
pub use tier::{Backend, RestoreConfig, Sse, TierConfig, UNLIMITED_BYTES};
pub use validate::{Invalid, SectionCheck};

use serde::{Deserialize, Serialize};

/// A tier name the configuration does not have.
#[derive(Debug, thiserror::Error)]
#[error("no tier {name:?} in this configuration (tiers: {tiers})")]
pub struct UnknownTier {
    pub name: String,
    pub tiers: String,
}

/// The fewest labelled samples a forest trains on (the model refuses fewer; replay's training
/// size is checked against it).
pub const MIN_TRAIN_SAMPLES: usize = 200;

/// The embedded default configuration, also the reference for every field.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub store: StoreConfig,
    pub events: EventsConfig,
    pub tiers: Vec<TierConfig>,
    pub sla: SlaConfig,
    pub optimizer: OptimizerConfig,
    pub model: ModelConfig,
    pub migrator: MigratorConfig,
    pub chaos: ChaosConfig,
    pub clock: ClockConfig,
    pub ui: UiConfig,
    pub metrics: MetricsConfig,
    pub control: ControlConfig,
    pub replay: ReplayConfig,
    /// Dashboard key overrides: action name → keys (see `[keymap]` in config/default.toml).
    #[serde(default)]
    pub keymap: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub file: String,
    pub cache_mib: u32,
    /// A PostgreSQL store several nodes share (`postgres://user@host:port/db`); unset = the
    /// SQLite `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The environment variable holding the URL instead (a password kept out of the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// This node's name among the nodes sharing a PostgreSQL store (default: host, process id
    /// and start time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// How long a node's claims (its partitions, its tasks, its leadership) outlive its last
    /// heartbeat on a shared store: a node that dies loses them within this.
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u64,
}

fn default_lease_secs() -> u64 {
    10
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    #[default]
    Embedded,
    Kafka,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Embedded => "embedded",
            SourceKind::Kafka => "kafka",
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StartPolicy {
    Earliest,
    Latest,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    pub source: SourceKind,
    pub brokers: Vec<String>,
    pub topic: String,
    pub partitions: u32,
    pub replication: u16,
    pub start: StartPolicy,
    pub max_future_skew_secs: u64,
    pub batch_max_events: usize,
    pub batch_max_ms: u64,
    pub rejected_keep: u32,
    pub embedded: EmbeddedConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedConfig {
    pub rate: f64,
    pub skew: f64,
    pub dormant_share: f64,
    pub seed: u64,
    pub seed_objects: usize,
    pub seed_total_bytes: u64,
    pub max_objects: usize,
    pub landing_tier: String,
    pub put_fraction: f64,
    pub new_object_fraction: f64,
    pub head_fraction: f64,
    pub recent_share: f64,
    pub recent_tau_secs: f64,
    pub office_share: f64,
    pub diurnal_amplitude: f64,
    pub flash_every_secs: f64,
    pub flash_duration_secs: f64,
    pub flash_share: f64,
    pub size_median_bytes: u64,
    pub size_sigma: f64,
    pub size_max_bytes: u64,
    /// Share of new objects that follow the object-store shape: written, read a few times
    /// within their first hours, then never again; large; some deleted after weeks (uploads,
    /// logs, backups, build artifacts). 0 leaves every object to popularity.
    pub object_store_share: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    pub interval_secs: u64,
    pub migration_budget_bytes: u64,
    pub migration_budget_count: u64,
    pub min_residency_secs: u64,
    pub horizon_days: f64,
    /// A move is planned only when it saves its one-time costs (the move, minimum-duration
    /// charges, a likely return trip) times 1 + this, over the horizon.
    pub move_margin: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub retrain_every_secs: u64,
    pub horizon_secs: u64,
    pub hot_k: u32,
    pub sample_every_secs: u64,
    pub sample_cold: u32,
    pub history_retention_secs: u64,
    pub history_max_rows: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MigratorConfig {
    pub workers: usize,
    pub per_tier_concurrency: usize,
    pub growing_window_secs: u64,
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
    pub multipart_threshold_bytes: u64,
    /// Server-side copies above this many bytes are multipart (`UploadPartCopy`): S3 refuses a
    /// single `CopyObject` above 5 GiB.
    #[serde(default = "default_max_copy_bytes")]
    pub max_copy_bytes: u64,
    /// Done and cancelled tasks are forgotten this many seconds after they ended (failed ones
    /// stay until they are retried or cancelled); 0 keeps every task.
    #[serde(default = "default_keep_finished_secs")]
    pub keep_finished_secs: u64,
}

fn default_max_copy_bytes() -> u64 {
    5 << 30
}

fn default_keep_finished_secs() -> u64 {
    7 * 24 * 3600
}

/// The failure the chaos keys and steps inject on a tier, as an S3 endpoint would answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, strum::EnumIter, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum InjectedError {
    SlowDown,
    Throttled,
    Internal,
    Timeout,
    Reset,
}

impl InjectedError {
    /// The name a scenario, a config file and the logs spell it with.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Every kind's name, in declaration order (what a refusal lists).
    pub fn names() -> impl Iterator<Item = &'static str> + Clone {
        <Self as strum::IntoEnumIterator>::iter().map(Self::as_str)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChaosConfig {
    pub latency_steps_ms: Vec<u64>,
    pub error_rate_steps: Vec<f64>,
    pub error_kind: InjectedError,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    pub speed: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    pub theme: String,
    pub frame_gap_ms: u64,
    pub top_k: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of /metrics, /healthz and /readyz; empty = off.
    pub listen: String,
    /// Serve them from the dashboard too (the daemon always does when `listen` is set).
    #[serde(default)]
    pub dashboard: bool,
}

/// The control API (`dim ctl`, `dim attach`): a Unix socket in the data directory, and
/// optionally TCP with a bearer token.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// The socket, relative to the data directory (or absolute); "" = no socket.
    pub socket: String,
    /// Also serve on this TCP address; "" = off. Requires `token_file` or `token_env`.
    pub listen: String,
    /// A file holding the bearer token TCP clients must send.
    pub token_file: String,
    /// An environment variable holding the bearer token (when `token_file` is "").
    pub token_env: String,
}

/// `dim replay`: the cadence of the planning policies on the simulated clock, and the rules' parameters.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    pub time_scale: f64,
    pub plan_every_secs: u64,
    pub retrain_every_secs: u64,
    pub train_samples: usize,
    pub intelligent_tiering_days: Vec<f64>,
    pub fabricpool_cooling_days: f64,
    pub lifecycle_days: Vec<f64>,
    pub lru_share: f64,
    /// Every policy's final placement is charged for this many days after the trace.
    pub tail_days: f64,
    /// S3 Intelligent-Tiering does not monitor (never moves) objects smaller than this.
    pub intelligent_tiering_min_bytes: u64,
    /// Lifecycle transitions skip objects smaller than this.
    pub lifecycle_min_bytes: u64,
    /// A lifecycle transition into an IA class (a tier with a minimum billable size and no
    /// restore) happens no earlier than this many days after creation.
    pub lifecycle_ia_min_days: f64,
}

impl Config {
    /// The embedded default, which is valid by construction (a test checks it).
    pub fn embedded_default() -> Result<Config, Box<ConfigError>> {
        load_str(None, "")
    }

    pub fn tier(&self, name: &str) -> Option<&TierConfig> {
        self.tiers.iter().find(|t| t.name == name)
    }

    /// The tier `name`, or a refusal that lists the tiers there are (a command-line `--tier`).
    pub fn tier_named(&self, name: &str) -> Result<&TierConfig, UnknownTier> {
        self.tier(name).ok_or_else(|| UnknownTier {
            name: name.to_string(),
            tiers: self.tiers.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(", "),
        })
    }

    /// The tier new objects land on: `events.embedded.landing_tier`, or the first tier.
    pub fn landing_tier(&self) -> &TierConfig {
        self.tier(&self.events.embedded.landing_tier).unwrap_or(&self.tiers[0])
    }
}
