//! The state store: SQLite embedded (one writer connection in WAL mode, read-only connections for
//! snapshots and status) or PostgreSQL for several nodes (`store.url`), behind one API.

pub mod cluster;
mod conn;
mod effects;
mod error;
pub mod history;
pub mod ingest;
mod ingest_pg;
pub mod listing;
pub mod models;
pub mod objects;
mod open;
mod pool;
pub mod scan;
mod schema;
mod schema_pg;
pub mod stats;
pub mod summary;
mod task_state;
pub mod tasks;
pub mod training;

use crate::sync;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

pub use conn::{Connection, Dialect};
pub use error::StoreError;
pub use open::{Location, open_reader, open_reader_at};
pub use pool::{MAX_READERS, Reader};
pub use schema::VERSION as SCHEMA_VERSION;
pub use stats::{DECAY_TAUS_SECS, StatsRow, add_access, decayed_count, log_add, score_of};

use crate::clock::Millis;

/// Where the store places `key`: `None` when it has no such object, `Some(None)` when the object
/// is known but on no tier. The pointer every move checks and switches.
pub fn placement(conn: &Connection, key: &str) -> Result<Option<Option<String>>, StoreError> {
    conn.row("SELECT tier FROM objects WHERE key = ?1", &[&key], |r| r.get(0))
}

/// Marks an object as pinned (never moved by the planner) or not; false when there is no such object.
pub fn set_pinned(conn: &Connection, key: &str, pinned: bool) -> Result<bool, StoreError> {
    Ok(conn.exec(
        "UPDATE objects SET pinned = ?2 WHERE key = ?1",
        &[&key, &i64::from(pinned)],
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
            .row(
                "SELECT CAST(coalesce(sum(value), 0) AS BIGINT) FROM counters WHERE name = ?1",
                &[&name],
                |r| r.get(0),
            )?
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
    location: Location,
    /// The cluster node this engine is, on a PostgreSQL store (see `join`).
    node: std::sync::OnceLock<String>,
    writer: Mutex<Connection>,
    readers: r2d2::Pool<pool::Readers>,
}

impl Store {
    /// Opens (creating if needed) the SQLite store at `path`, with `cache_mib` of page cache for the writer.
    pub fn open(path: &Path, cache_mib: u32) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut conn = rusqlite::Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // With WAL, NORMAL survives a process crash (kill -9); only an OS crash can drop the last commits.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -(i64::from(cache_mib) * 1024))?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Hot pages are rewritten by every batch; checkpointing less often copies each into the
        // database once per checkpoint instead of once per batch (measured: ~25 % less ingest time).
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        open::register_functions(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self::with_writer(
            Location::Sqlite(path.to_path_buf()),
            Connection::Lite(conn),
        ))
    }

    /// Connects to the PostgreSQL store at `url` (creating its schema if needed).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let conn = Connection::Pg(Box::new(conn::PgConn::connect(url)?));
        schema_pg::migrate(&conn)?;
        Ok(Self::with_writer(Location::Postgres(url.to_string()), conn))
    }

    fn with_writer(location: Location, writer: Connection) -> Self {
        Self {
            readers: pool::pool(&location),
            location,
            node: std::sync::OnceLock::new(),
            writer: Mutex::new(writer),
        }
    }

    /// Opens the store at `location`.
    pub fn open_at(location: &Location, cache_mib: u32) -> Result<Self, StoreError> {
        match location {
            Location::Sqlite(path) => Self::open(path, cache_mib),
            Location::Postgres(url) => Self::connect(url),
        }
    }

    /// The SQLite file, when the store is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.location {
            Location::Sqlite(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Makes this engine cluster node `node` on a PostgreSQL store: its writes are then fenced
    /// by the node's leases (partitions, tasks). False on SQLite, where one node is all there is.
    pub fn join(&self, node: &str) -> Result<bool, StoreError> {
        let Location::Postgres(url) = &self.location else {
            return Ok(false);
        };
        let fresh = conn::PgConn::connect_as(url, Some(node))?;
        let _ = self.node.set(node.to_string());
        *sync::lock(&self.writer) = Connection::Pg(Box::new(fresh));
        Ok(true)
    }

    /// The cluster node this engine is, once it joined one.
    pub fn node(&self) -> Option<&str> {
        self.node.get().map(String::as_str)
    }

    /// A new read-write session of its own (the cluster's leader lock lives as long as one).
    pub fn session(&self) -> Result<Connection, StoreError> {
        match &self.location {
            Location::Postgres(url) => Ok(Connection::Pg(Box::new(conn::PgConn::connect_as(url, self.node())?))),
            Location::Sqlite(path) => {
                Self::open(path, 4).map(|s| s.writer.into_inner().unwrap_or_else(|p| p.into_inner()))
            }
        }
    }

    /// The single writer. Hold it for one transaction at a time.
    pub fn writer(&self) -> MutexGuard<'_, Connection> {
        let mut w = sync::lock(&self.writer);
        // A PostgreSQL connection the server closed (restart, idle timeout) is opened again
        // rather than failing every write after it.
        if let (Connection::Pg(pg), Location::Postgres(url)) = (&*w, &self.location)
            && pg.is_closed()
        {
            match conn::PgConn::connect_as(url, self.node()) {
                Ok(fresh) => *w = Connection::Pg(Box::new(fresh)),
                Err(e) => tracing::warn!(target: "dim::store", error = %e, "cannot reconnect to PostgreSQL"),
            }
        }
        w
    }

    /// A read-only connection from the store's pool (snapshots, status, inventory look-ups).
    pub fn reader(&self) -> Result<Reader, StoreError> {
        Ok(self.readers.get()?)
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

    /// Runs `f` on a read-only connection off the async threads: the one way async code reads.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&*store.reader()?))
            .await
            .map_err(|e| StoreError::Join(e.to_string()))?
    }
}

