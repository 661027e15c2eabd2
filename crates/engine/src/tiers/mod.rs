//! Storage tiers: the `ObjectStore` trait, the local-directory backend, the chaos decorator, and
//! the seam (`RemoteBackend`) through which a backend outside the engine (S3, the `dim-s3` crate)
//! opens its tiers.

mod attrs;
mod build;
pub mod chaos;
mod hashing;
pub mod local;

use async_trait::async_trait;
use thiserror::Error;
use tokio::io::AsyncRead;

pub use attrs::Attributes;
pub use build::{RemoteBackend, Tiers, build, local_root};
pub use hashing::{HashingReader, ProgressReader, hex};

use crate::clock::Millis;

/// A streaming object body.
pub type Reader = Box<dyn AsyncRead + Send + Unpin>;

/// What HEAD tells about an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// The store's version identity: the S3 ETag, or size+mtime for a local file.
    pub etag: String,
    /// Last modification, wall clock, ms since the epoch.
    pub last_modified_ms: Millis,
    /// The S3 storage class (`None`: the store's default, STANDARD).
    pub storage_class: Option<String>,
    /// The exact version on a versioned bucket (`null` on a suspended one).
    pub version_id: Option<String>,
    /// Archive classes: whether a restored copy is readable (`Some(true)`), still being restored
    /// (`Some(false)`), or was never requested (`None`).
    pub restored: Option<bool>,
    /// Server-side encryption as the store reports it (`AES256`, `aws:kms`).
    pub sse: Option<String>,
}

impl ObjectMeta {
    /// The storage class, STANDARD when the store left it out (S3 omits it for STANDARD).
    pub fn class(&self) -> &str {
        self.storage_class.as_deref().unwrap_or(STANDARD)
    }
}

/// S3's default storage class.
pub const STANDARD: &str = "STANDARD";

/// What a completed write produced, checked again before the pointer moves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Written {
    pub size: u64,
    /// The destination's ETag after the write (what verification expects to see).
    pub etag: String,
    /// SHA-256 of the bytes, hex, computed while streaming them.
    pub sha256: Option<String>,
    /// What the object carries; verification checks the destination has exactly this.
    #[serde(default)]
    pub attrs: Attributes,
    /// The version the write created on a versioned bucket (what a clean-up of it deletes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// The exact object a copy reads: its ETag and, on a versioned bucket, its version.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    pub etag: &'a str,
    pub version_id: Option<&'a str>,
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

    /// Objects must be restored (S3 `RestoreObject`) before they can be read: how often to look
    /// whether a restore is done.
    fn needs_restore(&self) -> Option<std::time::Duration> {
        None
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, OpError>;

    /// HEAD and attributes in one: what a move reads before it copies (S3: one HEAD and, where
    /// the object has tags, their call).
    async fn describe(&self, key: &str) -> Result<Option<(ObjectMeta, Attributes)>, OpError> {
        match self.head(key).await? {
            Some(m) => Ok(Some((m, self.attributes(key, None).await?))),
            None => Ok(None),
        }
    }

    /// What the object (at `version`, or the current one) carries besides its bytes.
    async fn attributes(&self, key: &str, version: Option<&str>) -> Result<Attributes, OpError>;

    /// Streams the object (the current one, or exactly `from`); fails with `PreconditionFailed`
    /// if its ETag is not `from.etag`.
    async fn get(&self, key: &str, from: Option<Version<'_>>) -> Result<(ObjectMeta, Reader), OpError>;

    /// Writes `size` bytes from `body` at `key` with `attrs` (multipart above the store's
    /// threshold) and checks what the store received against hashes computed while streaming.
    async fn put(&self, key: &str, body: Reader, size: u64, attrs: &Attributes) -> Result<Written, OpError>;

    /// Server-side copy of exactly `from` (`size` bytes) out of `src` (same domain), written with
    /// `attrs`, this store's class and encryption. `src` may be this very bucket (a class change).
    async fn copy_from(
        &self,
        src: &CopySource,
        key: &str,
        from: Version<'_>,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
        let _ = (src, from, size, attrs);
        Err(OpError::new(
            ErrorKind::Other,
            self.tier(),
            "copy",
            key,
            "server-side copy is not supported here",
        ))
    }

    /// Asks for a restored copy of an archived object; done when it is readable.
    async fn restore(&self, key: &str, version: Option<&str>) -> Result<(), OpError> {
        let _ = version;
        Err(OpError::new(
            ErrorKind::Other,
            self.tier(),
            "restore",
            key,
            "this tier does not restore",
        ))
    }

    /// Checks that the object at `key` is exactly what `expected` describes: bytes (by checksum),
    /// attributes, and the store's class and encryption.
    async fn verify(&self, key: &str, expected: &Written) -> Result<bool, OpError> {
        Ok(self.difference(key, expected).await?.is_none())
    }

    /// What differs between the object at `key` and what `expected` describes, `None` when
    /// nothing does: "missing", "checksum" (the bytes), "storage class", "encryption", or which
    /// attribute ("Content-Type", "tags", …). Never the values: they may be private.
    async fn difference(&self, key: &str, expected: &Written) -> Result<Option<&'static str>, OpError>;

    /// Deletes `key` (exactly `version` on a versioned bucket, so no delete marker hides a
    /// version that keeps being billed); a missing object is not an error.
    async fn delete(&self, key: &str, version: Option<&str>) -> Result<(), OpError>;

    /// Deletes many objects; one result per item, in order. S3 sends them in `DeleteObjects`
    /// batches of up to 1,000.
    async fn delete_many(&self, items: &[(String, Option<String>)]) -> Vec<Result<(), OpError>> {
        let mut out = Vec::with_capacity(items.len());
        for (key, version) in items {
            out.push(self.delete(key, version.as_deref()).await);
        }
        out
    }

    /// Every object under `prefix` whose key sorts after `start_after` (all when `None`), with its
    /// metadata, in key order, handed over a page at a time (S3: each ListObjectsV2 page) so a
    /// long listing can show progress and resume after the last key it registered.
    async fn list_pages(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        on_page: &mut (dyn FnMut(Listing) + Send),
    ) -> Result<(), OpError>;

    /// Every object under `prefix`, with its metadata.
    async fn list(&self, prefix: &str) -> Result<Listing, OpError> {
        let mut out = Vec::new();
        self.list_pages(prefix, None, &mut |page| out.extend(page)).await?;
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
    #[error(
        "tier {tier} is on the {backend} backend, which this engine was started without \
         (the dim binary includes it; a program embedding the engine passes it in EngineOptions)"
    )]
    NoBackend { tier: String, backend: &'static str },
}

impl TierError {
    /// The disk (or the user's quota) is full: every write after this one fails the same way.
    pub fn is_full(&self) -> bool {
        match self {
            TierError::Io { source, .. } => {
                source.kind() == std::io::ErrorKind::StorageFull || source.kind() == std::io::ErrorKind::QuotaExceeded
            }
            _ => false,
        }
    }
}
