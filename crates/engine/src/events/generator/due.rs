//! A scheduled access to an upload: what the workload's queue of coming reads and deletes holds.

use crate::clock::Millis;
use crate::events::Op;

/// One scheduled access to an upload, ordered by time (then by when it was scheduled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Due {
    pub at: Millis,
    pub seq: u64,
    pub key: String,
    pub op: Op,
    pub size: u64,
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
