//! Batched ingest: events, rejections, registrations and source offsets applied in one transaction per batch.

mod apply;
mod batch;

pub use apply::{Applied, Pending, apply, apply_items};
pub use batch::{Item, ObjectRecord, SourceBatch};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::clock::Clock;
use super::store::Store;
use super::store::StoreError;
use super::store::history;
use crate::cluster::Cluster;
use crate::config::{EventsConfig, ModelConfig};

/// Live ingest figures shared with the snapshot builder without touching SQLite.
#[derive(Debug, Default)]
pub struct IngestStats {
    pub batches: AtomicU64,
    pub events: AtomicU64,
    pub rejected: AtomicU64,
    /// Duration of the last commit, microseconds.
    pub last_commit_us: AtomicU64,
    /// Every commit's duration, for the metrics histogram.
    pub batch_secs: crate::observe::Samples,
}

/// The ingest loop: gathers source batches into transactions bounded by size and age,
/// and takes feature snapshots for training on the engine clock. Runs on its own thread;
/// returns when every source has hung up and the last batch is committed.
pub struct Ingestor {
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub events: EventsConfig,
    pub model: ModelConfig,
    pub stats: Arc<IngestStats>,
    /// On a cluster: which generation of partition leases this node may commit.
    pub cluster: Option<Arc<Cluster>>,
}

/// How long a batch waits for more once its source has caught up: long enough that a quiet stream
/// commits at most ~50 times a second, short enough that the end of a backlog is not held 200 ms.
const CAUGHT_UP_WAIT: Duration = Duration::from_millis(20);

/// The ingest thread: it returns once every sender is dropped and the last batch is committed.
pub type IngestThread = std::thread::JoinHandle<Result<(), StoreError>>;

/// Batches the source may have on their way to ingest before it waits: a short queue, so
/// backpressure reaches the source instead of a backlog that delays shutdown.
pub const QUEUE: usize = 4;

