//! Source clean-up in batches: one `DeleteObjects` request for up to 1,000 keys (exact versions
//! on a versioned bucket), each key answered on its own.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::S3Tier;
use crate::tiers::{ErrorKind, ObjectStore, OpError};

impl S3Tier {
    /// One `DeleteObjects` request; where the server has none, one DELETE per key.
    pub(super) async fn delete_batch(&self, items: &[(String, Option<String>)]) -> Vec<Result<(), OpError>> {
        if items.len() == 1 {
            return vec![self.delete(&items[0].0, items[0].1.as_deref()).await];
        }
        let ids: Result<Vec<_>, _> = items
            .iter()
            .map(|(k, v)| ObjectIdentifier::builder().key(k).set_version_id(v.clone()).build())
            .collect();
        let delete = ids.and_then(|ids| Delete::builder().set_objects(Some(ids)).quiet(true).build());
        let delete = match delete {
            Ok(d) => d,
            Err(e) => {
                let e = OpError::new(ErrorKind::Other, &self.name, "delete", &items[0].0, e.to_string());
                return items.iter().map(|_| Err(e.clone())).collect();
            }
        };
        match self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
        {
            Ok(out) => {
                let failed: std::collections::HashMap<(&str, Option<&str>), OpError> = out
                    .errors()
                    .iter()
                    .filter(|e| e.code() != Some("NoSuchKey") && e.code() != Some("NoSuchVersion"))
                    .map(|e| {
                        let key = e.key().unwrap_or_default();
                        let status = if e.code() == Some("AccessDenied") { 403 } else { 500 };
                        let kind = ErrorKind::from_http(status, e.code());
                        let err = OpError::new(kind, &self.name, "delete", key, e.message().unwrap_or_default());
                        ((key, e.version_id()), err)
                    })
                    .collect();
                items
                    .iter()
                    .map(|(k, v)| {
                        failed
                            .get(&(k.as_str(), v.as_deref()))
                            .or_else(|| failed.get(&(k.as_str(), None)))
                            .map_or(Ok(()), |e| Err(e.clone()))
                    })
                    .collect()
            }
            Err(e) if aws_sdk_s3::error::ProvideErrorMetadata::code(&e) == Some("NotImplemented") => {
                let mut out = Vec::with_capacity(items.len());
                for (k, v) in items {
                    out.push(self.delete(k, v.as_deref()).await);
                }
                out
            }
            Err(e) => {
                let e = self.err("delete", &items[0].0, e);
                items.iter().map(|_| Err(e.clone())).collect()
            }
        }
    }
}
