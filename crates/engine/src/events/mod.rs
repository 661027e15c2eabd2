//! Access events: the type, the JSON codec with validation, the workload generator and the embedded source.

mod broker;
pub mod codec;
pub mod embedded;
pub mod generator;
pub mod kafka;
mod kafka_partition;
pub mod source;

pub use source::{PartitionView, SourceShared, SourceState, SourceView, WorkloadView};

use serde::{Deserialize, Serialize};

use crate::clock::Millis;

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
