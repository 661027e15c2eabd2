//! What can go wrong with the store, in words a user can act on.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite's words once: not also as a source, which would print them again in every chain.
    #[error("the store (SQLite): {0}")]
    Sqlite(rusqlite::Error),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no dim store at {0}: run `dim --daemon --data-dir DIR` (or `dim`) there first")]
    Missing(String),
    #[error("no object named {0:?} in the store")]
    NoObject(String),
    #[error("a store task did not finish: {0}")]
    Join(String),
    /// PostgreSQL's words once, as SQLite's: the server's message (with its detail and hint)
    /// when it sent one, else the client's.
    #[error("the store (PostgreSQL): {}", pg_words(.0))]
    Postgres(postgres::Error),
    #[error(
        "the PostgreSQL store was called on a single-threaded async runtime, where it cannot block: \
         call it through Store::read/write (or a multi-threaded runtime)"
    )]
    SingleThreadedRuntime,
    #[error(
        "store.url_env names {0}, which is not set: export it (postgres://USER:PASSWORD@HOST:PORT/DB) or set store.url"
    )]
    NoUrl(String),
    #[error("{0:?} cannot name a database: letters, digits and _ only")]
    BadName(String),
    /// r2d2's words carry the last connection error, if there was one.
    #[error("no read connection to the store: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the PostgreSQL connection is closed")]
    Closed,
    /// Not a failure of the store: another node holds the partition now, and this batch of it
    /// was not committed (the new owner consumes it from the committed offset).
    #[error("this node no longer holds partition {partition} of {topic}; the batch was not committed")]
    LeaseLost { topic: String, partition: i32 },
    #[error("the store returned no {0} row where it must")]
    NoRow(&'static str),
    #[error("the store was written by a newer dim (schema {found}, this build knows {supported}): upgrade dim")]
    TooNew { found: i64, supported: i64 },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Postgres(e)
    }
}

fn pg_words(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{} ({})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                s += &format!("; {d}");
            }
            if let Some(h) = db.hint() {
                s += &format!("; hint: {h}");
            }
            s
        }
        None => match std::error::Error::source(e) {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}
