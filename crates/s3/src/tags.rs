//! An object's tags: their own S3 call, and none at all where a server has no tagging.

use super::S3Tier;
use crate::tiers::OpError;

impl S3Tier {
    /// The object's tags; none where the server has no tagging.
    pub(super) async fn tags(
        &self,
        key: &str,
        version: Option<&str>,
    ) -> Result<std::collections::BTreeMap<String, String>, OpError> {
        use std::sync::atomic::Ordering;
        if !self.tagging.load(Ordering::Relaxed) {
            return Ok(Default::default());
        }
        let r = self
            .client
            .get_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version.map(str::to_string))
            .send()
            .await;
        match r {
            Ok(o) => Ok(o
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()),
            Err(e) => {
                let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&e).map(str::to_string);
                let status = e.raw_response().map(|r| r.status().as_u16());
                if code.as_deref() == Some("NotImplemented") || status == Some(501) {
                    tracing::info!(target: "dim::tiers", tier = %self.name, "the server has no object tagging: no tags to keep");
                    self.tagging.store(false, Ordering::Relaxed);
                    return Ok(Default::default());
                }
                Err(self.err("tags", key, e))
            }
        }
    }
}
