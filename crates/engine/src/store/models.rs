//! The trained model as the store keeps it: the newest one only, as its serialised parts.

use super::{Connection, StoreError};
use crate::clock::Millis;

/// Keeps a model trained at `trained_at`, its `info` and its `forest` (JSON), dropping older ones.
pub fn save_model(conn: &Connection, trained_at: Millis, info: &str, forest: Option<&str>) -> Result<(), StoreError> {
    conn.exec(
        "INSERT INTO models(trained_at, info, forest) VALUES (?1, ?2, ?3)",
        &[&trained_at, &info, &forest],
    )?;
    conn.exec("DELETE FROM models WHERE id < (SELECT max(id) FROM models)", &[])?;
    Ok(())
}

/// The newest model kept: its info and its forest (JSON), if any.
pub fn last_model(conn: &Connection) -> Result<Option<(String, Option<String>)>, StoreError> {
    conn.row("SELECT info, forest FROM models ORDER BY id DESC LIMIT 1", &[], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}
