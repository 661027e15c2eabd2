//! One batch applied in one transaction: per-key aggregation in event order, object rows,
//! rejections, offsets and the lifetime counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use super::batch::{Item, ObjectRecord, SourceBatch};
use crate::engine::clock::Millis;
use crate::engine::events::codec::{RejectReason, Rejected};
use crate::engine::events::{AccessEvent, Op};
use crate::engine::store::{LIFETIMES_DELETED, LIFETIMES_LIVED_MS, Store, StoreError, advance_engine_time};

/// Per-key effect of the events of one batch, folded in event order.
#[derive(Debug, Default)]
struct Agg {
    /// A DELETE happened (the last one at `deleted_at`); the row goes before anything that
    /// follows is applied.
    deleted: bool,
    deleted_at: Millis,
    /// Events after the last DELETE (or all of them).
    live: bool,
    first_ts: Millis,
    last_ts: Millis,
    reads: i64,
    writes: i64,
    size: Option<u64>,
    last_put: Option<Millis>,
    h: [Option<f64>; 3],
    hour_sin: f64,
    hour_cos: f64,
}

impl Agg {
    fn add(&mut self, e: &AccessEvent) {
        if e.op == Op::Delete {
            *self = Agg {
                deleted: true,
                deleted_at: e.ts,
                ..Agg::default()
            };
            return;
        }
        if !self.live {
            self.first_ts = e.ts;
            self.last_ts = e.ts;
            self.live = true;
        }
        self.first_ts = self.first_ts.min(e.ts);
        self.last_ts = self.last_ts.max(e.ts);
        match e.op {
            Op::Put => {
                self.writes += 1;
                self.last_put = Some(self.last_put.map_or(e.ts, |t| t.max(e.ts)));
                if e.size.is_some() {
                    self.size = e.size;
                }
            }
            _ => self.reads += 1,
        }
        crate::engine::model::features::add_access(&mut self.h, &mut self.hour_sin, &mut self.hour_cos, e.ts);
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
}

impl Pending {
    pub fn add(&mut self, b: SourceBatch) {
        self.caught_up = b.caught_up;
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

/// A registration: the record is the truth. An object found in storage has existed since it was
/// created: that is its age, even before anyone reads it.
const REGISTER_SQL: &str = "INSERT INTO objects(key, tier, size, etag, last_modified, created, first_seen)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT(key) DO UPDATE SET tier = excluded.tier, size = excluded.size,
         etag = excluded.etag, last_modified = excluded.last_modified,
         first_seen = coalesce(first_seen, excluded.first_seen)";

/// A discovery: places an unknown or unplaced object, refreshes one on the same tier, never moves
/// a pointer.
const DISCOVERED_SQL: &str = "INSERT INTO objects(key, tier, size, etag, last_modified, created, first_seen)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT(key) DO UPDATE SET
         size = CASE WHEN tier IS NULL OR tier = excluded.tier THEN excluded.size ELSE size END,
         etag = CASE WHEN tier IS NULL OR tier = excluded.tier THEN excluded.etag ELSE etag END,
         last_modified = CASE WHEN tier IS NULL OR tier = excluded.tier
                              THEN excluded.last_modified ELSE last_modified END,
         tier = coalesce(tier, excluded.tier),
         first_seen = coalesce(first_seen, excluded.first_seen)";

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
    });
    let store = store.clone();
    tokio::task::spawn_blocking(move || apply(&mut store.writer(), &pending, now_ms, 0))
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
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
    let tx = conn.transaction()?;
    {
        for (sql, records) in [(REGISTER_SQL, &p.registers), (DISCOVERED_SQL, &p.discovered)] {
            let mut stmt = tx.prepare_cached(sql)?;
            for o in records {
                stmt.execute(params![
                    o.key,
                    o.tier,
                    o.size as i64,
                    o.etag,
                    o.last_modified,
                    o.created
                ])?;
            }
        }
        let mut del = tx.prepare_cached("DELETE FROM objects WHERE key = ?1 RETURNING first_seen")?;
        // How long deleted objects lived: the cost model's expected remaining life comes from it.
        let (mut deleted, mut lived_ms) = (0i64, 0i64);
        let mut up = tx.prepare_cached(
            "INSERT INTO objects(key, size, last_modified, created, first_seen, last_access, reads, writes,
                                 h1, h24, h168, hour_sin, hour_cos, stats_updated)
             VALUES (?1, coalesce(?2, 0), ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(key) DO UPDATE SET
                 size = coalesce(?2, size),
                 last_modified = coalesce(max(last_modified, ?3), last_modified, ?3),
                 first_seen = coalesce(min(first_seen, ?4), first_seen, ?4),
                 last_access = coalesce(max(last_access, ?5), last_access, ?5),
                 reads = reads + ?6,
                 writes = writes + ?7,
                 h1 = lse(h1, ?8),
                 h24 = lse(h24, ?9),
                 h168 = lse(h168, ?10),
                 hour_sin = hour_sin + ?11,
                 hour_cos = hour_cos + ?12,
                 stats_updated = ?13",
        )?;
        for (key, a) in &aggs {
            if a.deleted {
                let first: Option<Option<Millis>> = del.query_row([key], |r| r.get(0)).optional()?;
                if let Some(first) = first {
                    deleted += 1;
                    lived_ms += first.map_or(0, |f| (a.deleted_at - f).max(0));
                }
            }
            if a.live {
                up.execute(params![
                    key,
                    a.size.map(|s| s as i64),
                    a.last_put,
                    a.first_ts,
                    a.last_ts,
                    a.reads,
                    a.writes,
                    a.h[0],
                    a.h[1],
                    a.h[2],
                    a.hour_sin,
                    a.hour_cos,
                    now_ms,
                ])?;
            }
        }
        let mut counter = tx.prepare_cached(
            "INSERT INTO counters(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
        )?;
        if !p.events.is_empty() {
            counter.execute(params!["events.ingested", p.events.len() as i64])?;
        }
        if deleted > 0 {
            counter.execute(params![LIFETIMES_DELETED, deleted])?;
            counter.execute(params![LIFETIMES_LIVED_MS, lived_ms])?;
        }
        if !p.rejected.is_empty() {
            counter.execute(params!["events.rejected", p.rejected.len() as i64])?;
            let mut by_reason: BTreeMap<RejectReason, i64> = BTreeMap::new();
            for (_, r) in &p.rejected {
                *by_reason.entry(r.reason).or_default() += 1;
            }
            for (reason, n) in by_reason {
                counter.execute(params![format!("events.rejected.{}", reason.label()), n])?;
            }
            let mut rej = tx.prepare_cached(
                "INSERT INTO rejected_events(ts, source, reason, detail, raw) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            // Only the newest `rejected_keep` can survive the trim below; skip inserting the rest.
            let skip = p.rejected.len().saturating_sub(rejected_keep as usize);
            for (source, r) in p.rejected.iter().skip(skip) {
                rej.execute(params![now_ms, source, r.reason.label(), r.detail, r.raw])?;
            }
            tx.execute(
                "DELETE FROM rejected_events WHERE id <= (SELECT max(id) FROM rejected_events) - ?1",
                [i64::from(rejected_keep)],
            )?;
        }
        let mut off = tx.prepare_cached(
            "INSERT INTO offsets(source, partition, next_offset) VALUES (?1, ?2, ?3)
             ON CONFLICT(source, partition) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)",
        )?;
        for ((source, partition), next) in &p.offsets {
            off.execute(params![source, partition, next])?;
        }
        advance_engine_time(&tx, now_ms)?;
    }
    tx.commit()?;
    Ok(Applied {
        events: p.events.len() as u64,
        rejected: p.rejected.len() as u64,
        registered: (p.registers.len() + p.discovered.len()) as u64,
        objects_touched: aggs.len() as u64,
    })
}
