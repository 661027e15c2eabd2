//! One batch applied in one transaction: per-key aggregation in event order, object rows,
//! rejections, offsets and the lifetime counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::batch::{Item, ObjectRecord, SourceBatch};
use crate::clock::Millis;
use crate::events::codec::Rejected;
use crate::events::{AccessEvent, Op};
use crate::store::ingest::{Accesses, Batch, KeyEffect, RejectedRow, write_batch};
use crate::store::{Connection, Store, StoreError, add_access};

/// Per-key effect of the events of one batch, folded in event order.
#[derive(Debug, Default)]
struct Agg {
    /// The last DELETE, if one happened: the row goes before anything that follows is applied.
    deleted_at: Option<Millis>,
    /// Accesses after the last DELETE (or all of them).
    live: Option<Accesses>,
}

impl Agg {
    fn add(&mut self, e: &AccessEvent) {
        if e.op == Op::Delete {
            *self = Agg {
                deleted_at: Some(e.ts),
                live: None,
            };
            return;
        }
        let a = self.live.get_or_insert_with(|| Accesses {
            first_ts: e.ts,
            last_ts: e.ts,
            ..Accesses::default()
        });
        a.first_ts = a.first_ts.min(e.ts);
        a.last_ts = a.last_ts.max(e.ts);
        match e.op {
            Op::Put => {
                a.writes += 1;
                a.last_put = Some(a.last_put.map_or(e.ts, |t| t.max(e.ts)));
                if e.size.is_some() {
                    a.size = e.size;
                }
            }
            _ => a.reads += 1,
        }
        add_access(&mut a.h, &mut a.hour_sin, &mut a.hour_cos, e.ts);
    }
}

/// Items accumulated for one transaction.
#[derive(Debug, Default)]
pub struct Pending {
    events: Vec<AccessEvent>,
    rejected: Vec<(String, Rejected)>,
    registers: Vec<ObjectRecord>,
    discovered: Vec<ObjectRecord>,
    offsets: BTreeMap<(String, i32), i64>,
    /// The last batch added came from a source that had caught up.
    pub(super) caught_up: bool,
    /// The lease generation of the shared-source batches in it (0: none).
    pub(super) generation: u64,
}

impl Pending {
    pub fn add(&mut self, b: SourceBatch) {
        self.caught_up = b.caught_up;
        self.generation = self.generation.max(b.generation);
        for item in b.items {
            match item {
                Item::Event(e) => self.events.push(e),
                Item::Rejected(r) => self.rejected.push((b.source.clone(), r)),
                Item::Register(o) => self.registers.push(o),
                Item::Discovered(o) => self.discovered.push(o),
            }
        }
        for (p, off) in b.offsets {
            let slot = self.offsets.entry((b.source.clone(), p)).or_insert(off);
            *slot = (*slot).max(off);
        }
    }

    pub fn events(&self) -> usize {
        self.events.len() + self.rejected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.rejected.is_empty()
            && self.registers.is_empty()
            && self.discovered.is_empty()
            && self.offsets.is_empty()
    }
}

/// What one applied batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub events: u64,
    pub rejected: u64,
    pub registered: u64,
    pub objects_touched: u64,
}

/// Applies `items` from `source` in one transaction on the writer, off the async threads (seeding,
/// inventory: writers outside the ingest loop).
pub async fn apply_items(
    store: &Arc<Store>,
    source: &str,
    items: Vec<Item>,
    now_ms: Millis,
) -> Result<Applied, StoreError> {
    let mut pending = Pending::default();
    pending.add(SourceBatch {
        source: source.into(),
        items,
        offsets: vec![],
        caught_up: false,
        generation: 0,
    });
    store.write(move |c| apply(c, &pending, now_ms, 0)).await
}

/// Applies `p` in one transaction: registrations, then per-key event effects, then rejections,
/// counters and offsets. Either all of it lands or none of it does.
pub fn apply(conn: &mut Connection, p: &Pending, now_ms: Millis, rejected_keep: u32) -> Result<Applied, StoreError> {
    let mut by_key: HashMap<&str, Agg> = HashMap::with_capacity(p.events.len() / 2 + 1);
    for e in &p.events {
        by_key.entry(e.key.as_str()).or_default().add(e);
    }
    // Key order keeps neighbouring rows together, so fewer pages are dirtied per batch.
    let mut aggs: Vec<(&str, Agg)> = by_key.into_iter().collect();
    aggs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let effects: Vec<KeyEffect<'_>> = aggs
        .iter()
        .map(|(key, a)| KeyEffect {
            key,
            deleted_at: a.deleted_at,
            accesses: a.live.as_ref(),
        })
        .collect();
    let rejected: Vec<RejectedRow<'_>> = p
        .rejected
        .iter()
        .map(|(source, r)| RejectedRow {
            source,
            reason: r.reason.label(),
            detail: &r.detail,
            raw: &r.raw,
        })
        .collect();
    let batch = Batch {
        registers: &p.registers,
        discovered: &p.discovered,
        effects: &effects,
        events: p.events.len() as u64,
        rejected: &rejected,
        rejected_keep,
        offsets: &p.offsets,
    };
    write_batch(conn, &batch, now_ms)?;
    Ok(Applied {
        events: p.events.len() as u64,
        rejected: p.rejected.len() as u64,
        registered: (p.registers.len() + p.discovered.len()) as u64,
        objects_touched: aggs.len() as u64,
    })
}
