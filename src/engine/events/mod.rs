//! Access events: the type, the JSON codec with validation, the workload generator and the embedded source.

pub mod codec;
pub mod embedded;
pub mod generator;
pub mod kafka;

use crate::engine::sync::lock;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::engine::clock::Millis;
use crate::engine::snapshot::{PartitionView, SourceView, WorkloadView};

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
    pub fn set_state(&self, kind: &str, state: &str, detail: String) {
        let mut s = lock(&self.state);
        s.kind = kind.into();
        s.state = state.into();
        s.detail = detail;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Op {
    Get,
    Put,
    Head,
    Delete,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Get => "GET",
            Op::Put => "PUT",
            Op::Head => "HEAD",
            Op::Delete => "DELETE",
        }
    }
}

/// One access to one object, as ingested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEvent {
    /// Engine time of the access, ms since the Unix epoch.
    pub ts: Millis,
    pub key: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}
