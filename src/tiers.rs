//! The engine and its tiers with every backend this binary carries: local directories (in the
//! engine) and S3 (`dim-s3`). Commands and tests reach the tiers through here, so none of them
//! builds an engine that would refuse an S3 tier.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::engine::EngineOptions;
use crate::engine::tiers::{self, TierError, Tiers};
use crate::s3::S3Backend;

/// The engine's options for `data_dir`, S3 included.
pub fn engine_options(data_dir: impl Into<PathBuf>) -> EngineOptions {
    EngineOptions::new(data_dir).with_s3(Arc::new(S3Backend))
}

/// Every configured tier, S3 included, each in its chaos decorator.
pub fn build(cfg: &Config, data_dir: &Path) -> Result<Tiers, TierError> {
    tiers::build(cfg, data_dir, Some(&S3Backend))
}
