//! The configured tiers, built: local directories here, remote stores (S3) by the backend the
//! engine is given, each in its chaos decorator.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::{ObjectStore, TierError, chaos, local};
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

/// Opens the tiers of a backend that lives outside the engine. S3 is one (`dim-s3`): the AWS SDK
/// and its HTTP client stay out of the engine's build, which knows a tier only as an
/// `ObjectStore`.
pub trait RemoteBackend: Send + Sync + std::fmt::Debug {
    /// The tier `tier` of `cfg` (whose other tiers it may need: tiers sharing a bucket split it).
    fn open(&self, tier: &TierConfig, cfg: &Config) -> Result<Arc<dyn ObjectStore>, TierError>;
}

/// Builds every configured tier: local directories under `data_dir`, S3 buckets through `s3`
/// (a tier on S3 without it is refused, named).
pub fn build(cfg: &Config, data_dir: &Path, s3: Option<&dyn RemoteBackend>) -> Result<Tiers, TierError> {
    let mut out = HashMap::new();
    for t in &cfg.tiers {
        let inner: Arc<dyn ObjectStore> = match t.backend {
            Backend::Local => Arc::new(local::LocalTier::new(&t.name, local_root(t, data_dir))?),
            Backend::S3 => match s3 {
                Some(s3) => s3.open(t, cfg)?,
                None => {
                    return Err(TierError::NoBackend {
                        tier: t.name.clone(),
                        backend: "s3",
                    });
                }
            },
        };
        out.insert(t.name.clone(), Arc::new(chaos::ChaosStore::new(inner)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tier_on_s3_without_the_backend_is_refused_by_name() {
        let mut cfg = Config::embedded_default().unwrap();
        cfg.tiers[1].backend = Backend::S3;
        let name = cfg.tiers[1].name.clone();
        let dir = tempfile::tempdir().unwrap();
        let err = build(&cfg, dir.path(), None).err().unwrap();
        assert!(
            matches!(&err, TierError::NoBackend { tier, backend: "s3" } if *tier == name),
            "{err}"
        );
        assert!(err.to_string().contains("EngineOptions"), "{err}");
        // Without S3 tiers the backend is not needed.
        cfg.tiers[1].backend = Backend::Local;
        assert_eq!(build(&cfg, dir.path(), None).unwrap().len(), cfg.tiers.len());
    }
}
