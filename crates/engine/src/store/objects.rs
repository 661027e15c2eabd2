//! Objects as placement, inventory, audit and the workload read them: every placed object with
//! its stats, one object's state, keys awaiting a tier, and the total age of those alive.

use super::stats::{STATS_COLS, StatsRow, row_from};
use super::{Connection, StoreError};
use crate::clock::Millis;

/// A placed object as the planner reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub key: String,
    pub tier: String,
    pub moved_at: Option<Millis>,
    pub pinned: bool,
    pub stats: StatsRow,
}

/// Calls `f` with every placed object, in one pass over the table (the planner's read).
pub fn for_each_placed(conn: &Connection, mut f: impl FnMut(Placed)) -> Result<(), StoreError> {
    conn.each_row(
        &format!("SELECT key, tier, moved_at, pinned, {STATS_COLS} FROM objects WHERE tier IS NOT NULL"),
        &[],
        |r| {
            f(Placed {
                key: r.get(0)?,
                tier: r.get(1)?,
                moved_at: r.get(2)?,
                pinned: r.get::<i64>(3)? != 0,
                stats: row_from(r, 4)?,
            });
            Ok(())
        },
    )
}

/// One object as the store knows it, placed or not.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectState {
    pub tier: Option<String>,
    pub moved_at: Option<Millis>,
    pub pinned: bool,
    pub stats: StatsRow,
}

/// The state of `key`, if the store has it.
pub fn state_of(conn: &Connection, key: &str) -> Result<Option<ObjectState>, StoreError> {
    conn.row(
        &format!("SELECT tier, moved_at, pinned, {STATS_COLS} FROM objects WHERE key = ?1"),
        &[&key],
        |r| {
            Ok(ObjectState {
                tier: r.get(0)?,
                moved_at: r.get(1)?,
                pinned: r.get::<i64>(2)? != 0,
                stats: row_from(r, 3)?,
            })
        },
    )
}

/// The engine time every object alive at `now` has lived so far, ms, summed. Reads every object.
pub fn alive_ms(conn: &Connection, now: Millis) -> Result<f64, StoreError> {
    Ok(conn
        .row(
            "SELECT CAST(coalesce(sum(max(?1 - first_seen, 0)), 0) AS DOUBLE PRECISION) FROM objects
             WHERE first_seen IS NOT NULL",
            &[&now],
            |r| r.get(0),
        )?
        .unwrap_or(0.0))
}

/// Every placed object's key and tier (the audit's view of where the bytes should be).
pub fn placed_keys(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    conn.rows("SELECT key, tier FROM objects WHERE tier IS NOT NULL", &[], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// A placed object's key, size and creation time (what the embedded workload draws from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedSize {
    pub key: String,
    pub size: u64,
    pub created: Millis,
}

/// Every placed object's key, size and creation time.
pub fn placed_sizes(conn: &Connection) -> Result<Vec<PlacedSize>, StoreError> {
    conn.rows(
        "SELECT key, size, created FROM objects WHERE tier IS NOT NULL",
        &[],
        |r| {
            Ok(PlacedSize {
                key: r.get(0)?,
                size: r.get::<i64>(1)?.max(0) as u64,
                created: r.get(2)?,
            })
        },
    )
}

/// Up to `limit` objects on no tier that were written (and seen) since `since_ms`, newest first:
/// PUTs whose object no listing has found yet.
pub fn unplaced_since(conn: &Connection, since_ms: Millis, limit: usize) -> Result<Vec<String>, StoreError> {
    conn.rows(
        "SELECT key FROM objects WHERE stats_updated >= ?1 AND tier IS NULL AND last_modified >= ?1
         ORDER BY stats_updated DESC LIMIT ?2",
        &[&since_ms, &(limit as i64)],
        |r| r.get(0),
    )
}
