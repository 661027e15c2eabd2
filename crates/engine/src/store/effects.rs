//! What a batch of events does to each key it names: the ingest batch's per-key effects,
//! which both backends' writers apply.

use crate::clock::Millis;

/// What one key's accesses in a batch (after its last DELETE) add to its row.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Accesses {
    pub first_ts: Millis,
    pub last_ts: Millis,
    pub reads: i64,
    pub writes: i64,
    /// The size the last PUT that carried one gave.
    pub size: Option<u64>,
    pub last_put: Option<Millis>,
    /// Log-space decayed scores (1 h, 1 d, 1 w) of these accesses alone.
    pub h: [Option<f64>; 3],
    pub hour_sin: f64,
    pub hour_cos: f64,
}

/// One key's effect in a batch: a DELETE (the last one at `deleted_at`) removes its row before
/// the accesses that followed it are added.
#[derive(Debug, Clone, Copy)]
pub struct KeyEffect<'a> {
    pub key: &'a str,
    pub deleted_at: Option<Millis>,
    pub accesses: Option<&'a Accesses>,
}
