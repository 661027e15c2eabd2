//! One migration, step by step: head → (restore an archived source) → copy (conditional on the
//! source ETag and version, with everything the object carries) → verify → switch the pointer →
//! delete the exact source version. Between two storage classes of one bucket the copy is in
//! place and there is nothing to delete.

mod clean;
mod failure;
mod restore;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use super::backoff::{Policy, retry};
use super::cleaner::Cleaner;
use super::task::{self, Change, Switch, Task, TaskState};
use crate::clock::{Millis, wall_now_ms};
use crate::store::{Store, StoreError};
use crate::tiers::chaos::ChaosStore;
use crate::tiers::{ErrorKind, ObjectStore, OpError, ProgressReader, Tiers, Version, Written};

/// How long a clean-up handed to the background keeps its task from the workers: after a
/// crash, that is when the task's clean-up resumes.
const BACKGROUND_CLEAN_MS: Millis = 30_000;

/// The reason shown while a task waits for its source to be restored.
pub const RESTORING: &str = "restoring from archive";

/// How a run of a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Deferred(String),
    Failed(String),
    Cancelled,
    /// A step must be retried later (e.g. the source could not be deleted yet).
    Later(String),
    /// The pointer has switched: the object lives on the destination, and the source's
    /// clean-up goes on in the background (batched with others) while the worker moves on.
    Switched,
}

/// Retry counts per (tier, error kind), for metrics and the dashboard.
pub type RetryCounter = Arc<dyn Fn(&str, ErrorKind) + Send + Sync>;

/// Everything a move needs.
#[derive(Clone)]
pub struct MoveCtx {
    pub store: Arc<Store>,
    pub tiers: Tiers,
    pub policy: Policy,
    pub growing_window: Duration,
    pub on_retry: RetryCounter,
    cleaner: Arc<Cleaner>,
    /// Clean-ups handed to the background: a worker must not claim these tasks meanwhile.
    cleaning: Arc<std::sync::Mutex<std::collections::HashSet<i64>>>,
    background_clean: bool,
}

enum Step {
    Next(Box<Task>),
    End(Outcome),
}

impl MoveCtx {
    pub fn new(
        store: Arc<Store>,
        tiers: Tiers,
        policy: Policy,
        growing_window: Duration,
        on_retry: RetryCounter,
    ) -> Self {
        Self {
            store,
            tiers,
            policy,
            growing_window,
            on_retry,
            cleaner: Arc::new(Cleaner::default()),
            cleaning: Default::default(),
            background_clean: false,
        }
    }

    /// Source clean-ups run in the background (the worker pool's mode): `run` returns
    /// `Switched` once the pointer has moved. Alone, `run` returns when the task is done.
    pub fn with_background_clean(mut self) -> Self {
        self.background_clean = true;
        self
    }

    /// Whether task `id`'s clean-up is running in the background.
    pub fn cleaning(&self, id: i64) -> bool {
        crate::sync::lock(&self.cleaning).contains(&id)
    }

    /// Source and destination are one object in two storage classes of one bucket.
    fn in_place(&self, t: &Task) -> bool {
        match (self.tier(&t.src), self.tier(&t.dst)) {
            (Some(s), Some(d)) => s.copy_source().is_some_and(|a| d.copy_source() == Some(a)),
            _ => false,
        }
    }

    fn tier(&self, name: &str) -> Option<Arc<ChaosStore>> {
        self.tiers.get(name).cloned()
    }

    async fn retry<T, F, Fut>(&self, key: &str, tier: &str, op: F) -> Result<T, OpError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OpError>>,
    {
        let on = self.on_retry.clone();
        retry(self.policy, key, tier, |e| on(&e.tier, e.kind), op).await
    }

    /// Moves `t` from `from` to `to`; `None` if it left `from` meanwhile (cancelled).
    async fn step(&self, t: &Task, to: TaskState, change: Change) -> Result<Option<Task>, StoreError> {
        let (id, from) = (t.id, t.state);
        let c = change.clone();
        let ok = self
            .store
            .write(move |w| task::transition(w, id, from, to, &c, wall_now_ms()))
            .await?;
        if !ok {
            return Ok(None);
        }
        let mut next = t.clone();
        next.state = to;
        next.reason = change.reason;
        next.not_before = change.not_before;
        if let Some(a) = change.attempts {
            next.attempts = a;
        }
        if let Some(s) = change.size {
            next.size = s;
        }
        if let Some(e) = change.src_etag {
            next.src_etag = Some(e);
        }
        if let Some(v) = change.src_version {
            next.src_version = Some(v);
        }
        if let Some(w) = change.written {
            next.written = Some(w);
        }
        Ok(Some(next))
    }

