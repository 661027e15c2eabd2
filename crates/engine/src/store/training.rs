//! Reads of the training history: labelled past snapshots, past states at random, and one
//! object's cumulative reads over time.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::stats::{StatsRow, row_from};
use crate::clock::Millis;

/// A history snapshot with the object's access count at the end of its horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub object_id: i64,
    pub ts: Millis,
    pub row: StatsRow,
    /// Reads plus writes in the object's latest snapshot at or before `ts + horizon`.
    pub count_at_horizon: i64,
}

/// The newest `limit` snapshots whose horizon has fully passed by `now`, newest first. The label
/// uses only snapshots at or before `t + H` (the latest one carries the cumulative count then).
pub fn labelled(conn: &Connection, now: Millis, horizon_ms: Millis, limit: usize) -> Result<Vec<Labelled>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.object_id, h.ts, h.size, h.first_seen, h.last_access, h.reads, h.writes,
                h.h1, h.h24, h.h168, h.hour_sin, h.hour_cos,
                (SELECT f.reads + f.writes FROM history f
                  WHERE f.object_id = h.object_id AND f.ts <= h.ts + ?1
                  ORDER BY f.ts DESC LIMIT 1) AS later
         FROM history h INDEXED BY history_ts
         WHERE h.ts <= ?2 - ?1
         ORDER BY h.ts DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![horizon_ms, now, limit as i64], |r| {
        Ok(Labelled {
            object_id: r.get(0)?,
            ts: r.get(1)?,
            row: row_from(r, 2)?,
            count_at_horizon: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Up to `limit` history snapshots taken by `now`, at random over the whole retention (long
/// windows need old samples): object id, time, stats.
pub fn random_states(conn: &Connection, now: Millis, limit: usize) -> Result<Vec<(i64, Millis, StatsRow)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT object_id, ts, size, first_seen, last_access, reads, writes, h1, h24, h168, hour_sin, hour_cos
         FROM history WHERE ts <= ?1 ORDER BY random() LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, row_from(r, 2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One object's snapshots as (time, cumulative reads), oldest first, read through the history's
/// primary key.
pub fn snapshots_of(conn: &Connection, object_id: i64) -> Result<Vec<(Millis, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT ts, reads FROM history WHERE object_id = ?1 ORDER BY ts")?;
    let rows = stmt.query_map([object_id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What the store holds now of an object (by its row id): key, last access and reads; `None`
/// once it is deleted.
pub fn current_reads(conn: &Connection, object_id: i64) -> Result<Option<(String, Option<Millis>, u64)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT key, last_access, reads FROM objects WHERE id = ?1")?
        .query_row([object_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
        })
        .optional()?)
}
