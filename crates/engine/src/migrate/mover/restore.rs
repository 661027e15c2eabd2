//! Moves out of an archive class: the source is restored first, and the task waits in the
//! persisted `restoring` state (a restart goes on waiting rather than asking again).

use std::time::Duration;

use super::{MoveCtx, Outcome, RESTORING, Step};
use crate::clock::{Millis, wall_now_ms};
use crate::migrate::task::{Change, Task, TaskState};
use crate::store::StoreError;
use crate::tiers::chaos::ChaosStore;
use crate::tiers::{ObjectMeta, ObjectStore};

impl MoveCtx {
    /// Asks for a restore unless one is under way, and waits (persisted as `restoring`, so a
    /// restart goes on waiting instead of asking again) until the next look.
    pub(super) async fn await_restore(
        &self,
        t: &Task,
        src: &ChaosStore,
        meta: ObjectMeta,
        poll: Duration,
    ) -> Result<Step, StoreError> {
        if meta.restored.is_none() {
            let v = meta.version_id.clone();
            if let Err(e) = self.retry(&t.key, &t.src, || src.restore(&t.key, v.as_deref())).await {
                return self.fail_op(t, e).await.map(Step::End);
            }
            tracing::info!(target: "dim::migrate", key = %t.key, tier = %t.src, "restore requested");
        }
        let change = Change {
            reason: Some(RESTORING.to_string()),
            not_before: Some(wall_now_ms() + poll.as_millis() as Millis),
            size: Some(meta.size),
            src_etag: Some(meta.etag),
            src_version: meta.version_id,
            ..Change::default()
        };
        let next = self.step(t, TaskState::Restoring, change).await?;
        Ok(next.map_or(Step::End(Outcome::Cancelled), |_| {
            Step::End(Outcome::Later(RESTORING.into()))
        }))
    }

    /// A restore was asked for: copy once the restored object is readable.
    pub(super) async fn restoring(&self, t: &Task, src: &ChaosStore) -> Result<Step, StoreError> {
        let meta = match self.retry(&t.key, &t.src, || src.head(&t.key)).await {
            Ok(Some(m)) => m,
            Ok(None) => return self.source_missing(t).await.map(Step::End),
            Err(e) => return self.fail_op(t, e).await.map(Step::End),
        };
        if Some(&meta.etag) != t.src_etag.as_ref() {
            // Rewritten meanwhile: start over with what is there now.
            return Ok(Self::or_cancelled(
                self.step(t, TaskState::Pending, Change::default()).await?,
            ));
        }
        match (meta.restored, src.needs_restore()) {
            (Some(true), _) | (_, None) => {
                tracing::info!(target: "dim::migrate", key = %t.key, tier = %t.src, "restored; copying");
                Ok(Self::or_cancelled(
                    self.step(t, TaskState::Copying, Change::default()).await?,
                ))
            }
            (_, Some(poll)) => self.await_restore(t, src, meta, poll).await,
        }
    }
}
