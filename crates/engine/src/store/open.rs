//! Where a store lives and how it is opened for reading: the SQLite file or PostgreSQL URL a
//! config names, read-only connections to either, and the SQL functions SQLite is given so a
//! statement reads the same on both backends.

use std::path::{Path, PathBuf};

use rusqlite::OpenFlags;
use rusqlite::functions::FunctionFlags;

use super::conn::{Connection, PgConn};
use super::error::StoreError;
use super::schema::VERSION as SCHEMA_VERSION;
use super::schema_pg;
use super::stats::log_add;

/// Where a store lives: an SQLite file, or a PostgreSQL database several nodes share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// The store a config names: the URL in `store.url_env`'s variable or `store.url` when set,
    /// else `store.file` in the data directory. A variable named but not set is refused rather
    /// than a node starting alone on a file of its own.
    pub fn of(store: &dim_config::StoreConfig, data_dir: &Path) -> Result<Self, StoreError> {
        if let Some(var) = &store.url_env {
            return match std::env::var(var) {
                Ok(url) if !url.is_empty() => Ok(Location::Postgres(url)),
                _ => Err(StoreError::NoUrl(var.clone())),
            };
        }
        Ok(match &store.url {
            Some(url) => Location::Postgres(url.clone()),
            None => Location::Sqlite(data_dir.join(&store.file)),
        })
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            // The URL may carry a password: only where it points is shown.
            Location::Postgres(url) => write!(f, "postgres://…@{}", url.rsplit('@').next().unwrap_or(url)),
        }
    }
}

/// What PostgreSQL defines in SQL (schema_pg.rs), so a statement reads the same on both: the
/// log-space sum, the clock, and the node a session writes for (SQLite's one node is none).
pub(super) fn register_functions(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "lse",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(log_add(ctx.get::<Option<f64>>(0)?, ctx.get::<Option<f64>>(1)?)),
    )?;
    conn.create_scalar_function("now_ms", 0, FunctionFlags::SQLITE_UTF8, |_| {
        Ok(crate::clock::wall_now_ms())
    })?;
    conn.create_scalar_function(
        "dim_node",
        0,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |_| Ok(None::<String>),
    )
}

/// Opens an existing SQLite store read-only, e.g. for `dim status` while a daemon writes it.
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    if !path.exists() {
        return Err(StoreError::Missing(path.display().to_string()));
    }
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    register_functions(&conn)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(Connection::Lite(conn))
}

/// Opens an existing store for reading: a read-only SQLite connection, or a PostgreSQL session
/// whose transactions are read-only.
pub fn open_reader_at(location: &Location) -> Result<Connection, StoreError> {
    match location {
        Location::Sqlite(path) => open_reader(path),
        Location::Postgres(url) => {
            let conn = Connection::Pg(Box::new(PgConn::connect(url)?));
            conn.exec_batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
            let version = schema_pg::version(&conn)?;
            if version == 0 {
                return Err(StoreError::Missing(location.to_string()));
            }
            if version > SCHEMA_VERSION {
                return Err(StoreError::TooNew {
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            Ok(conn)
        }
    }
}
