//! The migrator: a pool of workers that claim migration tasks from SQLite and run them crash-safely.

pub mod backoff;
mod cleaner;
pub mod mover;
/// The task queue, kept by the store.
pub use crate::store::tasks as task;

use crate::sync::lock;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::clock::wall_now_ms;
use crate::config::MigratorConfig;
use crate::store::{Store, StoreError};
use crate::tiers::{ErrorKind, Tiers};
use backoff::Policy;
use mover::{MoveCtx, Outcome};
use task::Task;

/// A task a worker is running now.
#[derive(Debug, Clone)]
struct InFlight {
    task: Task,
    bytes: Arc<AtomicU64>,
    /// The step the task is at now (index into `TaskState::ALL`), kept by the mover.
    state: Arc<AtomicUsize>,
    started: Instant,
}

/// What the dashboard shows of a running task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InFlightView {
    pub id: i64,
    pub key: String,
    pub src: String,
    pub dst: String,
    pub state: task::TaskState,
    pub size: u64,
    pub bytes_done: u64,
    pub elapsed_ms: u64,
}

/// Live migrator figures (counters since start, shared with snapshots and metrics).
#[derive(Debug, Default)]
pub struct MigratorStats {
    pub done: AtomicU64,
    pub failed: AtomicU64,
    pub deferred: AtomicU64,
    /// Deferrals per reason (e.g. `file_growing`).
    pub deferred_by: Mutex<BTreeMap<String, u64>>,
    pub cancelled: AtomicU64,
    pub bytes_moved: AtomicU64,
    pub retries: AtomicU64,
    /// Retries per (tier, error kind).
    pub retries_by: Mutex<BTreeMap<(String, String), u64>>,
    /// Durations of finished moves, seconds (drained by metrics).
    pub durations: crate::observe::Samples,
}

struct Shared {
    cfg: MigratorConfig,
    ctx: MoveCtx,
    paused: AtomicBool,
    stopping: AtomicBool,
    wake: Notify,
    in_flight: Mutex<HashMap<i64, InFlight>>,
    /// How long a claim on a task outlives its last renewal (`store.lease_secs` on a cluster).
    claim_lease_ms: AtomicI64,
    stats: Arc<MigratorStats>,
}

/// A claim's lease until the engine sets the configured one.
const DEFAULT_CLAIM_LEASE_MS: i64 = 10_000;

