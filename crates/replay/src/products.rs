//! The price sets the tiering products run on: S3 Intelligent-Tiering on its own access tiers,
//! GCS Autoclass on Cloud Storage's classes as Autoclass bills them, Azure's lifecycle on Blob
//! Storage's tiers — each where the configured tiers are all of that provider; elsewhere the
//! rule runs on the configured tiers (with the product's per-object fee) and says so.

use crate::config::{Config, TierConfig, fill_class};

/// S3 Intelligent-Tiering's monitoring and GCS Autoclass's management fee: $ per 1,000 objects
/// per month, for objects of at least 128 KiB (smaller ones are neither moved nor charged).
pub const OBJECT_FEE_PER_1K_MONTH: f64 = 0.0025;
pub const OBJECT_FEE_MIN_BYTES: u64 = 131_072;

/// The tiers a rule is metered on, and whether they are its product's own.
#[derive(Debug, Clone)]
pub struct PriceSet {
    pub tiers: Vec<TierConfig>,
    /// The product's own classes (else the configured tiers).
    pub own: bool,
    /// What the report says about it.
    pub note: String,
}

/// A tier named after catalog class `class`, with no capacity limit (a cloud class).
fn class_tier(class: &str) -> Option<TierConfig> {
    let mut t: toml::Table = toml::from_str(&format!(
        "name = \"{class}\"\nbackend = \"local\"\ncapacity_gb = 1e12\nclass = \"{class}\""
    ))
    .ok()?;
    fill_class(&mut t).ok()?;
    toml::Value::Table(t).try_into().ok()
}

fn all_of(cfg: &Config, provider: &str) -> bool {
    cfg.tiers.iter().all(|t| t.provider == provider)
}

/// The configured tiers, with the product's per-object fee on objects of at least `fee_from`
/// bytes where it has one, for a product whose own classes the configuration does not use.
fn configured(cfg: &Config, product: &str, fee_from: Option<u64>) -> PriceSet {
    let mut tiers = cfg.tiers.clone();
    if let Some(min) = fee_from {
        for t in &mut tiers {
            t.object_fee_per_1k_month = OBJECT_FEE_PER_1K_MONTH;
            t.object_fee_min_bytes = min;
        }
    }
    PriceSet {
        tiers,
        own: false,
        note: format!(
            "priced on the configured tiers{} (they are not all of {product}'s provider)",
            if fee_from.is_some() {
                " plus its per-object fee"
            } else {
                ""
            }
        ),
    }
}

fn own(classes: &[&str], product: &str) -> Option<PriceSet> {
    let tiers: Option<Vec<TierConfig>> = classes.iter().map(|c| class_tier(c)).collect();
    Some(PriceSet {
        tiers: tiers?,
        own: true,
        note: format!("priced on {product}'s own classes: {}", classes.join(", ")),
    })
}

/// S3 Intelligent-Tiering: Frequent, Infrequent (30 days), Archive Instant Access (90 days).
pub fn intelligent_tiering(cfg: &Config) -> PriceSet {
    let classes = [
        "aws:s3-intelligent-tiering-frequent",
        "aws:s3-intelligent-tiering-infrequent",
        "aws:s3-intelligent-tiering-archive-instant",
    ];
    all_of(cfg, "aws")
        .then(|| own(&classes, "S3 Intelligent-Tiering"))
        .flatten()
        .unwrap_or_else(|| {
            configured(
                cfg,
                "S3 Intelligent-Tiering",
                Some(cfg.replay.intelligent_tiering_min_bytes),
            )
        })
}

/// GCS Autoclass: Standard, Nearline, Coldline, Archive, billed as Autoclass bills them: no
/// retrieval fee, no minimum duration, no charge for its moves, operations at Standard's rates,
/// and the management fee.
pub fn autoclass(cfg: &Config) -> PriceSet {
    let classes = [
        "gcp:gcs-standard",
        "gcp:gcs-nearline",
        "gcp:gcs-coldline",
        "gcp:gcs-archive",
    ];
    let Some(mut set) = all_of(cfg, "gcp").then(|| own(&classes, "GCS Autoclass")).flatten() else {
        return configured(cfg, "GCS Autoclass", Some(OBJECT_FEE_MIN_BYTES));
    };
    let (get, put) = (set.tiers[0].get_per_1k, set.tiers[0].put_per_1k);
    for t in &mut set.tiers {
        t.retrieval_gb = 0.0;
        t.min_storage_days = 0.0;
        t.transition_per_1k = Some(0.0);
        t.get_per_1k = get;
        t.put_per_1k = put;
        t.object_fee_per_1k_month = OBJECT_FEE_PER_1K_MONTH;
        t.object_fee_min_bytes = OBJECT_FEE_MIN_BYTES;
    }
    set
}

/// Azure Blob lifecycle on last access time: Hot, Cool, Cold.
pub fn azure(cfg: &Config) -> PriceSet {
    let classes = ["azure:blob-hot", "azure:blob-cool", "azure:blob-cold"];
    all_of(cfg, "azure")
        .then(|| own(&classes, "Azure Blob Storage"))
        .flatten()
        .unwrap_or_else(|| configured(cfg, "Azure Blob Storage", None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::placement::billing::{MONTH_MS, storage_rate_ms};

    #[test]
    fn products_use_their_own_classes_only_where_the_tiers_are_theirs() {
        let aws: Config = crate::config::load_str(None, include_str!("../../../config/aws-classes.toml")).unwrap();
        let it = intelligent_tiering(&aws);
        assert!(it.own, "{}", it.note);
        assert_eq!(it.tiers.len(), 3);
        // 1 GB for a month in Frequent Access: storage plus the monitoring fee of one object.
        let month = storage_rate_ms(&it.tiers[0], 1_000_000_000) * MONTH_MS;
        assert!((month - (0.023 + 0.0025 / 1000.0)).abs() < 1e-12, "{month}");
        // 100 KB: below the monitoring minimum, no fee.
        let small = storage_rate_ms(&it.tiers[0], 100_000) * MONTH_MS;
        assert!((small - 100_000.0 / 1e9 * 0.023).abs() < 1e-15);
        let three = Config::embedded_default().unwrap();
        let it = intelligent_tiering(&three);
        assert!(!it.own && it.note.contains("configured"));
        assert_eq!(it.tiers[1].object_fee_per_1k_month, OBJECT_FEE_PER_1K_MONTH);
        assert!(!autoclass(&three).own && !azure(&three).own);
    }
}
