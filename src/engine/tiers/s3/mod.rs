//! An S3 tier (MinIO, Garage, AWS): path-style, credentials from named env vars, SDK retries off so the engine's backoff is the only policy.

mod wire;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use md5::{Digest, Md5};
use sha2::Sha256;
use tokio::io::AsyncReadExt;

use super::hashing::hex;
use super::{CopySource, ErrorKind, Listing, ObjectMeta, ObjectStore, OpError, Reader, TierError, Written};
use crate::config::TierConfig;
use wire::{b64, classify, encode_key, env, trim_etag};

/// S3's limit on parts per upload; parts grow past `multipart_threshold` to stay under it.
const MAX_PARTS: u64 = 10_000;

pub struct S3Tier {
    name: String,
    bucket: String,
    domain: String,
    endpoint: String,
    client: Client,
    multipart_threshold: u64,
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
    pub fn new(t: &TierConfig, multipart_threshold: u64) -> Result<Self, TierError> {
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
            multipart_threshold: multipart_threshold.max(5 << 20),
        })
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket (benchmarks and demos create their own).
    pub async fn create_bucket(&self) -> Result<(), OpError> {
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("create_bucket", &self.bucket, e))
    }

    /// Deletes every object in the bucket, then the bucket.
    pub async fn delete_bucket(&self) -> Result<(), OpError> {
        for (key, _) in self.list("").await? {
            self.delete(&key).await?;
        }
        self.client
            .delete_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("delete_bucket", &self.bucket, e))
    }

    fn err<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        op: &'static str,
        key: &str,
        e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> OpError {
        OpError::new(classify(&e), &self.name, op, key, DisplayErrorContext(&e).to_string())
    }

    fn io_err(&self, op: &'static str, key: &str, e: std::io::Error) -> OpError {
        OpError::new(ErrorKind::from_io(e.kind()), &self.name, op, key, e.to_string())
    }

    /// The ETag a PUT returned, which must be the MD5 of the bytes sent (what the server stored).
    fn check_md5(&self, key: &str, etag: Option<&str>, md5: &[u8], what: &str) -> Result<String, OpError> {
        let etag = trim_etag(etag);
        if etag != hex(md5) {
            return Err(OpError::new(
                ErrorKind::BadDigest,
                &self.name,
                "put",
                key,
                format!("{what}server ETag {etag} is not the MD5 of what was sent"),
            ));
        }
        Ok(etag)
    }

    async fn put_single(&self, key: &str, mut body: Reader, size: u64) -> Result<Written, OpError> {
        let mut buf = Vec::with_capacity(size as usize);
        body.read_to_end(&mut buf)
            .await
            .map_err(|e| self.io_err("put", key, e))?;
        if buf.len() as u64 != size {
            return Err(OpError::new(
                ErrorKind::Connection,
                &self.name,
                "put",
                key,
                format!("body ended after {} of {size} bytes", buf.len()),
            ));
        }
        let md5 = Md5::digest(&buf);
        let sha = hex(&Sha256::digest(&buf));
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_length(size as i64)
            .content_md5(b64(&md5))
            .metadata("dim-sha256", &sha)
            .body(ByteStream::from(buf))
            .send()
            .await
            .map_err(|e| self.err("put", key, e))?;
        let etag = self.check_md5(key, out.e_tag(), &md5, "")?;
        Ok(Written {
            size,
            etag,
            sha256: Some(sha),
        })
    }

    async fn put_multipart(&self, key: &str, mut body: Reader, size: u64) -> Result<Written, OpError> {
        let part_size = self.multipart_threshold.max(size.div_ceil(MAX_PARTS));
        let up = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.err("put", key, e))?;
        let upload_id = up.upload_id().unwrap_or_default().to_string();
        let result = async {
            let mut sha = Sha256::new();
            let mut parts = Vec::new();
            let mut sent = 0u64;
            let mut number = 1;
            while sent < size {
                let want = part_size.min(size - sent) as usize;
                let mut buf = vec![0u8; want];
                body.read_exact(&mut buf)
                    .await
                    .map_err(|e| self.io_err("put", key, e))?;
                sha.update(&buf);
                let md5 = Md5::digest(&buf);
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .content_length(want as i64)
                    .content_md5(b64(&md5))
                    .body(ByteStream::from(buf))
                    .send()
                    .await
                    .map_err(|e| self.err("put", key, e))?;
                let etag = self.check_md5(key, out.e_tag(), &md5, &format!("part {number}: "))?;
                parts.push(CompletedPart::builder().part_number(number).e_tag(etag).build());
                sent += want as u64;
                number += 1;
            }
            let done = self
                .client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await
                .map_err(|e| self.err("put", key, e))?;
            Ok(Written {
                size,
                etag: trim_etag(done.e_tag()),
                sha256: Some(hex(&sha.finalize())),
            })
        }
        .await;
        if result.is_err() {
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        result
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

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, OpError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(o) => Ok(Some(ObjectMeta {
                size: o.content_length().unwrap_or(0).max(0) as u64,
                etag: trim_etag(o.e_tag()),
                last_modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()).unwrap_or(0),
            })),
            Err(e) => {
                let err = self.err("head", key, e);
                if err.kind == ErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn get(&self, key: &str, if_match: Option<&str>) -> Result<(ObjectMeta, Reader), OpError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_if_match(if_match.map(|e| format!("\"{e}\"")))
            .send()
            .await
            .map_err(|e| self.err("get", key, e))?;
        let meta = ObjectMeta {
            size: out.content_length().unwrap_or(0).max(0) as u64,
            etag: trim_etag(out.e_tag()),
            last_modified_ms: out.last_modified().and_then(|t| t.to_millis().ok()).unwrap_or(0),
        };
        Ok((meta, Box::new(out.body.into_async_read())))
    }

    async fn put(&self, key: &str, body: Reader, size: u64) -> Result<Written, OpError> {
        if size <= self.multipart_threshold {
            self.put_single(key, body, size).await
        } else {
            self.put_multipart(key, body, size).await
        }
    }

    async fn copy_from(&self, src: &CopySource, key: &str, if_match: &str, size: u64) -> Result<Written, OpError> {
        let out = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(key)
            .copy_source(format!("{}/{}", src.bucket, encode_key(key)))
            .copy_source_if_match(format!("\"{if_match}\""))
            .send()
            .await
            .map_err(|e| self.err("copy", key, e))?;
        // The copy is of exactly the version `if_match` names, so its size is known; verification
        // checks it against the destination.
        let etag = trim_etag(out.copy_object_result().and_then(|r| r.e_tag()));
        Ok(Written {
            size,
            etag,
            sha256: None,
        })
    }

    async fn verify(&self, key: &str, expected: &Written) -> Result<bool, OpError> {
        Ok(self
            .head(key)
            .await?
            .is_some_and(|m| m.size == expected.size && m.etag == expected.etag))
    }

    async fn delete(&self, key: &str) -> Result<(), OpError> {
        match self.client.delete_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = self.err("delete", key, e);
                if err.kind == ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn list_pages(&self, prefix: &str, on_page: &mut (dyn FnMut(Listing) + Send)) -> Result<(), OpError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("list", prefix, e))?;
            let mut out = Vec::with_capacity(page.contents().len());
            for o in page.contents() {
                let Some(key) = o.key() else { continue };
                out.push((
                    key.to_string(),
                    ObjectMeta {
                        size: o.size().unwrap_or(0).max(0) as u64,
                        etag: trim_etag(o.e_tag()),
                        last_modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()).unwrap_or(0),
                    },
                ));
            }
            on_page(out);
        }
        Ok(())
    }
}
