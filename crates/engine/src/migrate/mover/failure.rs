//! When a move cannot go on: the source vanished, the object is still being written, an
//! operation failed (retry with backoff, or give up), or a cancelled task left a copy behind.

use super::{MoveCtx, Outcome, Step};
use crate::clock::{Millis, wall_now_ms};
use crate::migrate::task::{self, Change, FILE_GROWING, Task, TaskState};
use crate::store::StoreError;
use crate::tiers::{ErrorKind, ObjectStore, OpError};

impl MoveCtx {
    /// The source has no object. Deleted by its owner (the row is gone), or moved by someone
    /// else: the task has nothing left to do. Still placed there: the DELETE event may not be
    /// ingested yet, so look again shortly; a second miss means the object is really missing.
    pub(super) async fn source_missing(&self, t: &Task) -> Result<Outcome, StoreError> {
        let key = t.key.clone();
        let pointer = self.store.write(move |c| crate::store::placement(c, &key)).await?;
        let placed_here = pointer.as_ref().is_some_and(|p| p.as_deref() == Some(t.src.as_str()));
        if !placed_here {
            let why = if pointer.is_none() {
                "object was deleted meanwhile"
            } else {
                "object was moved elsewhere meanwhile"
            };
            tracing::info!(target: "dim::migrate", key = %t.key, why, "task cancelled");
            if t.state == TaskState::Copying {
                self.remove_copy(t).await;
            }
            let change = Change {
                reason: Some(why.to_string()),
                ..Change::default()
            };
            self.step(t, TaskState::Cancelled, change).await?;
            return Ok(Outcome::Cancelled);
        }
        if t.reason.as_deref() != Some(task::SOURCE_MISSING) {
            let next = self
                .step(
                    t,
                    TaskState::Deferred,
                    Change {
                        reason: Some(task::SOURCE_MISSING.to_string()),
                        not_before: Some(wall_now_ms() + 2_000),
                        ..Change::default()
                    },
                )
                .await?;
            return Ok(match next {
                Some(_) => Outcome::Deferred(task::SOURCE_MISSING.into()),
                None => Outcome::Cancelled,
            });
        }
        let why = format!("source object not found on {}", t.src);
        self.fail(t, why, t.attempts + 1).await
    }

    pub(super) async fn defer_growing(&self, t: &Task, not_before: Millis) -> Result<Step, StoreError> {
        tracing::info!(target: "dim::migrate", key = %t.key, tier = %t.src, "deferred: file_growing (modified within the growing window)");
        let next = self
            .step(
                t,
                TaskState::Deferred,
                Change {
                    reason: Some(FILE_GROWING.to_string()),
                    not_before: Some(not_before.max(wall_now_ms() + 100)),
                    ..Change::default()
                },
            )
            .await?;
        Ok(match next {
            Some(_) => Step::End(Outcome::Deferred(FILE_GROWING.into())),
            None => Step::End(Outcome::Cancelled),
        })
    }

    /// Fails the task on an operation error: a retryable one has used up every attempt.
    pub(super) async fn fail_op(&self, t: &Task, e: OpError) -> Result<Outcome, StoreError> {
        // The source vanished under a read: deleted by its owner, most likely.
        if e.kind == ErrorKind::NotFound
            && e.tier == t.src
            && matches!(t.state, TaskState::Pending | TaskState::Deferred | TaskState::Copying)
        {
            return self.source_missing(t).await;
        }
        let attempts = if e.kind.retryable() {
            self.policy.max_attempts
        } else {
            t.attempts + 1
        };
        self.fail(t, e.to_string(), attempts).await
    }

    /// Fails the task with `why` and removes any copy it left on the destination.
    pub(super) async fn fail(&self, t: &Task, why: String, attempts: u32) -> Result<Outcome, StoreError> {
        tracing::error!(target: "dim::migrate", key = %t.key, from = %t.src, to = %t.dst, attempts, reason = %why, "migration failed");
        if matches!(
            t.state,
            TaskState::Copying | TaskState::Verifying | TaskState::Switching
        ) {
            self.remove_copy(t).await;
        }
        let change = Change {
            reason: Some(why.clone()),
            attempts: Some(attempts),
            ..Change::default()
        };
        self.step(t, TaskState::Failed, change).await?;
        Ok(Outcome::Failed(why))
    }

    /// Deletes the destination copy of a task that will not complete, unless the pointer names it.
    pub async fn remove_copy(&self, t: &Task) {
        let key = t.key.clone();
        let pointer = self
            .store
            .write(move |c| Ok(crate::store::tier_of(c, &key).ok().flatten()))
            .await
            .ok()
            .flatten();
        // In place, the "copy" is the object itself.
        if pointer.as_deref() == Some(t.dst.as_str()) || self.in_place(t) {
            return;
        }
        let version = t.written.as_ref().and_then(|w| w.version_id.clone());
        if let Some(dst) = self.tier(&t.dst)
            && let Err(e) = self
                .retry(&t.key, &t.dst, || dst.delete(&t.key, version.as_deref()))
                .await
        {
            tracing::warn!(target: "dim::migrate", key = %t.key, tier = %t.dst, error = %e, "could not remove an unused copy");
        }
    }
}
