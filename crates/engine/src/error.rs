//! Why the engine could not start or stop cleanly.

use thiserror::Error;

use super::store::StoreError;
use super::tiers;

#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tier(#[from] tiers::TierError),
    #[error("engine task failed: {0}")]
    Task(String),
}
