//! Creating and removing a whole bucket: the housekeeping of benchmarks, demos and tests, not
//! a move.

use dim_engine::migrate::backoff::retry;

use crate::S3Tier;
use crate::tiers::{ObjectStore, OpError};

impl S3Tier {
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

    /// Deletes every object in the bucket, then the bucket. Each request is retried under the
    /// migrator's backoff: a server that answers 503 for a moment (Garage's metadata database
    /// busy) must not leave a half-emptied bucket behind.
    pub async fn delete_bucket(&self) -> Result<(), OpError> {
        let keys = retry(self.policy, "", &self.name, |_| {}, || self.list("")).await?;
        for (key, _) in keys {
            retry(self.policy, &key, &self.name, |_| {}, || self.delete(&key, None)).await?;
        }
        let bucket = || async {
            self.client
                .delete_bucket()
                .bucket(&self.bucket)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.err("delete_bucket", &self.bucket, e))
        };
        retry(self.policy, &self.bucket, &self.name, |_| {}, bucket).await
    }
}
