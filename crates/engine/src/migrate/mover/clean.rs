//! The last step of a move: the source is deleted (batched, in the background for the worker
//! pool), only ever after the pointer has switched; between classes of one bucket there is
//! nothing to delete.

use std::sync::Arc;

use super::{MoveCtx, Outcome, Step};
use crate::clock::{Millis, wall_now_ms};
use crate::migrate::task::{Change, Task, TaskState};
use crate::store::StoreError;
use crate::tiers::OpError;
use crate::tiers::chaos::ChaosStore;

impl MoveCtx {
    pub(super) async fn clean(&self, t: &Task, src: &Arc<ChaosStore>) -> Result<Step, StoreError> {
        if self.in_place(t) {
            return self.cleaned(t, Ok(())).await;
        }
        if self.background_clean {
            crate::sync::lock(&self.cleaning).insert(t.id);
            let (me, t, src) = (self.clone(), t.clone(), src.clone());
            tokio::spawn(async move {
                let v = t.src_version.as_deref();
                let deleted = me.retry(&t.key, &t.src, || me.cleaner.delete(&src, &t.key, v)).await;
                if let Err(e) = me.cleaned(&t, deleted).await {
                    tracing::error!(target: "dim::migrate", key = %t.key, error = %e, "store error after a clean-up; it resumes from cleaning");
                }
                crate::sync::lock(&me.cleaning).remove(&t.id);
            });
            return Ok(Step::End(Outcome::Switched));
        }
        let v = t.src_version.as_deref();
        let deleted = self.retry(&t.key, &t.src, || self.cleaner.delete(src, &t.key, v)).await;
        self.cleaned(t, deleted).await
    }

    /// Finishes a task whose source is deleted, or schedules the clean-up again.
    async fn cleaned(&self, t: &Task, deleted: Result<(), OpError>) -> Result<Step, StoreError> {
        match deleted {
            Ok(()) => {
                let next = self.step(t, TaskState::Done, Change::default()).await?;
                Ok(next.map_or(Step::End(Outcome::Cancelled), |_| Step::End(Outcome::Done)))
            }
            // The pointer has moved: the task must finish cleaning, never restart. Try again later.
            Err(e) => {
                let reason = format!("source not deleted yet: {e}");
                let later = wall_now_ms() + self.policy.cap.as_millis() as Millis;
                let change = Change {
                    reason: Some(reason.clone()),
                    not_before: Some(later),
                    ..Change::default()
                };
                self.step(t, TaskState::Cleaning, change).await?;
                Ok(Step::End(Outcome::Later(reason)))
            }
        }
    }
}
