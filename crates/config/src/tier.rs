//! One tier of the configuration: where its objects live, what it costs, how fast it answers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Local,
    S3,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Backend::Local => "local",
            Backend::S3 => "s3",
        })
    }
}

/// The capacity of a tier that sets none, as the planner counts it.
pub const UNLIMITED_BYTES: f64 = 1e18;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    pub name: String,
    /// A storage class of the built-in catalog (`dim catalog`) whose prices and minimums fill
    /// every field this tier leaves out.
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub provider: String,
    pub backend: Backend,
    /// Local backend: directory, relative to --data-dir (default `tiers/NAME`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// Names of the environment variables holding the S3 credentials.
    #[serde(default)]
    pub access_key_env: Option<String>,
    #[serde(default)]
    pub secret_key_env: Option<String>,
    pub storage_gb_month: f64,
    #[serde(default)]
    pub get_per_1k: f64,
    #[serde(default)]
    pub put_per_1k: f64,
    #[serde(default)]
    pub retrieval_gb: f64,
    #[serde(default)]
    pub egress_gb: f64,
    pub latency_ms: f64,
    /// What the planner may place on the tier, GB; unset: unlimited (a cloud bucket), no
    /// capacity row in the plan.
    #[serde(default)]
    pub capacity_gb: Option<f64>,
    /// A move into this tier from another tier of the same provider (a server-side COPY, no
    /// egress), $/1k; unset: `put_per_1k`.
    #[serde(default)]
    pub transition_per_1k: Option<f64>,
    /// An object deleted, overwritten or moved away earlier is charged for the rest of it.
    #[serde(default)]
    pub min_storage_days: f64,
    /// Smaller objects are billed as this size.
    #[serde(default)]
    pub min_billable_bytes: u64,
    /// Extra bytes billed per object (archive classes' index data).
    #[serde(default)]
    pub overhead_bytes: u64,
    /// More than 0: an object must be restored (taking this long) before it can be read or
    /// copied; such a read misses any SLA and pays the restore.
    #[serde(default)]
    pub restore_hours: f64,
    #[serde(default)]
    pub restore_per_1k: f64,
    #[serde(default)]
    pub restore_gb: f64,
    /// A fee per 1,000 objects per month on this tier (S3 Intelligent-Tiering's monitoring, GCS
    /// Autoclass's management), charged for objects of at least `object_fee_min_bytes`.
    #[serde(default)]
    pub object_fee_per_1k_month: f64,
    #[serde(default)]
    pub object_fee_min_bytes: u64,
    /// The S3 storage class objects on this tier have (`STANDARD_IA`, `GLACIER_IR`, …). Filled
    /// from the catalog class; several tiers may share a bucket, one class each.
    #[serde(default)]
    pub storage_class: Option<String>,
    /// Objects must be restored before they are read (Glacier Flexible Retrieval, Deep Archive).
    #[serde(default)]
    pub restore: Option<RestoreConfig>,
    /// Server-side encryption every object moved here gets.
    #[serde(default)]
    pub sse: Option<Sse>,
    /// The KMS key for `sse = "aws:kms"` (the store's default key when unset).
    #[serde(default)]
    pub sse_kms_key_id: Option<String>,
}

impl TierConfig {
    /// The S3 storage class of this tier's objects (S3's default when unset).
    pub fn s3_class(&self) -> &str {
        self.storage_class
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or("STANDARD")
    }

    /// Both are S3 tiers of one bucket on one endpoint (told apart by their storage class).
    pub fn shares_bucket_with(&self, other: &TierConfig) -> bool {
        self.backend == Backend::S3
            && other.backend == Backend::S3
            && self.bucket == other.bucket
            && self.endpoint.as_deref().unwrap_or("") == other.endpoint.as_deref().unwrap_or("")
    }

    /// The capacity set, in bytes (None: unlimited).
    pub fn capacity_bytes(&self) -> Option<u64> {
        self.capacity_gb.map(|gb| (gb * 1e9) as u64)
    }

    /// The capacity the planner plans with: the one set, or one no plan reaches (an exabyte),
    /// which keeps the planner's arithmetic finite where an unlimited tier has no row.
    pub fn plan_capacity_bytes(&self) -> f64 {
        self.capacity_bytes().map_or(UNLIMITED_BYTES, |b| b as f64)
    }
}

/// How an archive tier's objects are restored before a move can read them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RestoreConfig {
    /// S3's retrieval tier: `Expedited`, `Standard` or `Bulk`.
    #[serde(default = "default_restore_tier")]
    pub tier: String,
    /// How long the restored copy stays readable.
    #[serde(default = "default_restore_days")]
    pub days: u32,
    /// How often a restore in progress is checked.
    #[serde(default = "default_restore_poll_secs")]
    pub poll_secs: u64,
}

impl Default for RestoreConfig {
    fn default() -> Self {
        Self {
            tier: default_restore_tier(),
            days: default_restore_days(),
            poll_secs: default_restore_poll_secs(),
        }
    }
}

fn default_restore_tier() -> String {
    "Standard".into()
}
fn default_restore_days() -> u32 {
    1
}
fn default_restore_poll_secs() -> u64 {
    60
}

/// Server-side encryption a tier requires of every object moved onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Sse {
    /// SSE-S3: keys managed by the store.
    #[serde(rename = "AES256")]
    Aes256,
    /// SSE-KMS, with `sse_kms_key_id`.
    #[serde(rename = "aws:kms")]
    Kms,
}

impl Sse {
    pub fn as_str(self) -> &'static str {
        match self {
            Sse::Aes256 => "AES256",
            Sse::Kms => "aws:kms",
        }
    }
}
