//! The ingest batch as the store writes it: object records, per-key effects of events,
//! rejections, counters, offsets and engine time, all in one transaction.

use std::collections::BTreeMap;

use rusqlite::{CachedStatement, OptionalExtension, ToSql};

pub use super::effects::{Accesses, KeyEffect};
use super::{Connection, LIFETIMES_DELETED, LIFETIMES_LIVED_MS, StoreError, advance_engine_time};
use crate::clock::Millis;

/// An object found on a tier (seeded, created by a PUT, or listed by inventory).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRecord {
    pub key: String,
    pub tier: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Millis,
    pub created: Millis,
}

/// An event refused by the decoder, kept for `/v1/rejected`.
#[derive(Debug, Clone, Copy)]
pub struct RejectedRow<'a> {
    pub source: &'a str,
    /// The reason's label (`RejectReason::label`), also its counter's suffix.
    pub reason: &'a str,
    pub detail: &'a str,
    pub raw: &'a str,
}

/// Everything one ingest transaction writes.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Objects the engine wrote or seeded: the record is the truth.
    pub registers: &'a [ObjectRecord],
    /// Objects a listing found: they place unknown or unplaced objects, never move a pointer.
    pub discovered: &'a [ObjectRecord],
    /// Per-key effects, in key order (neighbouring rows together dirty fewer pages).
    pub effects: &'a [KeyEffect<'a>],
    /// Accepted events in the batch.
    pub events: u64,
    pub rejected: &'a [RejectedRow<'a>],
    /// How many rejected events the store keeps in all.
    pub rejected_keep: u32,
    /// The next offset per source and partition.
    pub offsets: &'a BTreeMap<(String, i32), i64>,
}

/// A registration: the record is the truth. An object found in storage has existed since it was
/// created: that is its age, even before anyone reads it.
const REGISTER_SQL: &str = "INSERT INTO objects(key, tier, size, etag, last_modified, created, first_seen)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT(key) DO UPDATE SET tier = excluded.tier, size = excluded.size,
         etag = excluded.etag, last_modified = excluded.last_modified,
         first_seen = coalesce(objects.first_seen, excluded.first_seen)";

/// What a discovery does to a known object: places it if it is unplaced, refreshes it if it is on
/// the same tier, never moves a pointer. (A macro so both upserts that discover share one text;
/// the row's columns are named with their table, as PostgreSQL requires beside `excluded`.)
macro_rules! discovered_set {
    () => {
        "size = CASE WHEN objects.tier IS NULL OR objects.tier = excluded.tier
                     THEN excluded.size ELSE objects.size END,
         etag = CASE WHEN objects.tier IS NULL OR objects.tier = excluded.tier
                     THEN excluded.etag ELSE objects.etag END,
         last_modified = CASE WHEN objects.tier IS NULL OR objects.tier = excluded.tier
                              THEN excluded.last_modified ELSE objects.last_modified END,
         tier = coalesce(objects.tier, excluded.tier),
         first_seen = coalesce(objects.first_seen, excluded.first_seen)"
    };
}
pub(super) use discovered_set;

/// A discovery (an object an event named, found by a HEAD).
const DISCOVERED_SQL: &str = concat!(
    "INSERT INTO objects(key, tier, size, etag, last_modified, created, first_seen)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT(key) DO UPDATE SET ",
    discovered_set!()
);

/// What a batch's accesses add to a key's row: ?1 key, ?2 last PUT, ?3 first and ?4 last access,
/// ?5 reads, ?6 writes, ?7–?9 scores, ?10–?11 hour of day, ?12 now. (A macro so both updates
/// share one text.)
macro_rules! accesses_set {
    () => {
        "last_modified = coalesce(max(last_modified, ?2), last_modified, ?2),
         first_seen = coalesce(min(first_seen, ?3), first_seen, ?3),
         last_access = coalesce(max(last_access, ?4), last_access, ?4),
         reads = reads + ?5,
         writes = writes + ?6,
         h1 = lse(h1, ?7),
         h24 = lse(h24, ?8),
         h168 = lse(h168, ?9),
         hour_sin = hour_sin + ?10,
         hour_cos = hour_cos + ?11,
         stats_updated = ?12"
    };
}