    /// Runs task `t` from its persisted state until it ends or has to wait.
    /// `progress` counts bytes copied and `state` follows the step, for the dashboard.
    pub async fn run(
        &self,
        mut t: Task,
        progress: Arc<AtomicU64>,
        state: Arc<AtomicUsize>,
    ) -> Result<Outcome, StoreError> {
        let (Some(src), Some(dst)) = (self.tier(&t.src), self.tier(&t.dst)) else {
            let why = format!("unknown tier in {} -> {}", t.src, t.dst);
            return self.fail(&t, why, t.attempts + 1).await;
        };
        loop {
            state.store(t.state.index(), Ordering::Relaxed);
            let step = match t.state {
                TaskState::Pending | TaskState::Deferred => self.start(&t, &src).await?,
                TaskState::Restoring => self.restoring(&t, &src).await?,
                TaskState::Copying => self.copy(&t, &src, &dst, progress.clone()).await?,
                TaskState::Verifying => self.verify(&t, &src, &dst).await?,
                TaskState::Switching => self.switch(&t, &dst).await?,
                TaskState::Cleaning => self.clean(&t, &src).await?,
                TaskState::Done => Step::End(Outcome::Done),
                TaskState::Failed => Step::End(Outcome::Failed(t.reason.clone().unwrap_or_default())),
                TaskState::Cancelled => Step::End(Outcome::Cancelled),
            };
            match step {
                Step::Next(n) => t = *n,
                Step::End(o) => return Ok(o),
            }
        }
    }

    fn or_cancelled(next: Option<Task>) -> Step {
        next.map_or(Step::End(Outcome::Cancelled), |t| Step::Next(Box::new(t)))
    }

    async fn start(&self, t: &Task, src: &ChaosStore) -> Result<Step, StoreError> {
        // An archived object's attributes are read once it is restored (some stores refuse
        // more than a HEAD before that).
        let head = if src.needs_restore().is_some() {
            let h = self.retry(&t.key, &t.src, || src.head(&t.key)).await;
            h.map(|m| m.map(|m| (m, None)))
        } else {
            let h = self.retry(&t.key, &t.src, || src.describe(&t.key)).await;
            h.map(|m| m.map(|(m, a)| (m, Some(a))))
        };
        let (meta, attrs) = match head {
            Ok(Some(m)) => m,
            Ok(None) => return self.source_missing(t).await.map(Step::End),
            Err(e) => return self.fail_op(t, e).await.map(Step::End),
        };
        let now = wall_now_ms();
        let window = self.growing_window.as_millis() as Millis;
        if now - meta.last_modified_ms < window {
            return self.defer_growing(t, meta.last_modified_ms + window).await;
        }
        if let Some(poll) = src.needs_restore()
            && meta.restored != Some(true)
        {
            return self.await_restore(t, src, meta, poll).await;
        }
        let next = self
            .step(
                t,
                TaskState::Copying,
                Change {
                    size: Some(meta.size),
                    src_etag: Some(meta.etag),
                    src_version: meta.version_id,
                    ..Change::default()
                },
            )
            .await?;
        Ok(Self::or_cancelled(next.map(|mut n| {
            n.src_attrs = attrs;
            n
        })))
    }

    /// Copies conditionally on the source ETag: server-side on one S3 endpoint, otherwise
    /// streamed, with a check that the source did not change while it was read.
    async fn copy_once(
        &self,
        t: &Task,
        etag: &str,
        src: &ChaosStore,
        dst: &ChaosStore,
        progress: &Arc<AtomicU64>,
    ) -> Result<Written, OpError> {
        let from = Version {
            etag,
            version_id: t.src_version.as_deref(),
        };
        let attrs = match &t.src_attrs {
            Some(a) => a.clone(),
            None => src.attributes(&t.key, from.version_id).await?,
        };
        if let (Some(s), Some(d)) = (src.copy_source(), dst.copy_source())
            && s.domain == d.domain
        {
            let w = dst.copy_from(&s, &t.key, from, t.size, &attrs).await?;
            progress.store(w.size, Ordering::Relaxed);
            return Ok(w);
        }
        let (meta, body) = src.get(&t.key, Some(from)).await?;
        let body = Box::new(ProgressReader::new(body, progress.clone()));
        let w = dst.put(&t.key, body, meta.size, &attrs).await?;
        let after = src.head(&t.key).await?;
        if after.as_ref().map(|m| m.etag.as_str()) != Some(etag) {
            return Err(OpError::new(
                ErrorKind::PreconditionFailed,
                &t.src,
                "copy",
                &t.key,
                "the source changed while it was copied",
            ));
        }
        Ok(w)
    }

