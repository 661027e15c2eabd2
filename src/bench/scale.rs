//! `dim bench scale`: one node with N objects in its store, stage by stage — registering them,
//! ingest into a store that size, `dim status`, a planning cycle, start-up and restart to a first
//! snapshot, snapshot builds and dashboard frames, the training cycle and ingest beside it, disk
//! per object and peak memory.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde::Serialize;

use super::ingest::{ingest_into, register_population, workload};
use super::scale_training::{self, TrainingStage};
use super::tui::{frame_times, percentile, quiet_engine, snapshot_times};
use crate::config::Config;
use crate::engine::clock::{Clock, ScaledClock, wall_now_ms};
use crate::engine::model::Model;
use crate::engine::placement::planner::{self, PlanSummary};
use crate::engine::store::Store;
use crate::engine::{Engine, EngineHandle};
use crate::tui::app::App;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;

#[derive(Debug, Serialize)]
pub struct ScaleBench {
    pub objects: usize,
    /// Registering the objects through the store API (as an inventory or seeding does).
    pub register_secs: f64,
    pub register_per_sec: f64,
    /// Events ingested into the store of `objects`, through the engine's ingest path.
    pub events: u64,
    pub ingest_events_per_sec: f64,
    /// What `dim status` reads (the store's summary and the consumed offsets).
    pub status_secs: f64,
    pub training: TrainingStage,
    /// One planning cycle against the store: load, score, price, solve (its moves not queued).
    pub plan_secs: f64,
    pub plan_candidates: usize,
    pub plan_moves: usize,
    /// `Engine::start` on the store to its first snapshot, cold and again after a clean stop.
    pub start_to_ready_secs: f64,
    pub restart_to_ready_secs: f64,
    pub snapshot_ms_p50: f64,
    pub snapshot_ms_p99: f64,
    pub frame_ms_p99: f64,
    /// The store's files (database and write-ahead log) per object.
    pub disk_bytes_per_object: f64,
    /// Peak RSS of the whole process: the engine and this bench's generator, which keeps every
    /// object's key and size to make events for them.
    pub peak_rss_mib: Option<f64>,
}

/// The tiers objects are registered on, by share: most on the first, fewer further down.
fn spread(cfg: &Config) -> Vec<String> {
    let names: Vec<String> = cfg.tiers.iter().map(|t| t.name.clone()).collect();
    let weights = [6, 3, 1];
    names
        .iter()
        .enumerate()
        .flat_map(|(j, n)| std::iter::repeat_n(n.clone(), weights.get(j).copied().unwrap_or(1)))
        .collect()
}

pub fn run(cfg: &Config, objects: usize, events: u64, as_json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("creating a scratch directory")?;
    let cfg = quiet_engine(cfg);
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let db = dir.path().join(&cfg.store.file);
    let store = Arc::new(Store::open(&db, cfg.store.cache_mib)?);
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::real());

    let mut w = workload(&cfg, objects);
    let t = Instant::now();
    register_population(&store, &cfg, &mut w, objects, &spread(&cfg), clock.now_ms())?;
    let register_secs = t.elapsed().as_secs_f64();
    let ingest = ingest_into(&rt, &cfg, &store, clock, &mut w, events)?;

    let t = Instant::now();
    let (s, _) = crate::cmd::status::read(&crate::engine::store::Location::Sqlite(db.clone()))?;
    let status_secs = t.elapsed().as_secs_f64();
    // The workload deletes now and then (an object past its lifetime): those are gone, not lost.
    let (_, deleted) = crate::engine::store::lifetimes(&*store.reader()?)?;
    anyhow::ensure!(
        (s.objects + deleted) as usize >= objects,
        "the store holds {} objects and {deleted} were deleted, of {objects}",
        s.objects
    );
    let training = scale_training::measure(&rt, &cfg, &store, &mut w, (events / 2).max(1))?;
    drop(w);

    let t = Instant::now();
    let plan = plan(&store, &cfg)?;
    let plan_secs = t.elapsed().as_secs_f64();
    // What the engine's snapshots must show: the objects left after the workload's deletes
    // (the training stage runs hours of engine time, and objects reach their lifetime).
    let held = crate::engine::store::summary::summary(&*store.reader()?)?.objects as usize;
    drop(store);
    // No workload while start-up, snapshots and frames are timed: it would go on deleting.
    let mut cfg = cfg;
    cfg.events.embedded.rate = 0.0;

    let (start_to_ready_secs, engine) = start_to_ready(&rt, &cfg, dir.path())?;
    let (mut snap_ms, last) = snapshot_times(&rt, &engine, false, held)?;
    let mut app = App::new(cfg.clone(), Keymap::default_map(), Theme::builtins(), 0);
    let mut term = Terminal::new(TestBackend::new(120, 40)).context("creating the test terminal")?;
    let mut frame_ms = frame_times(&mut app, &mut term, &Arc::new(last))?;
    rt.block_on(engine.shutdown()).context("stopping the engine")?;
    let (restart_to_ready_secs, engine) = start_to_ready(&rt, &cfg, dir.path())?;
    rt.block_on(engine.shutdown()).context("stopping the engine")?;

    let r = ScaleBench {
        objects,
        register_secs,
        register_per_sec: objects as f64 / register_secs.max(f64::MIN_POSITIVE),
        events: ingest.events,
        ingest_events_per_sec: ingest.per_sec(),
        status_secs,
        training,
        plan_secs,
        plan_candidates: plan.candidates,
        plan_moves: plan.moves,
        start_to_ready_secs,
        restart_to_ready_secs,
        snapshot_ms_p50: percentile(&mut snap_ms, 0.5),
        snapshot_ms_p99: percentile(&mut snap_ms, 0.99),
        frame_ms_p99: percentile(&mut frame_ms, 0.99),
        disk_bytes_per_object: disk_bytes(&db) as f64 / objects.max(1) as f64,
        peak_rss_mib: super::peak_rss_mib(),
    };
    super::report(&r, as_json, human)
}