impl Ingestor {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>, events: EventsConfig, model: ModelConfig) -> Ingestor {
        Ingestor {
            store,
            clock,
            events,
            model,
            stats: Arc::default(),
            cluster: None,
        }
    }

    /// Runs ingest on its own thread; returns where sources send their batches, and the thread.
    /// It ends when every sender is dropped and the last batch is committed.
    pub fn spawn(self, rt: tokio::runtime::Handle) -> std::io::Result<(mpsc::Sender<SourceBatch>, IngestThread)> {
        let (tx, rx) = mpsc::channel::<SourceBatch>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("dim-ingest".into())
            .spawn(move || self.run(rt, rx))?;
        Ok((tx, thread))
    }

    pub fn run(self, rt: tokio::runtime::Handle, mut rx: mpsc::Receiver<SourceBatch>) -> Result<(), StoreError> {
        let max_events = self.events.batch_max_events;
        let max_age = Duration::from_millis(self.events.batch_max_ms);
        let mut sampler = history::Sampler::new(&self.model);
        // How long the last commit held the writer. A batch stays open at least that long: when
        // the store is what limits ingest (a backlog into a large store), each commit then folds
        // in the events that arrived during the previous one (repeated keys become one row
        // update), instead of paying a commit for what `batch_max_ms` happened to gather.
        let mut last_commit = Duration::ZERO;
        loop {
            // Wake up now and then even when idle, so history sampling follows the clock.
            let first = rt.block_on(async { tokio::time::timeout(Duration::from_millis(200), rx.recv()).await });
            let mut pending = Pending::default();
            let mut closed = false;
            match first {
                Ok(Some(b)) => self.admit(&mut pending, b),
                Ok(None) => closed = true,
                Err(_) => {}
            }
            if !pending.is_empty() {
                let opened = Instant::now();
                let deadline = opened + max_age.max(last_commit);
                while pending.events() < max_events {
                    // Take what is already queued without waiting; wait only until the deadline,
                    // or briefly once the source has caught up (the end of a backlog, or a quiet
                    // stream: commit now rather than hold events back for batch_max_ms).
                    match rx.try_recv() {
                        Ok(b) => {
                            self.admit(&mut pending, b);
                            continue;
                        }
                        Err(mpsc::error::TryRecvError::Disconnected) => {
                            closed = true;
                            break;
                        }
                        Err(mpsc::error::TryRecvError::Empty) => {}
                    }
                    let until = if pending.caught_up {
                        deadline.min(opened + CAUGHT_UP_WAIT)
                    } else {
                        deadline
                    };
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match rt.block_on(async { tokio::time::timeout(left, rx.recv()).await }) {
                        Ok(Some(b)) => self.admit(&mut pending, b),
                        Ok(None) => {
                            closed = true;
                            break;
                        }
                        Err(_) => break,
                    }
                }
                last_commit = self.commit_or_start_over(&pending)?;
            }
            let now = self.clock.now_ms();
            // On a cluster the leader alone snapshots the shared objects for training.
            if sampler.due(now) && self.cluster.as_ref().is_none_or(|c| c.is_leader()) {
                let mut w = self.store.writer();
                sampler.sample(&mut w, now)?;
            }
            if closed {
                return Ok(());
            }
        }
    }

    /// Adds `b` to `pending`, unless it was fetched under partition leases this cluster node has
    /// since given up or lost: then it is dropped, and so is what `pending` holds of an older
    /// generation than `b`'s (the source fetches all of it again from the committed offsets).
    fn admit(&self, pending: &mut Pending, b: SourceBatch) {
        if let Some(c) = &self.cluster
            && b.generation != 0
        {
            if b.generation < c.generation() {
                return;
            }
            if pending.generation != 0 && pending.generation < b.generation {
                *pending = Pending::default();
            }
        }
        pending.add(b);
    }

    /// Commits `pending` unless it belongs to partitions this cluster node no longer holds. On a
    /// cluster a failed commit is not the end of ingest: what was not committed is dropped and
    /// the source starts over from the offsets the store holds, so nothing is lost or counted
    /// twice (a commit whose outcome the connection lost is read back the same way).
    fn commit_or_start_over(&self, pending: &Pending) -> Result<Duration, StoreError> {
        let Some(cluster) = &self.cluster else {
            return self.commit(pending);
        };
        if pending.generation != 0 && pending.generation != cluster.generation() {
            tracing::debug!(target: "dim::ingest", "batch of partitions since let go, dropped uncommitted");
            return Ok(Duration::ZERO);
        }
        match self.commit(pending) {
            Ok(d) => Ok(d),
            Err(e) => {
                cluster.start_over();
                match e {
                    StoreError::LeaseLost { .. } => tracing::info!(target: "dim::ingest", reason = %e, "batch dropped"),
                    _ => {
                        tracing::warn!(target: "dim::ingest", error = %e, "batch not committed; consuming again from the committed offsets");
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
                Ok(Duration::ZERO)
            }
        }
    }

    /// Commits `pending`; returns how long that took.
    fn commit(&self, pending: &Pending) -> Result<Duration, StoreError> {
        let started = Instant::now();
        let applied = {
            let mut w = self.store.writer();
            apply(&mut w, pending, self.clock.now_ms(), self.events.rejected_keep)?
        };
        let us = started.elapsed().as_micros() as u64;
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        self.stats.events.fetch_add(applied.events, Ordering::Relaxed);
        self.stats.rejected.fetch_add(applied.rejected, Ordering::Relaxed);
        self.stats.last_commit_us.store(us, Ordering::Relaxed);
        self.stats.batch_secs.push(us as f64 / 1e6);
        tracing::debug!(
            target: "dim::ingest",
            events = applied.events,
            rejected = applied.rejected,
            registered = applied.registered,
            objects = applied.objects_touched,
            commit_ms = us as f64 / 1000.0,
            "batch committed"
        );
        Ok(started.elapsed())
    }
}
