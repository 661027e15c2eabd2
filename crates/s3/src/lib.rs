//! An S3 tier (MinIO, Garage, AWS): a bucket, or one storage class of a bucket; path-style,
//! credentials from named env vars, SDK retries off so the engine's backoff is the only policy.
//! A crate of its own so that the engine builds without the AWS SDK and its HTTP client: the
//! engine knows tiers through `ObjectStore`, and the binary hands it this backend
//! ([`S3Backend`]) for the tiers configured `backend = "s3"`.

// In the crate, not Cargo.toml: a `[lints]` table would reach the integration tests too, where
// `unwrap()` is the assertion.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(unreachable_pub)]

/// Our crates under the names the modules use (`crate::config::…`, `crate::tiers::…`).
use dim_config as config;
use dim_engine::tiers;

mod backend;
mod batch;
mod bucket;
mod https;
mod read;
mod tags;
mod wire;
mod write;

pub use backend::S3Backend;
pub use https::https_client;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{GlacierJobParameters, RestoreRequest, Tier};
use md5::{Digest, Md5};

use crate::config::{MigratorConfig, RestoreConfig, Sse, TierConfig};
use crate::tiers::{
    Attributes, CopySource, ErrorKind, Listing, ObjectMeta, ObjectStore, OpError, Reader, STANDARD, TierError, Version,
    Written, hex,
};
use dim_engine::migrate::backoff::Policy;
use read::headers_of;
use wire::{classify, env, in_words, trim_etag};

/// Which objects of its bucket a tier lists (tiers sharing a bucket split it by class).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    All,
    Only(String),
    /// Every class but those the bucket's other tiers name.
    AllBut(Vec<String>),
}

impl Listed {
    fn keeps(&self, class: &str) -> bool {
        match self {
            Listed::All => true,
            Listed::Only(c) => c == class,
            Listed::AllBut(others) => !others.iter().any(|c| c == class),
        }
    }
}

/// Keys per `DeleteObjects` request (S3's limit).
const DELETE_BATCH: usize = 1000;

pub struct S3Tier {
    name: String,
    bucket: String,
    domain: String,
    endpoint: String,
    client: Client,
    multipart_threshold: u64,
    max_copy_bytes: u64,
    /// The class objects written here get (`None`: STANDARD).
    storage_class: Option<String>,
    /// On a bucket shared by several tiers: the classes this tier's listing keeps.
    listed: Listed,
    restore: Option<RestoreConfig>,
    sse: Option<Sse>,
    kms_key: Option<String>,
    /// Cleared when the server answers that it has no object tagging (Garage): no tags to keep.
    tagging: std::sync::atomic::AtomicBool,
    /// The migrator's backoff, for the bucket housekeeping that is not a move.
    policy: Policy,
}