/// A planning cycle against `store` as the brain runs it — load, score, price, solve — without
/// queueing its moves: the bench's objects have no bytes on the tiers for a migrator to move.
fn plan(store: &Store, cfg: &Config) -> anyhow::Result<PlanSummary> {
    let model = Model::heuristic(&cfg.model, "bench scale");
    // At the store's engine time, as the brain's clock would be: the training stage stamped
    // events hours ahead of the wall clock.
    let now = crate::engine::store::engine_time(&*store.reader()?)?.map_or(wall_now_ms(), |t| t.max(wall_now_ms()));
    let (_, plan) = planner::plan_store(store, cfg, &model, now).context("planning")?;
    Ok(plan.summary)
}

/// Starts the engine on `dir` and times it to its first snapshot.
fn start_to_ready(rt: &tokio::runtime::Runtime, cfg: &Config, dir: &Path) -> anyhow::Result<(f64, EngineHandle)> {
    let t = Instant::now();
    let engine = rt
        .block_on(async { Engine::start(cfg.clone(), crate::tiers::engine_options(dir)) })
        .context("starting the engine")?;
    engine.build_snapshot().context("building the first snapshot")?;
    Ok((t.elapsed().as_secs_f64(), engine))
}

/// Bytes of the store's files: the database and its write-ahead log.
fn disk_bytes(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    [db.to_path_buf(), wal.into()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// The bench's lines for a reader.
fn human(r: &ScaleBench) -> String {
    format!(
        "{} objects: registered in {:.1} s ({:.0}/s); ingest {:.0} events/s over {} events; status {:.2} s; \
         {} history snapshots p50 {:.2} s, max {:.2} s ({} rows), training {:.1} s on {} samples, \
         ingest {:.0} events/s while training against {:.0} alone (medians of two runs each, {:.2}×, {} trainings); \
         plan {:.1} s ({} candidates, {} moves); start to ready {:.1} s, restart {:.1} s; \
         snapshot p50 {:.1} ms, p99 {:.1} ms; frame p99 {:.2} ms; {:.0} bytes on disk per object; peak RSS {:.0} MiB",
        r.objects,
        r.register_secs,
        r.register_per_sec,
        r.ingest_events_per_sec,
        r.events,
        r.status_secs,
        r.training.snapshots,
        r.training.snapshot_secs_p50,
        r.training.snapshot_secs_max,
        r.training.snapshot_rows,
        r.training.train_secs,
        r.training.train_samples,
        r.training.ingest_training_events_per_sec,
        r.training.ingest_alone_events_per_sec,
        r.training.ingest_ratio,
        r.training.trainings_during_ingest,
        r.plan_secs,
        r.plan_candidates,
        r.plan_moves,
        r.start_to_ready_secs,
        r.restart_to_ready_secs,
        r.snapshot_ms_p50,
        r.snapshot_ms_p99,
        r.frame_ms_p99,
        r.disk_bytes_per_object,
        r.peak_rss_mib.unwrap_or(f64::NAN)
    )
}
