//! The engine: a library with no UI dependency. `Engine::start` runs it in the background and returns a handle.

// In the crate, not Cargo.toml: a `[lints]` table would reach the integration tests too, where
// `unwrap()` is the assertion.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(unreachable_pub)]

/// The configuration crate under the name the engine's modules use (`crate::config::…`).
use dim_config as config;

mod audit;
pub mod clock;
pub mod cluster;
pub mod command;
mod control;
mod error;
pub mod events;
pub mod format;
pub mod ingest;
pub mod inventory;
pub mod migrate;
pub mod model;
mod observe;
pub mod placement;
mod publish;
pub mod scenario;
pub mod snapshot;
pub mod store;
pub mod sync;
pub mod tiers;

// The engine's face: what the control API and the dashboard name (tests/layers.rs keeps them to
// it, with the store API, `sync` and `format`). The replay plans with the planner's own pieces
// (it replays the brain), so it reaches into `placement` and `model`.
pub use cluster::{ClusterView, NodeView};
pub use command::{Answer, Command, Commands, Refusal};
pub use events::SourceState;
pub use events::codec::RejectReason;
pub use inventory::ScanState;
pub use migrate::task::TaskState;
pub use migrate::{InFlightView, MigratorStats};
pub use placement::explain::{ExplainError, Explanation, explain};
pub use scenario::ScenarioView;
pub use snapshot::{Snapshot, TierView};
pub use tiers::ErrorKind;
pub use tiers::chaos::ChaosSettings;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use clock::{Clock, ScaledClock, wall_now_ms};
use cluster::Cluster;
use command::Request;
use control::{Control, dispatch_commands};
pub use error::EngineError;
use events::SourceShared;
use events::embedded::{EmbeddedSource, local_tiers};
use events::kafka::KafkaSource;
use ingest::{IngestStats, Ingestor, SourceBatch};
use migrate::Migrator;
use publish::{SnapshotBuilder, publish_snapshots};
use store::{Store, StoreError};
use tiers::Tiers;

use crate::config::{Config, SourceKind};

/// Where the engine keeps its state and how it tells time.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub data_dir: PathBuf,
    /// Override the clock (tests, replays); default: scaled by `clock.speed`, resuming the stored engine time.
    pub clock: Option<Arc<dyn Clock>>,
    /// How often a snapshot is published.
    pub snapshot_every: Duration,
    /// Opens the tiers configured on S3 (`dim_s3::S3Backend`); without it such a tier is refused.
    pub s3: Option<Arc<dyn tiers::RemoteBackend>>,
}

impl EngineOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            clock: None,
            snapshot_every: Duration::from_millis(250),
            s3: None,
        }
    }

    /// The same options, with S3 tiers opened through `s3`.
    pub fn with_s3(mut self, s3: Arc<dyn tiers::RemoteBackend>) -> Self {
        self.s3 = Some(s3);
        self
    }
}

/// The running engine, as seen by the TUI, the daemon and tests.
pub struct EngineHandle {
    commands: Commands,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    clock: Arc<dyn Clock>,
    store: Arc<Store>,
    stop: Arc<AtomicBool>,
    source: Option<std::thread::JoinHandle<Result<(), StoreError>>>,
    ingest: Option<std::thread::JoinHandle<Result<(), StoreError>>>,
    tasks: Vec<JoinHandle<()>>,
    builder: Arc<SnapshotBuilder>,
    migrator: Arc<Migrator>,
    tiers: Tiers,
    scenario: Arc<scenario::ScenarioShared>,
    scenario_stop: watch::Sender<bool>,
    ingest_stats: Arc<IngestStats>,
    brain: Arc<placement::runner::Brain>,
    cluster: Option<Arc<Cluster>>,
}

/// What the engine measures for the metrics endpoint, beyond its snapshots.
#[derive(Clone)]
pub struct Observations {
    pub ingest: Arc<IngestStats>,
    pub migrator: Arc<migrate::MigratorStats>,
    pub brain: Arc<placement::runner::Brain>,
}

pub struct Engine;

/// The store the config names, with the data directory that holds the engine's other files.
fn open_store(cfg: &Config, opts: &EngineOptions) -> Result<Store, StoreError> {
    std::fs::create_dir_all(&opts.data_dir).map_err(|source| StoreError::DataDir {
        path: opts.data_dir.display().to_string(),
        source,
    })?;
    Store::open_at(&store::Location::of(&cfg.store, &opts.data_dir)?, cfg.store.cache_mib)
}