impl std::fmt::Debug for S3Tier {
    // Never print the client: its config holds the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Tier")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl S3Tier {
    pub fn new(t: &TierConfig, m: &MigratorConfig) -> Result<Self, TierError> {
        let cfg_err = |m: &str| TierError::Config {
            tier: t.name.clone(),
            message: m.to_string(),
        };
        let bucket = t.bucket.clone().ok_or_else(|| cfg_err("an s3 tier needs a bucket"))?;
        let region = t.region.clone().unwrap_or_else(|| "us-east-1".into());
        let ak_var = t.access_key_env.clone().unwrap_or_else(|| "AWS_ACCESS_KEY_ID".into());
        let sk_var = t
            .secret_key_env
            .clone()
            .unwrap_or_else(|| "AWS_SECRET_ACCESS_KEY".into());
        let access_key = env(&t.name, &ak_var)?;
        let secret_key = env(&t.name, &sk_var)?;
        let mut b = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(https_client())
            .region(Region::new(region.clone()))
            .credentials_provider(Credentials::new(
                access_key.clone(),
                secret_key,
                None,
                None,
                "dim-config",
            ))
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .read_timeout(Duration::from_secs(60))
                    .build(),
            )
            // Checksums only where the API requires them: many S3-compatible servers reject
            // the SDK's default streaming checksum trailers. Integrity is checked with
            // Content-MD5 and per-part ETags instead.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        let endpoint = t.endpoint.clone().unwrap_or_default();
        if !endpoint.is_empty() {
            b = b.endpoint_url(endpoint.clone());
        }
        // Same endpoint, region and account: a server-side copy can read the source.
        let account = hex(&Md5::digest(access_key.as_bytes()));
        Ok(Self {
            name: t.name.clone(),
            domain: format!("{endpoint}|{region}|{account}"),
            endpoint,
            bucket,
            client: Client::from_conf(b.build()),
            multipart_threshold: m.multipart_threshold_bytes.max(5 << 20),
            max_copy_bytes: m.max_copy_bytes.max(1),
            storage_class: t.storage_class.clone().filter(|c| !c.is_empty()),
            listed: Listed::All,
            // An archive class (the catalog gives it a restore time) restores before reads.
            restore: t
                .restore
                .clone()
                .or_else(|| (t.restore_hours > 0.0).then(RestoreConfig::default)),
            sse: t.sse,
            kms_key: t.sse_kms_key_id.clone(),
            tagging: std::sync::atomic::AtomicBool::new(true),
            policy: Policy::from_config(m),
        })
    }

    /// The class this tier's objects have.
    pub fn class(&self) -> &str {
        self.storage_class.as_deref().unwrap_or(STANDARD)
    }

    /// Lists only the objects `listed` keeps (for tiers sharing a bucket).
    pub fn listing(mut self, listed: Listed) -> Self {
        self.listed = listed;
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub(crate) fn err<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        op: &'static str,
        key: &str,
        e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> OpError {
        OpError::new(classify(&e), &self.name, op, key, in_words(&e, &self.endpoint))
    }

    pub(crate) fn io_err(&self, op: &'static str, key: &str, e: std::io::Error) -> OpError {
        OpError::new(ErrorKind::from_io(e.kind()), &self.name, op, key, e.to_string())
    }
}

impl S3Tier {
    fn not_found_is_none<T>(&self, r: Result<T, OpError>) -> Result<Option<T>, OpError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The object (current, or `version`) as a move reads it: its metadata, and its attributes
    /// with tags and with its Last-Modified kept as the original mtime (the store sets its own
    /// on a copy).
    async fn described(&self, key: &str, version: Option<&str>) -> Result<Option<(ObjectMeta, Attributes)>, OpError> {
        let Some((meta, mut attrs)) = self.head_full(key, version).await? else {
            return Ok(None);
        };
        attrs.keep_mtime(meta.last_modified_ms);
        attrs.tags = self.tags(key, meta.version_id.as_deref().or(version)).await?;
        Ok(Some((meta, attrs)))
    }

    /// HEAD of the current object or of `version`: its metadata and attributes (without tags).
    async fn head_full(&self, key: &str, version: Option<&str>) -> Result<Option<(ObjectMeta, Attributes)>, OpError> {
        let r = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_string))
            .send()
            .await
            .map_err(|e| self.err("head", key, e))
            .map(|o| {
                let h = headers_of!(&o);
                (h.meta(), h.attributes())
            });
        self.not_found_is_none(r)
    }
}

#[async_trait]
impl ObjectStore for S3Tier {
    fn tier(&self) -> &str {
        &self.name
    }

    fn copy_source(&self) -> Option<CopySource> {
        Some(CopySource {
            domain: self.domain.clone(),
            bucket: self.bucket.clone(),
        })
    }

