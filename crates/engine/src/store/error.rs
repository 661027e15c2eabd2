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
    #[error("the store was written by a newer dim (schema {found}, this build knows {supported}): upgrade dim")]
    TooNew { found: i64, supported: i64 },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}
