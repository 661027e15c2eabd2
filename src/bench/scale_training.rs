//! `dim bench scale`'s training stage: the history snapshots ingest takes of a store that size,
//! one training cycle on them, and ingest while trainings run against ingest alone.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use super::ingest::ingest_into;
use super::{beside_trainings, median};
use crate::config::Config;
use crate::engine::clock::{Clock, Millis, ScaledClock};
use crate::engine::events::generator::Workload;
use crate::engine::placement::runner;
use crate::engine::store::Store;
use crate::engine::store::history::Sampler;

#[derive(Debug, Serialize)]
pub struct TrainingStage {
    /// History snapshots (every object touched since the last one, plus the cold sample), one
    /// each `model.sample_every_secs` of engine time as the ingest thread takes them, with the
    /// round's events ingested between them: two horizons' worth.
    pub snapshots: usize,
    pub snapshot_secs_p50: f64,
    pub snapshot_secs_max: f64,
    /// Rows they wrote in all.
    pub snapshot_rows: u64,
    /// One training cycle on them: samples read from the store, forest, forecast, saved.
    pub train_secs: f64,
    pub train_samples: usize,
    /// Which model the training left serving, and why.
    pub serving: String,
    /// The median of the runs below: ingest alone and ingest beside trainings alternate
    /// (alone, beside, alone, beside), so a store that warms or grows over the stage weighs on
    /// both sides alike.
    pub ingest_alone_events_per_sec: f64,
    pub ingest_training_events_per_sec: f64,
    /// Each run, in the order they ran.
    pub ingest_alone_runs: Vec<f64>,
    pub ingest_training_runs: Vec<f64>,
    /// Ingest while trainings run back to back, over ingest alone (medians).
    pub ingest_ratio: f64,
    pub trainings_during_ingest: usize,
}

/// Takes history snapshots a sampling period apart in engine time over five horizons, with
/// `events` in all ingested between them, trains once on them (timed), then ingests `events`
/// alone and `events` while trainings run back to back on their own thread (as the brain runs
/// them), twice each, alternating.
pub(super) fn measure(
    rt: &tokio::runtime::Runtime,
    cfg: &Config,
    store: &Arc<Store>,
    workload: &mut Workload,
    events: u64,
) -> anyhow::Result<TrainingStage> {
    let (snapshot_secs, snapshot_rows, t2) = history(rt, cfg, store, workload, events)?;
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(t2 + 1, 1.0));
    let t = Instant::now();
    let model = runner::train(cfg, store, t2).context("training")?;
    let train_secs = t.elapsed().as_secs_f64();

    let (mut alone, mut beside, mut trainings) = (Vec::new(), Vec::new(), 0);
    for _ in 0..RUNS {
        alone.push(ingest_into(rt, cfg, store, clock.clone(), workload, events)?.per_sec());
        let (eps, n) = ingest_beside_training(rt, cfg, store, clock.clone(), workload, events, t2)?;
        beside.push(eps);
        trainings += n;
    }
    let (alone_eps, during_eps) = (median(&alone), median(&beside));
    let percentile_secs = |p: f64| {
        let mut v = snapshot_secs.clone();
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    Ok(TrainingStage {
        snapshots: snapshot_secs.len(),
        snapshot_secs_p50: percentile_secs(0.5),
        snapshot_secs_max: percentile_secs(1.0),
        snapshot_rows: snapshot_rows.iter().sum(),
        train_secs,
        train_samples: model.info.train_samples,
        serving: model.info.serving_line(),
        ingest_alone_events_per_sec: alone_eps,
        ingest_training_events_per_sec: during_eps,
        ingest_alone_runs: alone,
        ingest_training_runs: beside,
        ingest_ratio: during_eps / alone_eps.max(f64::MIN_POSITIVE),
        trainings_during_ingest: trainings,
    })
}

/// Runs of ingest alone and beside trainings, each.
const RUNS: usize = 2;

/// Ingests `events` while trainings run back to back on their own thread: events/s and how
/// many trainings finished meanwhile.
fn ingest_beside_training(
    rt: &tokio::runtime::Runtime,
    cfg: &Config,
    store: &Arc<Store>,
    clock: Arc<dyn Clock>,
    workload: &mut Workload,
    events: u64,
    t2: Millis,
) -> anyhow::Result<(f64, usize)> {
    let (cfg2, store2) = (cfg.clone(), store.clone());
    let (during, trainings) = beside_trainings(
        move || runner::train(&cfg2, &store2, t2).is_ok(),
        || ingest_into(rt, cfg, store, clock, workload, events),
    )?;
    Ok((during?.per_sec(), trainings))
}

/// Hourly history snapshots over five horizons with `events` ingested between them, each
/// round's stamped after its snapshot: each snapshot's time and rows, and the engine time of the
/// last.
fn history(
    rt: &tokio::runtime::Runtime,
    cfg: &Config,
    store: &Arc<Store>,
    workload: &mut Workload,
    events: u64,
) -> anyhow::Result<(Vec<f64>, Vec<u64>, Millis)> {
    let every_ms = (cfg.model.sample_every_secs as i64).saturating_mul(1000).max(1);
    let horizon_ms = (cfg.model.horizon_secs as i64).saturating_mul(1000);
    // Five horizons of snapshots, as the engine has after a day and a half at the defaults: the
    // first holds every object the ingest before it touched, and the newest fifth of the
    // samples (the holdout) must begin more than a horizon after the oldest for any to train on.
    let rounds = (5 * horizon_ms / every_ms + 1).clamp(3, 1000) as u64;
    let mut sampler = Sampler::new(&cfg.model);
    let (mut snapshot_secs, mut snapshot_rows) = (Vec::new(), Vec::new());
    // Engine time moves on by a sampling period (the ingest thread took the last snapshot at
    // most that long ago); each round's events are stamped after its snapshot.
    let mut at = ScaledClock::real().now_ms() + every_ms;
    for round in 0..rounds {
        let t = Instant::now();
        let rows = sampler
            .sample(&mut store.writer(), at)
            .context("taking a history snapshot")?;
        snapshot_secs.push(t.elapsed().as_secs_f64());
        snapshot_rows.push(rows);
        if round + 1 < rounds {
            let n = events / (rounds - 1) + u64::from(round < events % (rounds - 1));
            let clock = Arc::new(ScaledClock::new(at + 1, 1.0));
            ingest_into(rt, cfg, store, clock, workload, n.max(1))?;
            at += every_ms;
        }
    }
    Ok((snapshot_secs, snapshot_rows, at))
}