pub fn get_setting(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    conn.row("SELECT value FROM settings WHERE name = ?1", &[&name], |r| r.get(0))
}

pub fn set_setting(conn: &Connection, name: &str, value: &str) -> Result<(), StoreError> {
    conn.exec(
        "INSERT INTO settings(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        &[&name, &value],
    )?;
    Ok(())
}

/// The engine time last recorded by any node (None in a store no engine has run on).
pub fn engine_time(conn: &Connection) -> Result<Option<Millis>, StoreError> {
    Ok(conn
        .row("SELECT max(ms) FROM engine_clock", &[], |r| r.get(0))?
        .flatten())
}

/// Records engine time `now_ms` on this node's row unless a later time is already there: engine
/// time never runs backwards, whoever writes (ingest, inventory, `dim seed` beside a daemon on a
/// faster clock), and nodes never wait on each other's row.
pub fn advance_engine_time(conn: &Connection, now_ms: Millis) -> Result<(), StoreError> {
    conn.exec(
        "INSERT INTO engine_clock(node, ms) VALUES (coalesce(dim_node(), ''), ?1)
         ON CONFLICT(node) DO UPDATE SET ms = max(engine_clock.ms, excluded.ms)",
        &[&now_ms],
    )?;
    Ok(())
}

/// Every source's next offset per partition, as committed with the events.
pub fn stored_offsets(conn: &Connection) -> Result<Vec<(String, i32, i64)>, StoreError> {
    conn.rows(
        "SELECT source, partition, next_offset FROM offsets ORDER BY source, partition",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// Next offset stored for `source`/`partition`, if any.
pub fn stored_offset(conn: &Connection, source: &str, partition: i32) -> Result<Option<i64>, StoreError> {
    conn.row(
        "SELECT next_offset FROM offsets WHERE source = ?1 AND partition = ?2",
        &[&source, &partition],
        |r| r.get(0),
    )
}

/// Creates database `name` on the PostgreSQL server of `server_url` (whose user may create
/// databases) and returns its URL: a fresh store for a benchmark round or a test.
pub fn create_database(server_url: &str, name: &str) -> Result<String, StoreError> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::BadName(name.to_string()));
    }
    let conn = Connection::Pg(Box::new(conn::PgConn::connect(server_url)?));
    conn.exec_batch(&format!("CREATE DATABASE {name}"))?;
    let base = server_url.rsplit_once('/').map_or(server_url, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

/// The schema version the store holds.
pub fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    match conn {
        Connection::Lite(c) => Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?),
        Connection::Pg(_) => schema_pg::version(conn),
    }
}

#[cfg(test)]
mod nodes_apart;
#[cfg(test)]
mod pool_suite;
#[cfg(test)]
mod suite;
#[cfg(test)]
pub(crate) mod testing;