/// Adds accesses that carried no size (reads, HEADs) to a known key. `size` is left out of the
/// SET so the tier-totals trigger (`UPDATE OF tier, size`) is not even considered: on a store of
/// millions, most of a batch is reads of known keys, and a plain UPDATE of one row is cheaper
/// than an upsert that tries the insert first.
const ACCESSES_SQL: &str = concat!("UPDATE objects SET ", accesses_set!(), " WHERE key = ?1");

/// Adds accesses whose last PUT gave a size (?13) to a known key.
const ACCESSES_SIZED_SQL: &str = concat!("UPDATE objects SET size = ?13, ", accesses_set!(), " WHERE key = ?1");

/// A key first seen in this batch's accesses: its row.
const FIRST_ACCESSES_SQL: &str =
    "INSERT INTO objects(key, size, last_modified, created, first_seen, last_access, reads, writes,
                         h1, h24, h168, hour_sin, hour_cos, stats_updated)
     VALUES (?1, coalesce(?13, 0), ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/// Adds to this node's row of a counter (see schema migration 8: nodes never share one).
pub(super) const COUNTER_SQL: &str = "INSERT INTO counters(name, node, value) VALUES (?1, coalesce(dim_node(), ''), ?2)
     ON CONFLICT(name, node) DO UPDATE SET value = counters.value + excluded.value";

/// Writes `b` in one transaction at engine time `now_ms`: records, then per-key effects, then
/// rejections, counters and offsets. Either all of it lands or none of it does.
pub fn write_batch(conn: &mut Connection, b: &Batch<'_>, now_ms: Millis) -> Result<(), StoreError> {
    let tx = conn.begin()?;
    // A cluster node commits a partition's events only while it holds that partition's lease
    // (the row stays locked until the commit, so a node taking it over reads the offset after).
    if let Connection::Pg(pg) = &*tx
        && pg.node().is_some()
    {
        for (source, partition) in b.offsets.keys() {
            if !super::cluster::holds_partition(&tx, source, *partition)? {
                return Err(StoreError::LeaseLost {
                    topic: source.clone(),
                    partition: *partition,
                });
            }
        }
    }
    for (sql, records) in [(REGISTER_SQL, b.registers), (DISCOVERED_SQL, b.discovered)] {
        for o in records {
            tx.exec(
                sql,
                &[&o.key, &o.tier, &(o.size as i64), &o.etag, &o.last_modified, &o.created],
            )?;
        }
    }
    let (deleted, lived_ms) = match &*tx {
        Connection::Lite(c) => write_effects(c, b.effects, now_ms)?,
        Connection::Pg(c) => super::ingest_pg::write_effects(c, b.effects, now_ms)?,
    };
    let counter = |name: &str, n: i64| tx.exec(COUNTER_SQL, &[&name, &n]);
    if b.events > 0 {
        counter("events.ingested", b.events as i64)?;
    }
    if deleted > 0 {
        counter(LIFETIMES_DELETED, deleted)?;
        counter(LIFETIMES_LIVED_MS, lived_ms)?;
    }
    if !b.rejected.is_empty() {
        counter("events.rejected", b.rejected.len() as i64)?;
        let mut by_reason: BTreeMap<&str, i64> = BTreeMap::new();
        for r in b.rejected {
            *by_reason.entry(r.reason).or_default() += 1;
        }
        for (reason, n) in by_reason {
            counter(&format!("events.rejected.{reason}"), n)?;
        }
        keep_rejected(&tx, b.rejected, b.rejected_keep, now_ms)?;
    }
    for ((source, partition), next) in b.offsets {
        tx.exec(
            "INSERT INTO offsets(source, partition, next_offset) VALUES (?1, ?2, ?3)
             ON CONFLICT(source, partition) DO UPDATE SET next_offset = max(offsets.next_offset, excluded.next_offset)",
            &[source, partition, next],
        )?;
    }
    advance_engine_time(&tx, now_ms)?;
    tx.commit()
}

/// Applies per-key effects; returns how many objects were deleted and how long they lived in all
/// (the cost model's expected remaining life comes from it).
fn write_effects(
    tx: &rusqlite::Connection,
    effects: &[KeyEffect<'_>],
    now_ms: Millis,
) -> Result<(i64, i64), StoreError> {
    let mut del = tx.prepare_cached("DELETE FROM objects WHERE key = ?1 RETURNING first_seen")?;
    let mut add = AddAccesses {
        update: tx.prepare_cached(ACCESSES_SQL)?,
        update_sized: tx.prepare_cached(ACCESSES_SIZED_SQL)?,
        insert: tx.prepare_cached(FIRST_ACCESSES_SQL)?,
    };
    let (mut deleted, mut lived_ms) = (0i64, 0i64);
    for e in effects {
        if let Some(deleted_at) = e.deleted_at {
            let first: Option<Option<Millis>> = del.query_row([e.key], |r| r.get(0)).optional()?;
            if let Some(first) = first {
                deleted += 1;
                lived_ms += first.map_or(0, |f| (deleted_at - f).max(0));
            }
        }
        if let Some(a) = e.accesses {
            add.run(e.key, a, now_ms)?;
        }
    }
    Ok((deleted, lived_ms))
}

/// The statements that add a batch's accesses to a key's row, prepared once per batch.
struct AddAccesses<'c> {
    update: CachedStatement<'c>,
    update_sized: CachedStatement<'c>,
    insert: CachedStatement<'c>,
}

impl AddAccesses<'_> {
    /// Adds `a` to `key`'s row: an update of the row when there is one, else the row.
    fn run(&mut self, key: &str, a: &Accesses, now_ms: Millis) -> Result<(), StoreError> {
        let size = a.size.map(|s| s as i64);
        // ?1–?12 are every statement's; ?13, the size, only the sized update's and the insert's.
        let p: [&dyn ToSql; 13] = [
            &key,
            &a.last_put,
            &a.first_ts,
            &a.last_ts,
            &a.reads,
            &a.writes,
            &a.h[0],
            &a.h[1],
            &a.h[2],
            &a.hour_sin,
            &a.hour_cos,
            &now_ms,
            &size,
        ];
        let updated = match size {
            None => self.update.execute(&p[..12])?,
            Some(_) => self.update_sized.execute(&p[..])?,
        };
        if updated == 0 {
            self.insert.execute(&p[..])?;
        }
        Ok(())
    }
}

