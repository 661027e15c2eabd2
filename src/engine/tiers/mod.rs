//! Storage tiers: the `ObjectStore` trait, its backends (local directory, S3) and the chaos decorator.

pub mod chaos;
mod hashing;
pub mod local;
pub mod s3;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use thiserror::Error;
use tokio::io::AsyncRead;

pub use hashing::{HashingReader, ProgressReader};

use crate::config::{Backend, Config};
use crate::engine::clock::Millis;

/// A streaming object body.
pub type Reader = Box<dyn AsyncRead + Send + Unpin>;

/// What HEAD tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// The store's version identity: the S3 ETag, or size+mtime for a local file.
    pub etag: String,
    /// Last modification, wall clock, ms since the epoch.
    pub last_modified_ms: Millis,
}

/// What a completed write produced, checked again before the pointer moves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Written {
    pub size: u64,
    /// The destination's ETag after the write (what verification expects to see).
    pub etag: String,
    /// SHA-256 of the bytes, hex, computed while streaming them.
    pub sha256: Option<String>,
}

/// Where a server-side copy can read from: same endpoint (and account), named bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    pub domain: String,
    pub bucket: String,
}

/// How an operation failed. Injected chaos and real server errors are classified by the same functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 503 SlowDown / Service Unavailable.
    SlowDown,
    /// 429 Too Many Requests.
    Throttled,
    /// 500 and other 5xx.
    Internal,
    Timeout,
    /// Connection reset or refused.
    Connection,
    NotFound,
    /// 412: the source changed (conditional copy).
    PreconditionFailed,
    /// 401/403: credentials or permissions.
    Forbidden,
    /// Data did not arrive intact (checksum mismatch).
    BadDigest,
    InvalidKey,
    Other,
}

impl ErrorKind {
    /// The errors a move backs off and retries.
    pub const RETRYABLE: [ErrorKind; 5] = [
        ErrorKind::SlowDown,
        ErrorKind::Throttled,
        ErrorKind::Internal,
        ErrorKind::Timeout,
        ErrorKind::Connection,
    ];

    /// Retryable errors back off and try again; the rest fail the task with their reason.
    pub fn retryable(self) -> bool {
        Self::RETRYABLE.contains(&self)
    }

    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::SlowDown => "slow_down",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Internal => "internal",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::NotFound => "not_found",
            ErrorKind::PreconditionFailed => "precondition_failed",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::BadDigest => "bad_digest",
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::Other => "other",
        }
    }

    /// From an HTTP status and (optional) S3 error code.
    pub fn from_http(status: u16, code: Option<&str>) -> Self {
        match (status, code) {
            (_, Some("SlowDown")) | (503, _) => ErrorKind::SlowDown,
            (429, _) | (_, Some("TooManyRequests")) => ErrorKind::Throttled,
            (_, Some("BadDigest" | "InvalidDigest" | "XAmzContentSHA256Mismatch")) => ErrorKind::BadDigest,
            (_, Some("RequestTimeout")) | (408, _) => ErrorKind::Timeout,
            (404, _) | (_, Some("NoSuchKey" | "NotFound")) => ErrorKind::NotFound,
            (412, _) | (_, Some("PreconditionFailed")) => ErrorKind::PreconditionFailed,
            (401 | 403, _) => ErrorKind::Forbidden,
            (500..=599, _) => ErrorKind::Internal,
            _ => ErrorKind::Other,
        }
    }

    /// From an I/O error kind (local files, sockets).
    pub fn from_io(kind: std::io::ErrorKind) -> Self {
        use std::io::ErrorKind as K;
        match kind {
            K::NotFound => ErrorKind::NotFound,
            K::PermissionDenied => ErrorKind::Forbidden,
            K::TimedOut => ErrorKind::Timeout,
            K::ConnectionReset | K::ConnectionRefused | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                ErrorKind::Connection
            }
            K::Interrupted | K::WouldBlock => ErrorKind::Timeout,
            _ => ErrorKind::Other,
        }
    }
}

#[derive(Debug, Clone, Error)]
#[error("{op} {key:?} on tier {tier}: {} ({message})", kind.label())]
pub struct OpError {
    pub kind: ErrorKind,
    pub tier: String,
    pub op: &'static str,
    pub key: String,
    pub message: String,
}

impl OpError {
    pub fn new(kind: ErrorKind, tier: &str, op: &'static str, key: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            tier: tier.to_string(),
            op,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// One tier's object store. Every backend and decorator implements it; the migrator sees only this.
#[async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    fn tier(&self) -> &str;

    /// Set when the store can be the source of a server-side copy into another store with the same domain.
    fn copy_source(&self) -> Option<CopySource> {
        None
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, OpError>;

    /// Streams the object; with `if_match`, fails with `PreconditionFailed` if its ETag differs.
    async fn get(&self, key: &str, if_match: Option<&str>) -> Result<(ObjectMeta, Reader), OpError>;

    /// Writes `size` bytes from `body` at `key` (multipart above the store's threshold) and checks
    /// what the store received against hashes computed while streaming.
    async fn put(&self, key: &str, body: Reader, size: u64) -> Result<Written, OpError>;

    /// Server-side copy from `src` (same domain), only if the source ETag is still `if_match`
    /// (whose version is `size` bytes long).
    async fn copy_from(&self, src: &CopySource, key: &str, if_match: &str, size: u64) -> Result<Written, OpError> {
        let _ = (src, if_match, size);
        Err(OpError::new(
            ErrorKind::Other,
            self.tier(),
            "copy",
            key,
            "server-side copy is not supported here",
        ))
    }

    /// Checks that the object at `key` is exactly what `expected` describes.
    async fn verify(&self, key: &str, expected: &Written) -> Result<bool, OpError>;

    /// Deletes `key`; a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), OpError>;

    /// Every object under `prefix`, with its metadata, handed over a page at a time (S3: each
    /// ListObjectsV2 page) so a long listing can show progress.
    async fn list_pages(&self, prefix: &str, on_page: &mut (dyn FnMut(Listing) + Send)) -> Result<(), OpError>;

    /// Every object under `prefix`, with its metadata.
    async fn list(&self, prefix: &str) -> Result<Listing, OpError> {
        let mut out = Vec::new();
        self.list_pages(prefix, &mut |page| out.extend(page)).await?;
        Ok(out)
    }
}

/// Objects and their metadata, as listed.
pub type Listing = Vec<(String, ObjectMeta)>;

/// Local listings come back whole; they are handed on in pages of this many, like S3's.
pub const LIST_PAGE: usize = 1000;

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
    #[error("tier {tier}: {message}")]
    Config { tier: String, message: String },
}

/// Directory of a local tier: its `path` (relative to the data dir unless absolute), or `tiers/NAME`.
pub fn local_root(t: &crate::config::TierConfig, data_dir: &Path) -> std::path::PathBuf {
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
pub fn build(cfg: &Config, data_dir: &Path) -> Result<Tiers, TierError> {
    let mut out = HashMap::new();
    for t in &cfg.tiers {
        let inner: Arc<dyn ObjectStore> = match t.backend {
            Backend::Local => Arc::new(local::LocalTier::new(&t.name, local_root(t, data_dir))?),
            Backend::S3 => Arc::new(s3::S3Tier::new(t, cfg.migrator.multipart_threshold_bytes)?),
        };
        out.insert(t.name.clone(), Arc::new(chaos::ChaosStore::new(inner)));
    }
    Ok(out)
}
