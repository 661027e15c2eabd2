//! Writes to S3 with everything an object carries: single and multipart uploads checked against
//! the MD5 of what was sent, and server-side copies (multipart `UploadPartCopy` above the single
//! copy limit) of an exact source version.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, MetadataDirective, ServerSideEncryption, StorageClass, TaggingDirective,
};
use md5::{Digest, Md5};
use sha2::Sha256;
use tokio::io::AsyncReadExt;

use super::S3Tier;
use super::read::http_date;
use super::wire::{b64, encode_key, trim_etag};
use crate::tiers::hex;
use crate::tiers::{Attributes, CopySource, ErrorKind, OpError, Reader, STANDARD, Version, Written};

/// S3's limit on parts per upload; parts grow past the threshold to stay under it.
const MAX_PARTS: u64 = 10_000;

/// Sets, on any S3 write request builder, the object's attributes and the tier's class and
/// encryption (the builders share setter names but no trait).
macro_rules! with_attrs {
    ($b:expr, $tier:expr, $a:expr) => {{
        let (tier, a): (&S3Tier, &Attributes) = ($tier, $a);
        $b.set_content_type(a.content_type.clone())
            .set_content_encoding(a.content_encoding.clone())
            .set_cache_control(a.cache_control.clone())
            .set_content_disposition(a.content_disposition.clone())
            .set_content_language(a.content_language.clone())
            .set_expires(a.expires.as_deref().and_then(http_date))
            .set_metadata((!a.user.is_empty()).then(|| a.user.clone().into_iter().collect()))
            .set_tagging(a.tagging_header())
            .set_storage_class(tier.class_header().map(StorageClass::from))
            .set_server_side_encryption(tier.sse.map(|s| ServerSideEncryption::from(s.as_str())))
            .set_ssekms_key_id(tier.kms_key.clone())
    }};
}

impl S3Tier {
    /// The class to send: none for STANDARD (the default, and all some servers accept).
    pub(super) fn class_header(&self) -> Option<&str> {
        self.storage_class.as_deref().filter(|c| *c != STANDARD)
    }

    fn written(&self, size: u64, etag: String, sha256: Option<String>, attrs: &Attributes, v: Option<&str>) -> Written {
        Written {
            size,
            etag,
            sha256,
            attrs: attrs.clone(),
            version_id: v.map(str::to_string),
        }
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

    pub(super) async fn put_single(
        &self,
        key: &str,
        mut body: Reader,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
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
        let mut sent = attrs.clone();
        sent.user.insert("dim-sha256".into(), sha.clone());
        let req = self.client.put_object().bucket(&self.bucket).key(key);
        let out = with_attrs!(req, self, &sent)
            .content_length(size as i64)
            .content_md5(b64(&md5))
            .body(ByteStream::from(buf))
            .send()
            .await
            .map_err(|e| self.err("put", key, e))?;
        let etag = self.check_md5(key, out.e_tag(), &md5, "")?;
        Ok(self.written(size, etag, Some(sha), &sent, out.version_id()))
    }

    pub(super) async fn put_multipart(
        &self,
        key: &str,
        mut body: Reader,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
        let part_size = self.multipart_threshold.max(size.div_ceil(MAX_PARTS));
        let mut sha = Sha256::new();
        let (etag, version) = self
            .in_parts("put", key, attrs, async |upload_id: &str| {
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
                        .upload_id(upload_id)
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
                Ok(parts)
            })
            .await?;
        Ok(self.written(size, etag, Some(hex(&sha.finalize())), attrs, version.as_deref()))
    }

    /// A multipart upload with `attrs`: started, its parts written by `parts`, completed — or
    /// aborted if anything failed, so no orphan parts stay billed. The ETag and version made.
    async fn in_parts(
        &self,
        op: &'static str,
        key: &str,
        attrs: &Attributes,
        parts: impl AsyncFnOnce(&str) -> Result<Vec<CompletedPart>, OpError>,
    ) -> Result<(String, Option<String>), OpError> {
        let req = self.client.create_multipart_upload().bucket(&self.bucket).key(key);
        let up = with_attrs!(req, self, attrs)
            .send()
            .await
            .map_err(|e| self.err(op, key, e))?;
        let upload_id = up.upload_id().unwrap_or_default().to_string();
        let result = match parts(&upload_id).await {
            Ok(parts) => self.complete(key, &upload_id, parts).await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.abort(key, &upload_id).await;
        }
        result
    }

    /// Completes an upload; its ETag and the version it created.
    async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<(String, Option<String>), OpError> {
        let done = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| self.err("put", key, e))?;
        Ok((trim_etag(done.e_tag()), done.version_id().map(str::to_string)))
    }

    async fn abort(&self, key: &str, upload_id: &str) {
        let _ = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
    }

    /// `x-amz-copy-source` for exactly `from`.
    fn copy_source_header(src: &CopySource, key: &str, from: Version<'_>) -> String {
        let mut s = format!("{}/{}", src.bucket, encode_key(key));
        if let Some(v) = from.version_id {
            s.push_str("?versionId=");
            s.push_str(&encode_key(v));
        }
        s
    }

    pub(super) async fn copy_single(
        &self,
        src: &CopySource,
        key: &str,
        from: Version<'_>,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
        let req = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(key)
            .copy_source(Self::copy_source_header(src, key, from))
            .copy_source_if_match(format!("\"{}\"", from.etag))
            // Everything is written as read (and verified as written); the class and encryption
            // are this tier's.
            .metadata_directive(MetadataDirective::Replace);
        let req = if attrs.tags.is_empty() {
            req
        } else {
            req.tagging_directive(TaggingDirective::Replace)
        };
        let out = with_attrs!(req, self, attrs)
            .send()
            .await
            .map_err(|e| self.err("copy", key, e))?;
        let etag = trim_etag(out.copy_object_result().and_then(|r| r.e_tag()));
        Ok(self.written(size, etag, None, attrs, out.version_id()))
    }

    /// A server-side copy in parts (`UploadPartCopy`), for objects above the single-copy limit.
    pub(super) async fn copy_multipart(
        &self,
        src: &CopySource,
        key: &str,
        from: Version<'_>,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
        let part_size = self
            .max_copy_bytes
            .min(self.multipart_threshold.max(64 << 20))
            .max(size.div_ceil(MAX_PARTS))
            // S3's smallest part (but the last).
            .max(5 << 20);
        let source = Self::copy_source_header(src, key, from);
        let (etag, version) = self
            .in_parts("copy", key, attrs, async |upload_id: &str| {
                let mut parts = Vec::new();
                let mut start = 0u64;
                let mut number = 1;
                while start < size {
                    let end = (start + part_size).min(size) - 1;
                    let out = self
                        .client
                        .upload_part_copy()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(upload_id)
                        .part_number(number)
                        .copy_source(&source)
                        .copy_source_if_match(format!("\"{}\"", from.etag))
                        .copy_source_range(format!("bytes={start}-{end}"))
                        .send()
                        .await
                        .map_err(|e| self.err("copy", key, e))?;
                    let etag = trim_etag(out.copy_part_result().and_then(|r| r.e_tag()));
                    parts.push(CompletedPart::builder().part_number(number).e_tag(etag).build());
                    start = end + 1;
                    number += 1;
                }
                Ok(parts)
            })
            .await?;
        Ok(self.written(size, etag, None, attrs, version.as_deref()))
    }
}