/// The running worker pool.
pub struct Migrator {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Migrator {
    /// Starts `cfg.workers` workers. Unfinished tasks found in the store are resumed first.
    pub fn start(cfg: MigratorConfig, store: Arc<Store>, tiers: Tiers) -> Self {
        let stats = Arc::new(MigratorStats::default());
        let counter = stats.clone();
        let on_retry: mover::RetryCounter = Arc::new(move |tier: &str, kind: ErrorKind| {
            counter.retries.fetch_add(1, Ordering::Relaxed);
            *lock(&counter.retries_by)
                .entry((tier.to_string(), kind.label().to_string()))
                .or_default() += 1;
        });
        let ctx = MoveCtx::new(
            store,
            tiers,
            Policy::from_config(&cfg),
            Duration::from_secs(cfg.growing_window_secs),
            on_retry,
        )
        .with_background_clean();
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            ctx,
            paused: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            wake: Notify::new(),
            in_flight: Mutex::new(HashMap::new()),
            claim_lease_ms: AtomicI64::new(DEFAULT_CLAIM_LEASE_MS),
            stats,
        });
        let mut workers: Vec<JoinHandle<()>> = (0..cfg.workers.max(1))
            .map(|i| tokio::spawn(worker(shared.clone(), i)))
            .collect();
        if cfg.keep_finished_secs > 0 {
            workers.push(tokio::spawn(forget_finished(shared.clone())));
        }
        Self {
            shared,
            workers: Mutex::new(workers),
        }
    }

    /// How long this node's claim on a task outlives its last renewal (the cluster's lease).
    pub fn set_claim_lease_ms(&self, ms: i64) {
        self.shared.claim_lease_ms.store(ms.max(1), Ordering::Relaxed);
    }

    pub fn claim_lease_ms(&self) -> i64 {
        self.shared.claim_lease_ms.load(Ordering::Relaxed)
    }

    pub fn stats(&self) -> Arc<MigratorStats> {
        self.shared.stats.clone()
    }

    pub fn ctx(&self) -> &MoveCtx {
        &self.shared.ctx
    }

    /// New tasks are waiting: wake idle workers now instead of at their next poll.
    pub fn wake(&self) {
        self.shared.wake.notify_waiters();
    }

    pub fn set_paused(&self, paused: bool) {
        self.shared.paused.store(paused, Ordering::Relaxed);
        if !paused {
            self.wake();
        }
    }

    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::Relaxed)
    }

    pub fn in_flight(&self) -> Vec<InFlightView> {
        let mut v: Vec<InFlightView> = lock(&self.shared.in_flight)
            .values()
            .map(|f| InFlightView {
                id: f.task.id,
                key: f.task.key.clone(),
                src: f.task.src.clone(),
                dst: f.task.dst.clone(),
                state: task::TaskState::ALL
                    .get(f.state.load(Ordering::Relaxed))
                    .map_or(f.task.state, |s| *s),
                size: f.task.size,
                bytes_done: f.bytes.load(Ordering::Relaxed),
                elapsed_ms: f.started.elapsed().as_millis() as u64,
            })
            .collect();
        v.sort_by_key(|f| f.id);
        v
    }

    /// Stops claiming and drops the running moves: every step is persisted, so they resume on the next start.
    pub async fn shutdown(&self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
        self.shared.wake.notify_waiters();
        let workers: Vec<_> = lock(&self.workers).drain(..).collect();
        for w in &workers {
            w.abort();
        }
        for w in workers {
            let _ = w.await;
        }
    }
}

/// How often finished tasks past `keep_finished_secs` are forgotten, and how many per transaction
/// (a short hold of the writer each, so ingest and moves go on meanwhile).
const FORGET_EVERY: Duration = Duration::from_secs(600);
const FORGET_BATCH: usize = 5000;

