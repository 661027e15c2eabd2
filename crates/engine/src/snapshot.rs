//! Snapshot: everything the UI and the metrics see, built off the UI task and published on a watch.

use serde::{Deserialize, Serialize};

use super::clock::Millis;
pub use super::events::source::{PartitionView, SourceView, WorkloadView};
use super::inventory::InventoryView;
use super::migrate::InFlightView;
use super::migrate::task::Task;
use super::model::ModelInfo;
use super::placement::explain::Explanation;
use super::placement::planner::PlanSummary;
use super::store::summary::{HotObject, StoreSummary};
use super::tiers::chaos::ChaosSettings;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierView {
    pub name: String,
    pub provider: String,
    pub backend: String,
    pub objects: u64,
    pub bytes: u64,
    /// None: unlimited (the tier sets no capacity).
    #[serde(default)]
    pub capacity_bytes: Option<u64>,
    pub latency_ms: f64,
    /// Storage cost of what the tier holds now, $/month.
    pub monthly_storage_cost: f64,
    /// Measured through the tier's decorator: moving average of operation latency.
    pub measured_latency_ms: f64,
    pub ops: u64,
    pub errors: u64,
    pub last_error: Option<String>,
    pub chaos: ChaosSettings,
}

/// The migration queue as the dashboard shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MigrationView {
    pub paused: bool,
    pub in_flight: Vec<InFlightView>,
    /// Newest deferred and failed tasks, with their reasons.
    pub deferred: Vec<Task>,
    /// Tasks waiting for an archived source to be restored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restoring: Vec<Task>,
    pub failed: Vec<Task>,
    pub recent_done: Vec<Task>,
    /// Since start.
    pub done: u64,
    pub failed_total: u64,
    pub deferred_total: u64,
    /// Deferrals because the object was being written (`file_growing`).
    pub deferred_growing: u64,
    pub cancelled: u64,
    pub retries: u64,
    pub bytes_moved: u64,
    pub mib_per_sec: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Engine time the snapshot describes.
    pub now_ms: Millis,
    /// How many commands the engine had applied when it was built: a client that sent one
    /// waits for a snapshot counting it, so the next status shows what it did.
    #[serde(default)]
    pub commands_applied: u64,
    pub clock_speed: f64,
    pub source: SourceView,
    pub store: StoreSummary,
    /// Events per wall-clock second over the last publishing interval.
    pub events_per_sec: f64,
    /// The last few intervals' rates, oldest first (for sparklines).
    pub events_per_sec_history: Vec<u64>,
    pub tiers: Vec<TierView>,
    pub hottest: Vec<HotObject>,
    pub workload: Option<WorkloadView>,
    pub migrations: MigrationView,
    pub model: ModelInfo,
    pub plan: Option<PlanSummary>,
    /// Total storage cost now, $/month.
    pub monthly_storage_cost: f64,
    pub last_commit_ms: f64,
    /// The explanation of the object `Command::Inspect` named, or why there is none.
    pub detail: Option<Explanation>,
    pub detail_error: Option<String>,
    /// The inventory scan of the tiers: progress and findings.
    pub inventory: InventoryView,
    /// The scenario being played, if any.
    pub scenario: Option<super::scenario::ScenarioView>,
    /// Every node of the cluster sharing the store, when this engine is one of them.
    #[serde(default)]
    pub cluster: Option<super::cluster::ClusterView>,
}
