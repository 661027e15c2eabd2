//! The SQLite state store: one writer connection (WAL), read-only connections for snapshots and status.

mod error;
pub mod history;
pub mod ingest;
pub mod listing;
pub mod models;
pub mod objects;
pub mod scan;
mod schema;
pub mod stats;
pub mod summary;
mod task_state;
pub mod tasks;
pub mod training;

use crate::sync;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::functions::FunctionFlags;
use rusqlite::{OpenFlags, OptionalExtension};

/// A connection to the store. Callers hold one and hand it to the store's functions; only this
/// module speaks SQL on it (tests/layers.rs keeps that true).
pub use rusqlite::Connection;

pub use error::StoreError;
pub use schema::VERSION as SCHEMA_VERSION;
pub use stats::{DECAY_TAUS_SECS, StatsRow, add_access, decayed_count, log_add, row_from, score_of};

use crate::clock::Millis;

/// Where the store places `key`: `None` when it has no such object, `Some(None)` when the object
/// is known but on no tier. The pointer every move checks and switches.
pub fn placement(conn: &Connection, key: &str) -> Result<Option<Option<String>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT tier FROM objects WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Marks an object as pinned (never moved by the planner) or not; false when there is no such object.
pub fn set_pinned(conn: &Connection, key: &str, pinned: bool) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE objects SET pinned = ?2 WHERE key = ?1",
        rusqlite::params![key, i64::from(pinned)],
    )? == 1)
}

/// The settings row holding the last plan's summary.
pub const PLAN_LAST: &str = "plan.last";

/// Counters of deleted objects and of the engine time they lived in all (kept by ingest).
pub const LIFETIMES_DELETED: &str = "lifetimes.deleted";
pub const LIFETIMES_LIVED_MS: &str = "lifetimes.lived_ms";

/// The engine time deleted objects lived in all, ms, and how many there were.
pub fn lifetimes(conn: &Connection) -> Result<(f64, u64), StoreError> {
    let counter = |name: &str| -> Result<i64, StoreError> {
        Ok(conn
            .query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    };
    Ok((
        counter(LIFETIMES_LIVED_MS)? as f64,
        counter(LIFETIMES_DELETED)?.max(0) as u64,
    ))
}

/// The tier holding `key`, if the store has it and places it.
pub fn tier_of(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(placement(conn, key)?.flatten())
}

#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
}

fn register_functions(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "lse",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(log_add(ctx.get::<Option<f64>>(0)?, ctx.get::<Option<f64>>(1)?)),
    )
}

impl Store {
    /// Opens (creating if needed) the store at `path`, with `cache_mib` of page cache for the writer.
    pub fn open(path: &Path, cache_mib: u32) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // With WAL, NORMAL survives a process crash (kill -9); only an OS crash can drop the last commits.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -(i64::from(cache_mib) * 1024))?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Hot pages are rewritten by every batch; checkpointing less often copies each into the
        // database once per checkpoint instead of once per batch (measured: ~25 % less ingest time).
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        register_functions(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The single writer. Hold it for one transaction at a time.
    pub fn writer(&self) -> MutexGuard<'_, Connection> {
        sync::lock(&self.writer)
    }

    /// A new read-only connection (snapshots, status, inventory look-ups).
    pub fn reader(&self) -> Result<Connection, StoreError> {
        open_reader(&self.path)
    }

    /// Runs `f` on the writer off the async threads: the one way async code writes.
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&mut store.writer()))
            .await
            .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// Runs `f` on a new read-only connection off the async threads: the one way async code reads.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store.reader()?))
            .await
            .map_err(|e| StoreError::Join(e.to_string()))?
    }
}

/// Opens an existing store read-only, e.g. for `dim status` while a daemon writes it.
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    if !path.exists() {
        return Err(StoreError::Missing(path.display().to_string()));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    register_functions(&conn)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(conn)
}

pub fn get_setting(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| r.get(0))
        .optional()?)
}

pub fn set_setting(conn: &Connection, name: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO settings(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        [name, value],
    )?;
    Ok(())
}

/// The engine time last recorded (None in a store no engine has run on).
pub fn engine_time(conn: &Connection) -> Result<Option<Millis>, StoreError> {
    Ok(get_setting(conn, "engine_time_ms")?.and_then(|v| v.parse().ok()))
}

/// Records engine time `now_ms` unless a later time is already recorded: engine time never runs
/// backwards, whoever writes (ingest, inventory, `dim seed` beside a daemon on a faster clock).
pub fn advance_engine_time(conn: &Connection, now_ms: Millis) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO settings(name, value) VALUES ('engine_time_ms', ?1) ON CONFLICT(name) DO UPDATE
         SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
        [now_ms.to_string()],
    )?;
    Ok(())
}

/// Every source's next offset per partition, as committed with the events.
pub fn stored_offsets(conn: &Connection) -> Result<Vec<(String, i32, i64)>, StoreError> {
    let mut stmt = conn.prepare("SELECT source, partition, next_offset FROM offsets ORDER BY source, partition")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Next offset stored for `source`/`partition`, if any.
pub fn stored_offset(conn: &Connection, source: &str, partition: i32) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT next_offset FROM offsets WHERE source = ?1 AND partition = ?2",
            rusqlite::params![source, partition],
            |r| r.get(0),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        drop(Store::open(&p, 4).unwrap());
        let s = Store::open(&p, 4).unwrap();
        let v: i64 = s.writer().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn tier_totals_follow_inserts_moves_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.db"), 4).unwrap();
        let w = s.writer();
        w.execute_batch(
            "INSERT INTO objects(key, tier, size, created) VALUES ('a', 'hot', 10, 0), ('b', 'hot', 5, 0), ('c', NULL, 7, 0);
             UPDATE objects SET tier = 'cold' WHERE key = 'a';
             UPDATE objects SET size = 8 WHERE key = 'b';
             DELETE FROM objects WHERE key = 'c';",
        )
        .unwrap();
        let get = |t: &str| -> (i64, i64) {
            w.query_row("SELECT objects, bytes FROM tier_totals WHERE tier = ?1", [t], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap()
        };
        assert_eq!(get("hot"), (1, 8));
        assert_eq!(get("cold"), (1, 10));
        assert_eq!(get(""), (0, 0));
    }

    #[test]
    fn reader_refuses_a_missing_store() {
        let dir = tempfile::tempdir().unwrap();
        let e = open_reader(&dir.path().join("nope.db")).unwrap_err();
        assert!(e.to_string().contains("dim --daemon"), "{e}");
    }
}