/// Forgets old done and cancelled tasks at start and then every `FORGET_EVERY`: a daemon that runs
/// for months would otherwise keep every move it ever made.
async fn forget_finished(shared: Arc<Shared>) {
    let keep_ms = (shared.cfg.keep_finished_secs as i64).saturating_mul(1000);
    loop {
        let before = wall_now_ms().saturating_sub(keep_ms);
        let mut forgotten = 0;
        loop {
            let s = shared.clone();
            let r =
                tokio::task::spawn_blocking(move || task::forget_finished(&s.ctx.store.writer(), before, FORGET_BATCH))
                    .await;
            match r {
                Ok(Ok(n)) => {
                    forgotten += n;
                    if n < FORGET_BATCH {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                Ok(Err(e)) => {
                    tracing::warn!(target: "dim::migrate", error = %e, "could not forget finished tasks; trying again later");
                    break;
                }
                Err(_) => return,
            }
        }
        if forgotten > 0 {
            tracing::info!(target: "dim::migrate", forgotten, keep_secs = shared.cfg.keep_finished_secs, "finished tasks forgotten");
        }
        tokio::time::sleep(FORGET_EVERY).await;
    }
}

/// Picks the oldest claimable task not already running whose tiers have a free slot.
/// A claimed task with the cells its mover reports through (bytes copied, current step).
type Claimed = (Task, Arc<AtomicU64>, Arc<AtomicUsize>);

fn claim(shared: &Shared) -> Result<Option<Claimed>, StoreError> {
    let candidates = {
        let conn = shared.ctx.store.writer();
        // A window a little wider than the pool: in-flight tasks are in it too.
        task::claimable(&conn, wall_now_ms(), 4 * shared.cfg.workers.max(1) + 32)?
    };
    let limit = shared.cfg.per_tier_concurrency.max(1);
    for t in candidates {
        // Reserved here first, so two of this node's workers never take the same task; then
        // claimed in the store, where another node may hold it.
        let (bytes, state) = {
            let mut in_flight = lock(&shared.in_flight);
            let busy = |tier: &str| {
                in_flight
                    .values()
                    .filter(|f| f.task.src == tier || f.task.dst == tier)
                    .count()
            };
            let free = !in_flight.contains_key(&t.id)
                && !shared.ctx.cleaning(t.id)
                && !in_flight.values().any(|f| f.task.key == t.key)
                && busy(&t.src) < limit
                && busy(&t.dst) < limit;
            if !free {
                continue;
            }
            let bytes = Arc::new(AtomicU64::new(0));
            let state = Arc::new(AtomicUsize::new(t.state.index()));
            in_flight.insert(
                t.id,
                InFlight {
                    task: t.clone(),
                    bytes: bytes.clone(),
                    state: state.clone(),
                    started: Instant::now(),
                },
            );
            (bytes, state)
        };
        let taken = task::take(
            &shared.ctx.store.writer(),
            t.id,
            shared.claim_lease_ms.load(Ordering::Relaxed),
        );
        match taken {
            Ok(true) => return Ok(Some((t, bytes, state))),
            Ok(false) => {
                lock(&shared.in_flight).remove(&t.id);
            }
            Err(e) => {
                lock(&shared.in_flight).remove(&t.id);
                return Err(e);
            }
        }
    }
    Ok(None)
}

async fn worker(shared: Arc<Shared>, n: usize) {
    loop {
        if shared.stopping.load(Ordering::Relaxed) {
            return;
        }
        if shared.paused.load(Ordering::Relaxed) {
            let _ = tokio::time::timeout(Duration::from_millis(500), shared.wake.notified()).await;
            continue;
        }
        let s = shared.clone();
        let claimed = tokio::task::spawn_blocking(move || claim(&s)).await;
        let (task, bytes, state) = match claimed {
            Ok(Ok(Some(c))) => c,
            Ok(Ok(None)) => {
                let _ = tokio::time::timeout(Duration::from_millis(500), shared.wake.notified()).await;
                continue;
            }
            Ok(Err(e)) => {
                tracing::error!(target: "dim::migrate", worker = n, error = %e, "cannot read tasks");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(_) => return,
        };
        let id = task.id;
        let started = Instant::now();
        tracing::debug!(target: "dim::migrate", worker = n, id, key = %task.key, from = %task.src, to = %task.dst, state = task.state.as_str(), "task claimed");
        let result = shared.ctx.run(task.clone(), bytes, state).await;
        lock(&shared.in_flight).remove(&id);
        let st = &shared.stats;
        match result {
            Ok(Outcome::Done | Outcome::Switched) => {
                st.done.fetch_add(1, Ordering::Relaxed);
                st.bytes_moved.fetch_add(task.size, Ordering::Relaxed);
                st.durations.push(started.elapsed().as_secs_f64());
                tracing::info!(target: "dim::migrate", id, key = %task.key, from = %task.src, to = %task.dst, bytes = task.size, ms = started.elapsed().as_millis() as u64, "moved");
            }
            Ok(Outcome::Failed(_)) => {
                st.failed.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Outcome::Deferred(reason)) => {
                st.deferred.fetch_add(1, Ordering::Relaxed);
                *lock(&st.deferred_by).entry(reason).or_default() += 1;
            }
            Ok(Outcome::Cancelled) => {
                st.cancelled.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Outcome::Later(_)) => {}
            Err(e) => {
                tracing::error!(target: "dim::migrate", id, key = %task.key, error = %e, "store error during a move; it resumes from its last state");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