/// Keeps the newest `keep` rejected events in all.
fn keep_rejected(tx: &Connection, rejected: &[RejectedRow<'_>], keep: u32, now_ms: Millis) -> Result<(), StoreError> {
    // Only the newest `keep` can survive the trim below; the rest are not inserted.
    let skip = rejected.len().saturating_sub(keep as usize);
    for r in rejected.iter().skip(skip) {
        tx.exec(
            "INSERT INTO rejected_events(ts, source, reason, detail, raw) VALUES (?1, ?2, ?3, ?4, ?5)",
            &[&now_ms, &r.source, &r.reason, &r.detail, &r.raw],
        )?;
    }
    tx.exec(
        "DELETE FROM rejected_events WHERE id <= (SELECT max(id) FROM rejected_events) - ?1",
        &[&i64::from(keep)],
    )?;
    Ok(())
}

/// A rejected event as `/v1/rejected` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeptRejection {
    pub id: i64,
    pub ts: Millis,
    pub source: String,
    pub reason: String,
    pub detail: String,
    pub raw: String,
}

/// The newest `limit` rejected events kept, newest first.
pub fn newest_rejected(conn: &Connection, limit: usize) -> Result<Vec<KeptRejection>, StoreError> {
    conn.rows(
        "SELECT id, ts, source, reason, detail, raw FROM rejected_events ORDER BY id DESC LIMIT ?1",
        &[&(limit as i64)],
        |r| {
            Ok(KeptRejection {
                id: r.get(0)?,
                ts: r.get(1)?,
                source: r.get(2)?,
                reason: r.get(3)?,
                detail: r.get(4)?,
                raw: r.get(5)?,
            })
        },
    )
}
