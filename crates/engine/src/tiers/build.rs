//! The configured tiers, built: local directories and S3 buckets, each in its chaos decorator.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::{ObjectStore, TierError, chaos, local, s3};
use crate::config::{Backend, Config, TierConfig};

/// Directory of a local tier: its `path` (relative to the data dir unless absolute), or `tiers/NAME`.
pub fn local_root(t: &TierConfig, data_dir: &Path) -> std::path::PathBuf {
    let rel = t.path.clone().unwrap_or_else(|| format!("tiers/{}", t.name));
    if Path::new(&rel).is_absolute() {
        rel.into()
    } else {
        data_dir.join(rel)
    }
}

/// The tiers of a config, each wrapped in its chaos decorator.
pub type Tiers = HashMap<String, Arc<chaos::ChaosStore>>;

/// Builds every configured tier: local directories under `data_dir`, S3 buckets via the SDK.
/// Tiers sharing a bucket each list the objects of their storage class; the first of them lists
/// every class the others do not name, so every object has exactly one tier.
pub fn build(cfg: &Config, data_dir: &Path) -> Result<Tiers, TierError> {
    let mut out = HashMap::new();
    for t in &cfg.tiers {
        let inner: Arc<dyn ObjectStore> = match t.backend {
            Backend::Local => Arc::new(local::LocalTier::new(&t.name, local_root(t, data_dir))?),
            Backend::S3 => {
                let tier = s3::S3Tier::new(t, &cfg.migrator)?;
                let mut sharing = cfg.tiers.iter().filter(|o| t.shares_bucket_with(o));
                let first = sharing.next().is_some_and(|o| o.name == t.name);
                let others: Vec<String> = cfg
                    .tiers
                    .iter()
                    .filter(|o| o.name != t.name && t.shares_bucket_with(o))
                    .map(|o| o.s3_class().to_string())
                    .collect();
                Arc::new(match (others.is_empty(), first) {
                    (true, _) => tier,
                    (false, true) => tier.listing(s3::Listed::AllBut(others)),
                    (false, false) => tier.listing(s3::Listed::Only(t.s3_class().to_string())),
                })
            }
        };
        out.insert(t.name.clone(), Arc::new(chaos::ChaosStore::new(inner)));
    }
    Ok(out)
}