    async fn copy(
        &self,
        t: &Task,
        src: &ChaosStore,
        dst: &ChaosStore,
        progress: Arc<AtomicU64>,
    ) -> Result<Step, StoreError> {
        let Some(etag) = t.src_etag.clone() else {
            return Ok(Self::or_cancelled(
                self.step(t, TaskState::Pending, Change::default()).await?,
            ));
        };
        let r = self
            .retry(&t.key, &t.dst, || self.copy_once(t, &etag, src, dst, &progress))
            .await;
        match r {
            Ok(w) => {
                let next = self
                    .step(
                        t,
                        TaskState::Verifying,
                        Change {
                            written: Some(w),
                            ..Change::default()
                        },
                    )
                    .await?;
                if next.is_none() {
                    self.remove_copy(t).await;
                }
                Ok(Self::or_cancelled(next))
            }
            // Written to during the copy: what we copied may be stale. Come back when it is quiet.
            Err(e) if e.kind == ErrorKind::PreconditionFailed => {
                self.remove_copy(t).await;
                self.defer_growing(t, wall_now_ms() + self.growing_window.as_millis() as Millis)
                    .await
            }
            Err(e) => self.fail_op(t, e).await.map(Step::End),
        }
    }

    async fn verify(&self, t: &Task, src: &ChaosStore, dst: &ChaosStore) -> Result<Step, StoreError> {
        let Some(w) = t.written.clone() else {
            return Ok(Self::or_cancelled(
                self.step(t, TaskState::Copying, Change::default()).await?,
            ));
        };
        if self.in_place(t) {
            // One object: checking it as the destination is all there is.
            return match self.retry(&t.key, &t.dst, || dst.difference(&t.key, &w)).await {
                Ok(None) => Ok(Self::or_cancelled(
                    self.step(t, TaskState::Switching, Change::default()).await?,
                )),
                Ok(Some(what)) => self.verify_failed(t, what).await,
                Err(e) => self.fail_op(t, e).await.map(Step::End),
            };
        }
        // The destination is checked and, at the same time, the source is checked for a write
        // that landed after the copy (which would make the copy stale).
        let (differs, now_src) = tokio::join!(
            self.retry(&t.key, &t.dst, || dst.difference(&t.key, &w)),
            self.retry(&t.key, &t.src, || src.head(&t.key))
        );
        let differs = match differs {
            Ok(d) => d,
            Err(e) => return self.fail_op(t, e).await.map(Step::End),
        };
        let now_src = match now_src {
            Ok(m) => m,
            Err(e) => return self.fail_op(t, e).await.map(Step::End),
        };
        if now_src.as_ref().map(|m| &m.etag) != t.src_etag.as_ref() {
            self.remove_copy(t).await;
            return self
                .defer_growing(t, wall_now_ms() + self.growing_window.as_millis() as Millis)
                .await;
        }
        if let Some(what) = differs {
            return self.verify_failed(t, what).await;
        }
        Ok(Self::or_cancelled(
            self.step(t, TaskState::Switching, Change::default()).await?,
        ))
    }

    /// The destination is not what was written: copy again, or give up after the last attempt.
    /// `what` is what differed: "checksum" (the bytes), an attribute, the class, the encryption.
    async fn verify_failed(&self, t: &Task, what: &str) -> Result<Step, StoreError> {
        {
            let attempts = t.attempts + 1;
            tracing::warn!(target: "dim::migrate", key = %t.key, tier = %t.dst, attempts, what, "verification failed: destination does not match what was written");
            if attempts >= self.policy.max_attempts {
                let why = format!("{what} mismatch on {} after {attempts} attempts", t.dst);
                return self.fail(t, why, attempts).await.map(Step::End);
            }
            let next = self
                .step(
                    t,
                    TaskState::Copying,
                    Change {
                        attempts: Some(attempts),
                        ..Change::default()
                    },
                )
                .await?;
            Ok(Self::or_cancelled(next))
        }
    }

    async fn switch(&self, t: &Task, _dst: &ChaosStore) -> Result<Step, StoreError> {
        let Some(w) = t.written.clone() else {
            return Ok(Self::or_cancelled(
                self.step(t, TaskState::Copying, Change::default()).await?,
            ));
        };
        let tt = t.clone();
        let not_before = (self.background_clean && !self.in_place(t)).then(|| wall_now_ms() + BACKGROUND_CLEAN_MS);
        let outcome = self
            .store
            .write(move |c| task::switch_pointer(c, &tt, &w, wall_now_ms(), not_before))
            .await?;
        match outcome {
            Switch::Switched => {
                let mut next = t.clone();
                next.state = TaskState::Cleaning;
                Ok(Step::Next(Box::new(next)))
            }
            Switch::ObjectGone | Switch::PointerMoved => {
                let why = if outcome == Switch::ObjectGone {
                    "object was deleted meanwhile"
                } else {
                    "object was moved elsewhere meanwhile"
                };
                self.remove_copy(t).await;
                let change = Change {
                    reason: Some(why.to_string()),
                    ..Change::default()
                };
                self.step(t, TaskState::Cancelled, change).await?;
                Ok(Step::End(Outcome::Cancelled))
            }
            Switch::Lost => {
                self.remove_copy(t).await;
                Ok(Step::End(Outcome::Cancelled))
            }
        }
    }
}
