//! Storage tiers: where object bytes live (a local directory per tier here; S3 comes with the migrator).

pub mod local;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TierError {
    #[error("invalid object key {key:?}: {why}")]
    InvalidKey { key: String, why: &'static str },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
