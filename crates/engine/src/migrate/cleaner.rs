//! Source clean-up in batches: the deletes workers ask of one tier at about the same time go to
//! it as one request (S3 `DeleteObjects`, up to 1,000 keys), each answered on its own. A worker
//! asks only once its task's pointer has switched, so the order "verified and switched, then
//! deleted" holds for every key of a batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::sync::lock;
use crate::tiers::chaos::ChaosStore;
use crate::tiers::{ErrorKind, ObjectStore, OpError};

/// Keys per batch (S3's `DeleteObjects` limit).
const BATCH: usize = 1000;
/// A batch closes after this long without a new request…
const GAP: Duration = Duration::from_millis(5);
/// …or this long after its first.
const LINGER: Duration = Duration::from_millis(50);

struct Job {
    key: String,
    version: Option<String>,
    reply: oneshot::Sender<Result<(), OpError>>,
}

/// One batching queue per source tier, started on first use.
#[derive(Default)]
pub(super) struct Cleaner {
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Job>>>,
}

impl Cleaner {
    /// Deletes `key` (exactly `version`, if given) from `tier`, batched with other deletes.
    pub(super) async fn delete(&self, tier: &Arc<ChaosStore>, key: &str, version: Option<&str>) -> Result<(), OpError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            key: key.to_string(),
            version: version.map(str::to_string),
            reply,
        };
        let sent = {
            let mut queues = lock(&self.queues);
            let tx = queues.entry(tier.tier().to_string()).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(batcher(tier.clone(), rx));
                tx
            });
            tx.send(job)
        };
        let gone = || {
            OpError::new(
                ErrorKind::Other,
                tier.tier(),
                "delete",
                key,
                "the clean-up queue stopped",
            )
        };
        if sent.is_err() {
            return Err(gone());
        }
        answer.await.unwrap_or_else(|_| Err(gone()))
    }
}

async fn batcher(tier: Arc<ChaosStore>, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        // Gather what the other workers ask for meanwhile: until a short pause with no new
        // request, at most `LINGER` (a clean-up is not waited for, so a few ms cost nothing).
        let until = tokio::time::Instant::now() + LINGER;
        while jobs.len() < BATCH {
            let wait = GAP.min(until.saturating_duration_since(tokio::time::Instant::now()));
            match tokio::time::timeout(wait, rx.recv()).await {
                Ok(Some(j)) => jobs.push(j),
                _ => break,
            }
        }
        let items: Vec<(String, Option<String>)> = jobs.iter().map(|j| (j.key.clone(), j.version.clone())).collect();
        let results = tier.delete_many(&items).await;
        for (job, r) in jobs.into_iter().zip(results) {
            let _ = job.reply.send(r);
        }
    }
}