    fn needs_restore(&self) -> Option<Duration> {
        self.restore.as_ref().map(|r| Duration::from_secs(r.poll_secs.max(1)))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, OpError> {
        Ok(self.head_full(key, None).await?.map(|(m, _)| m))
    }

    async fn describe(&self, key: &str) -> Result<Option<(ObjectMeta, Attributes)>, OpError> {
        self.described(key, None).await
    }

    async fn attributes(&self, key: &str, version: Option<&str>) -> Result<Attributes, OpError> {
        match self.described(key, version).await? {
            Some((_, attrs)) => Ok(attrs),
            None => Err(OpError::new(
                ErrorKind::NotFound,
                &self.name,
                "head",
                key,
                "no such object",
            )),
        }
    }

    async fn get(&self, key: &str, from: Option<Version<'_>>) -> Result<(ObjectMeta, Reader), OpError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(from.and_then(|v| v.version_id).map(str::to_string))
            .set_if_match(from.map(|v| format!("\"{}\"", v.etag)))
            .send()
            .await
            .map_err(|e| self.err("get", key, e))?;
        let meta = headers_of!(&out).meta();
        Ok((meta, Box::new(out.body.into_async_read())))
    }

    async fn put(&self, key: &str, body: Reader, size: u64, attrs: &Attributes) -> Result<Written, OpError> {
        if size <= self.multipart_threshold {
            self.put_single(key, body, size, attrs).await
        } else {
            self.put_multipart(key, body, size, attrs).await
        }
    }

    async fn copy_from(
        &self,
        src: &CopySource,
        key: &str,
        from: Version<'_>,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
        if size > self.max_copy_bytes {
            self.copy_multipart(src, key, from, size, attrs).await
        } else {
            self.copy_single(src, key, from, size, attrs).await
        }
    }

    async fn restore(&self, key: &str, version: Option<&str>) -> Result<(), OpError> {
        let cfg = self.restore.clone().unwrap_or_default();
        let req = RestoreRequest::builder()
            .days(cfg.days as i32)
            .glacier_job_parameters(
                GlacierJobParameters::builder()
                    .tier(Tier::from(cfg.tier.as_str()))
                    .build()
                    .map_err(|e| OpError::new(ErrorKind::Other, &self.name, "restore", key, e.to_string()))?,
            )
            .build();
        let r = self
            .client
            .restore_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_string))
            .restore_request(req)
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if aws_sdk_s3::error::ProvideErrorMetadata::code(&e) == Some("RestoreAlreadyInProgress") => Ok(()),
            Err(e) => Err(self.err("restore", key, e)),
        }
    }

    async fn difference(&self, key: &str, expected: &Written) -> Result<Option<&'static str>, OpError> {
        let Some((meta, mut attrs)) = self.head_full(key, None).await? else {
            return Ok(Some("missing"));
        };
        let why;
        if meta.size != expected.size || meta.etag != expected.etag {
            // The ETag is the MD5 of the bytes (per part for multipart uploads).
            why = Some("checksum");
        } else if meta.class() != self.class() {
            why = Some("storage class");
        } else if self.sse.is_some_and(|s| meta.sse.as_deref() != Some(s.as_str())) {
            why = Some("encryption");
        } else {
            attrs.tags = self.tags(key, None).await?;
            why = expected.attrs.difference(&attrs);
        }
        if let Some(what) = why {
            tracing::warn!(target: "dim::tiers", tier = %self.name, key, what, "the object differs from what was written");
        }
        Ok(why)
    }

    async fn delete(&self, key: &str, version: Option<&str>) -> Result<(), OpError> {
        let r = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_string))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("delete", key, e));
        self.not_found_is_none(r).map(|_| ())
    }

    async fn delete_many(&self, items: &[(String, Option<String>)]) -> Vec<Result<(), OpError>> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(DELETE_BATCH) {
            out.extend(self.delete_batch(chunk).await);
        }
        out
    }

    async fn list_pages(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        on_page: &mut (dyn FnMut(Listing) + Send),
    ) -> Result<(), OpError> {
        // StartAfter rather than a stored continuation token: any key resumes a listing, on any
        // server, however long ago the token would have been handed out.
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_start_after(start_after.map(str::to_string))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("list", prefix, e))?;
            let mut out = Vec::with_capacity(page.contents().len());
            for o in page.contents() {
                let Some(key) = o.key() else { continue };
                let class = o.storage_class().map(|c| c.as_str().to_string());
                let class_name = class.as_deref().unwrap_or(STANDARD);
                if !self.listed.keeps(class_name) {
                    continue;
                }
                out.push((
                    key.to_string(),
                    ObjectMeta {
                        size: o.size().unwrap_or(0).max(0) as u64,
                        etag: trim_etag(o.e_tag()),
                        last_modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()).unwrap_or(0),
                        storage_class: class,
                        ..ObjectMeta::default()
                    },
                ));
            }
            on_page(out);
        }
        Ok(())
    }
}
