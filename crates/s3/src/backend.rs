//! The S3 backend as the engine opens it: one `S3Tier` per tier, tiers sharing a bucket each
//! listing their own storage classes.

use std::sync::Arc;

use crate::Listed;
use crate::S3Tier;
use crate::config::{Config, TierConfig};
use crate::tiers::{ObjectStore, RemoteBackend, TierError};

/// What the binary hands the engine for the tiers configured `backend = "s3"`.
#[derive(Debug, Clone, Copy, Default)]
pub struct S3Backend;

impl RemoteBackend for S3Backend {
    /// Tiers sharing a bucket each list the objects of their storage class; the first of them
    /// lists every class the others do not name, so every object has exactly one tier.
    fn open(&self, t: &TierConfig, cfg: &Config) -> Result<Arc<dyn ObjectStore>, TierError> {
        let tier = S3Tier::new(t, &cfg.migrator)?;
        let mut sharing = cfg.tiers.iter().filter(|o| t.shares_bucket_with(o));
        let first = sharing.next().is_some_and(|o| o.name == t.name);
        let others: Vec<String> = cfg
            .tiers
            .iter()
            .filter(|o| o.name != t.name && t.shares_bucket_with(o))
            .map(|o| o.s3_class().to_string())
            .collect();
        Ok(Arc::new(match (others.is_empty(), first) {
            (true, _) => tier,
            (false, true) => tier.listing(Listed::AllBut(others)),
            (false, false) => tier.listing(Listed::Only(t.s3_class().to_string())),
        }))
    }
}
