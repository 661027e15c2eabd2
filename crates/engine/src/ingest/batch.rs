//! What sources hand to ingest: events, rejections, objects found, and the offset they reach.

use crate::events::AccessEvent;
use crate::events::codec::Rejected;
pub use crate::store::ingest::ObjectRecord;
use crate::tiers::ObjectMeta;

impl ObjectRecord {
    /// An object as a listing or HEAD on `tier` found it (its creation time is unknown: the last
    /// modification stands in).
    pub fn found(key: String, tier: &str, meta: ObjectMeta) -> Self {
        Self {
            key,
            tier: tier.to_string(),
            size: meta.size,
            etag: Some(meta.etag),
            last_modified: meta.last_modified_ms,
            created: meta.last_modified_ms,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Event(AccessEvent),
    Rejected(Rejected),
    /// An object the engine itself wrote or seeded: the record is the truth.
    Register(ObjectRecord),
    /// An object found by listing a tier: it places an unknown or unplaced object, refreshes the
    /// metadata of one on the same tier, and never moves a pointer (a listed copy on another tier
    /// may be a migration in flight).
    Discovered(ObjectRecord),
}

/// What a source hands to ingest: items plus the next offset per partition once they are applied.
#[derive(Debug, Clone, Default)]
pub struct SourceBatch {
    pub source: String,
    pub items: Vec<Item>,
    pub offsets: Vec<(i32, i64)>,
    /// The source has read everything there is for now (a Kafka partition at its high watermark):
    /// nothing more is coming soon, so waiting out `batch_max_ms` would only delay the commit.
    pub caught_up: bool,
    /// A cluster node's Kafka batches carry the generation of the partitions it held when it
    /// fetched them; ingest commits none of an older generation (0: not a shared source).
    pub generation: u64,
}
