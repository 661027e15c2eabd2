//! Every object of the store, or of one tier, row by row: what `dim ls` sorts and shows.

use rusqlite::Connection;

use super::StoreError;
use super::stats::StatsRow;
use super::summary::{HotObject, hot_object, object_columns};
use crate::clock::Millis;

/// Calls `each` with every object (on `tier` only, when given), its counts decayed to `now_ms`;
/// rows stream from the store, so memory stays what `each` keeps.
pub fn each_object(
    conn: &Connection,
    tier: Option<&str>,
    now_ms: Millis,
    mut each: impl FnMut(HotObject, StatsRow),
) -> Result<(), StoreError> {
    let filter = if tier.is_some() {
        "WHERE tier = ?1"
    } else {
        "WHERE ?1 IS NULL"
    };
    let mut stmt = conn.prepare(&format!("SELECT {} FROM objects o {filter}", object_columns()))?;
    let mut rows = stmt.query([tier])?;
    while let Some(r) = rows.next()? {
        let (o, s) = hot_object(r, now_ms)?;
        each(o, s);
    }
    Ok(())
}
