//! What an event source shares with the engine: the controls Commands set, and the state, lag and
//! workload it reports for the snapshot.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::config::SourceKind;
use crate::sync::lock;

/// Where a source is in its life; the header, `/readyz` and scenarios read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    /// Not heard from yet.
    #[default]
    Starting,
    /// Embedded: writing the first objects onto the landing tier.
    Seeding,
    /// Embedded: generating events.
    Running,
    /// Kafka: reaching the brokers for the first time.
    Connecting,
    /// Kafka: consuming.
    Connected,
    /// Kafka: the connection was lost; retrying.
    Reconnecting,
    Stopped,
}

impl SourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Starting => "starting",
            SourceState::Seeding => "seeding",
            SourceState::Running => "running",
            SourceState::Connecting => "connecting",
            SourceState::Connected => "connected",
            SourceState::Reconnecting => "reconnecting",
            SourceState::Stopped => "stopped",
        }
    }

    /// Events flow: the embedded source runs or Kafka is connected.
    pub fn is_up(self) -> bool {
        matches!(self, SourceState::Running | SourceState::Connected)
    }
}

impl std::fmt::Display for SourceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Controls and state shared between the engine and its event source (Commands in, status out).
#[derive(Debug, Default)]
pub struct SourceShared {
    /// Embedded workload controls, taken by the generator on its next tick.
    pub rate: Mutex<Option<f64>>,
    pub skew: Mutex<Option<f64>>,
    /// A flash crowd on this many cold objects, taken on the next tick.
    pub flash: Mutex<Option<usize>>,
    /// New objects to write at once (a bulk upload), taken on the next tick.
    pub put_burst: Mutex<Option<usize>>,
    /// Objects to keep growing: how many, for how long (engine ms).
    pub grow: Mutex<Option<(usize, i64)>>,
    /// The embedded workload's parameters (None for Kafka).
    pub view: Mutex<Option<WorkloadView>>,
    pub state: Mutex<SourceView>,
    /// Kafka: per-partition position and lag.
    pub partitions: Mutex<Vec<PartitionView>>,
}

impl SourceShared {
    /// Controls for a source of this kind, its state `Starting` until it says otherwise.
    pub fn new(kind: SourceKind) -> SourceShared {
        SourceShared {
            state: Mutex::new(SourceView {
                kind,
                ..SourceView::default()
            }),
            ..SourceShared::default()
        }
    }

    pub fn set_state(&self, state: SourceState, detail: String) {
        let mut s = lock(&self.state);
        s.state = state;
        s.detail = detail;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceView {
    pub kind: SourceKind,
    pub state: SourceState,
    pub detail: String,
    /// Kafka: position and lag of every partition.
    pub partitions: Vec<PartitionView>,
    /// Kafka: records on the broker not yet ingested, all partitions.
    pub lag: u64,
}

impl SourceView {
    /// The source runs (embedded) or is connected (Kafka).
    pub fn is_up(&self) -> bool {
        self.state.is_up()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartitionView {
    pub partition: i32,
    /// The next offset ingest will read (everything before it is committed or on its way).
    pub next_offset: i64,
    pub high_watermark: i64,
    pub lag: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadView {
    pub rate: f64,
    pub skew: f64,
    pub flash_key: Option<String>,
    /// Objects the current flash crowd spans.
    pub flash_objects: usize,
    /// Objects being written continuously right now.
    pub growing: Vec<String>,
}
