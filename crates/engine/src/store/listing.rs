//! Every object of the store, or of one tier, row by row: what `dim ls` sorts and shows.

use super::stats::StatsRow;
use super::summary::{HotObject, hot_object, object_columns};
use super::{Connection, StoreError};
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
        "WHERE CAST(?1 AS TEXT) IS NULL"
    };
    conn.each_row(
        &format!("SELECT {} FROM objects o {filter}", object_columns()),
        &[&tier],
        |r| {
            let (o, s) = hot_object(r, now_ms)?;
            each(o, s);
            Ok(())
        },
    )
}