impl Engine {
    /// Opens the store, starts the event source, ingest and the snapshot publisher.
    /// Must be called inside a tokio runtime.
    pub fn start(cfg: Config, opts: EngineOptions) -> Result<EngineHandle, EngineError> {
        let store = Arc::new(open_store(&cfg, &opts)?);
        let cluster = Cluster::join(&cfg, &store)?.map(Arc::new);
        let clock = engine_clock(&cfg, &opts, &store)?;
        let tiers = tiers::build(&cfg, &opts.data_dir, opts.s3.as_deref())?;
        let migrator = Arc::new(Migrator::start(cfg.migrator.clone(), store.clone(), tiers.clone()));
        let (brain, mut tasks) = placement::runner::start(
            cfg.clone(),
            store.clone(),
            clock.clone(),
            migrator.clone(),
            cluster.clone(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let mut ingestor = Ingestor::new(store.clone(), clock.clone(), cfg.events.clone(), cfg.model.clone());
        ingestor.cluster = cluster.clone();
        let ingest_stats = ingestor.stats.clone();
        let (tx, ingest) = ingestor.spawn(tokio::runtime::Handle::current()).map_err(task_error)?;
        let control = Control::new(&cfg, &store, &tiers, &clock, &migrator, &brain, &stop);
        let source = start_source(
            &cfg,
            &opts.data_dir,
            &store,
            &clock,
            tx,
            &control.shared,
            &stop,
            &cluster,
        )?;
        if let Some(c) = &cluster {
            migrator.set_claim_lease_ms(c.lease_ms);
            let report = cluster::node_report(&control.shared, &migrator, &ingest_stats);
            let apply = cluster::applier(&migrator, &tiers);
            tasks.push(cluster::spawn(c.clone(), store.clone(), report, apply));
        }
        let (scanner, scenario) = (control.scanner.clone(), control.scenario.clone());
        let served = serve(&cfg, control, &clock, &ingest_stats, &cluster, opts.snapshot_every);
        tasks.extend(served.tasks);
        // What the tiers already hold (objects put there by others) is registered in the background
        // (on a cluster by its leader), and so is an object that events name before any listing found it.
        match &cluster {
            None => {
                scanner.start();
            }
            Some(c) => tasks.push(tokio::spawn(cluster::scan_if_leading(c.clone(), scanner.clone()))),
        }
        tasks.push(tokio::spawn(inventory::resolve_loop(scanner, Duration::from_secs(2))));
        tracing::info!(
            target: "dim::engine",
            data_dir = %opts.data_dir.display(),
            speed = clock.speed(),
            tiers = cfg.tiers.len(),
            "engine started"
        );
        Ok(EngineHandle {
            commands: Commands::new(served.cmd_tx, served.applied),
            snapshots: served.snapshots,
            clock,
            store,
            stop,
            source: Some(source),
            ingest: Some(ingest),
            tasks,
            builder: served.builder,
            migrator,
            tiers,
            scenario,
            scenario_stop: watch::channel(false).0,
            ingest_stats,
            brain,
            cluster,
        })
    }
}

/// What serves an engine's clients: snapshots published, commands dispatched.
struct Served {
    builder: Arc<SnapshotBuilder>,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    cmd_tx: mpsc::Sender<Request>,
    applied: Arc<std::sync::atomic::AtomicU64>,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts publishing snapshots at `every` and carrying out the commands sent to the engine.
fn serve(
    cfg: &Config,
    control: Control,
    clock: &Arc<dyn Clock>,
    ingest_stats: &Arc<IngestStats>,
    cluster: &Option<Arc<Cluster>>,
    every: Duration,
) -> Served {
    let applied = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut builder = SnapshotBuilder::new(
        cfg.clone(),
        &control,
        clock.clone(),
        ingest_stats.clone(),
        applied.clone(),
    );
    builder.cluster = cluster.clone();
    let builder = Arc::new(builder);
    let (snap_tx, snapshots) = watch::channel(Arc::new(builder.build().unwrap_or_default()));
    let (cmd_tx, cmd_rx) = mpsc::channel::<Request>(64);
    let nudge = Arc::new(tokio::sync::Notify::new());
    let tasks = vec![
        tokio::spawn(publish_snapshots(builder.clone(), snap_tx, every, nudge.clone())),
        tokio::spawn(dispatch_commands(cmd_rx, control, applied.clone(), nudge)),
    ];
    Served {
        builder,
        snapshots,
        cmd_tx,
        applied,
        tasks,
    }
}

fn task_error(e: std::io::Error) -> EngineError {
    EngineError::Task(e.to_string())
}

/// The engine's clock: the caller's, or one at `clock.speed` that starts no earlier than the
/// engine time the store last recorded (engine time never runs backwards across restarts, even
/// on an accelerated clock).
fn engine_clock(cfg: &Config, opts: &EngineOptions, store: &Store) -> Result<Arc<dyn Clock>, EngineError> {
    if let Some(c) = opts.clock.clone() {
        return Ok(c);
    }
    let stored = store::engine_time(&store.writer())?.unwrap_or(0);
    Ok(Arc::new(ScaledClock::new(wall_now_ms().max(stored), cfg.clock.speed)))
}

/// The event source's thread: the embedded workload or the Kafka consumer, handing batches to
/// ingest through `tx`. Must be called inside a tokio runtime.
#[allow(clippy::too_many_arguments)]
fn start_source(
    cfg: &Config,
    data_dir: &Path,
    store: &Arc<Store>,
    clock: &Arc<dyn Clock>,
    tx: mpsc::Sender<SourceBatch>,
    shared: &Arc<SourceShared>,
    stop: &Arc<AtomicBool>,
    cluster: &Option<Arc<Cluster>>,
) -> Result<std::thread::JoinHandle<Result<(), StoreError>>, EngineError> {
    type SourceRun = Box<dyn FnOnce() -> Result<(), StoreError> + Send>;
    let run: SourceRun = match cfg.events.source {
        SourceKind::Embedded => {
            let source = EmbeddedSource {
                tiers: local_tiers(cfg, data_dir)?,
                cfg: cfg.clone(),
                store: store.clone(),
                clock: clock.clone(),
                tx,
                shared: shared.clone(),
                stop: stop.clone(),
            };
            Box::new(move || source.run())
        }
        SourceKind::Kafka => {
            let source = KafkaSource {
                cfg: cfg.events.clone(),
                store: store.clone(),
                clock: clock.clone(),
                tx,
                shared: shared.clone(),
                stop: stop.clone(),
                cluster: cluster.clone(),
            };
            let source_rt = tokio::runtime::Handle::current();
            Box::new(move || source.run(source_rt))
        }
    };
    std::thread::Builder::new()
        .name("dim-source".into())
        .spawn(run)
        .map_err(|e| EngineError::Task(e.to_string()))
}

impl EngineHandle {
    /// Where commands go (what a key press, a scenario step or an API request sends).
    pub fn commands(&self) -> &Commands {
        &self.commands
    }

    /// The published snapshots: the latest now, and a change each time one is published.
    pub fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshots.clone()
    }

    /// The engine's clock (engine time, which may run faster than the wall).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The engine's store (reports, the control API's queries, tests).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// This engine's place in the cluster sharing its store, when it is a node of one.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.as_ref()
    }

    /// The tiers the engine places objects on.
    pub fn tiers(&self) -> &Tiers {
        &self.tiers
    }

    /// Stops the source, lets ingest commit what it holds, and returns the final snapshot.
    pub async fn shutdown(mut self) -> Result<Snapshot, EngineError> {
        let started = Instant::now();
        let _ = self.scenario_stop.send(true);
        self.migrator.shutdown().await;
        self.stop.store(true, Ordering::Relaxed);
        let source = self.source.take();
        let ingest = self.ingest.take();
        let joined = tokio::task::spawn_blocking(move || {
            let s = source.map(|h| h.join());
            let i = ingest.map(|h| h.join());
            (s, i)
        })
        .await
        .map_err(|e| EngineError::Task(e.to_string()))?;
        for t in &self.tasks {
            t.abort();
        }
        if let Some(c) = &self.cluster {
            cluster::leave(c, &self.store).await;
        }
        for r in [joined.0, joined.1].into_iter().flatten() {
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => return Err(EngineError::Task("an engine thread panicked".into())),
            }
        }
        let builder = self.builder.clone();
        let last = tokio::task::spawn_blocking(move || builder.build())
            .await
            .map_err(|e| EngineError::Task(e.to_string()))??;
        // Ingest has stopped: record the engine time now, so a restart resumes from here and
        // engine time never runs backwards (batches only record it when they commit).
        let now = self.clock.now_ms().max(last.now_ms);
        self.store.write(move |c| store::advance_engine_time(c, now)).await?;
        tracing::info!(
            target: "dim::engine",
            ingested = last.store.events.ingested,
            rejected = last.store.events.rejected,
            objects = last.store.objects,
            ms = started.elapsed().as_millis() as u64,
            "engine stopped, last batch committed"
        );
        Ok(last)
    }

    /// Plays `sc` in the background: its steps go through the command channel as key presses
    /// would. The task ends with the report when the scenario does (or on shutdown).
    pub fn play(&self, sc: scenario::Scenario) -> JoinHandle<scenario::Report> {
        let player = scenario::Player {
            scenario: sc,
            commands: self.commands.clone(),
            snapshots: self.snapshots.clone(),
            clock: self.clock.clone(),
            shared: self.scenario.clone(),
            store: self.store.clone(),
            tiers: self.tiers.clone(),
        };
        tokio::spawn(player.run(self.scenario_stop.subscribe()))
    }

    pub fn observations(&self) -> Observations {
        Observations {
            ingest: self.ingest_stats.clone(),
            migrator: self.migrator.stats(),
            brain: self.brain.clone(),
        }
    }

    /// Builds a snapshot now, off the publishing cadence (benchmarks, tests). Blocking.
    pub fn build_snapshot(&self) -> Result<Snapshot, EngineError> {
        self.builder.build()
    }

    /// True once a source or ingest thread has ended on its own (an error).
    pub fn is_failed(&self) -> bool {
        self.ingest.as_ref().is_some_and(|h| h.is_finished()) || self.source.as_ref().is_some_and(|h| h.is_finished())
    }
}
