//! `dim bench model`: training time, scoring time, and ingest throughput while a training runs.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, Poisson};
use serde::Serialize;

use crate::config::Config;
use crate::engine::clock::Millis;
use crate::engine::model::Model;
use crate::engine::model::dataset::Sample;
use crate::engine::model::features::{StatsRow, features};
use crate::engine::model::forest::ForestParams;
use crate::engine::store::{DECAY_TAUS_SECS, score_of};

#[derive(Debug, Serialize)]
pub struct ModelBench {
    pub samples: usize,
    pub train_secs: f64,
    pub trees: usize,
    pub serving: String,
    pub holdout_pr_auc: Option<f64>,
    pub objects_scored: usize,
    /// Features + forest votes for every object, as the planner does each cycle.
    pub score_secs: f64,
    pub ingest_events: u64,
    pub ingest_idle_events_per_sec: f64,
    pub ingest_training_events_per_sec: f64,
    /// Training-time throughput over idle throughput.
    pub ingest_ratio: f64,
    /// Trainings completed while the second ingest run went on.
    pub trainings_during_ingest: usize,
    pub peak_rss_mib: Option<f64>,
}

const T0: Millis = 1_750_000_000_000;
const HOUR: Millis = 3_600_000;

/// A synthetic object's stats at `t` for an access rate `per_hour`, with the decayed scores a
/// store would hold (log-space, as in `objects` and `history`).
fn stats_at(rng: &mut StdRng, t: Millis, per_hour: f64, size: u64) -> StatsRow {
    let score = |count: f64, tau: f64| (count > 0.0).then(|| count.ln() + score_of(t, tau));
    let jitter = |rng: &mut StdRng, x: f64| x * rng.random_range(0.5..1.5);
    let c1h = jitter(rng, per_hour);
    let c1d = jitter(rng, per_hour * 24.0);
    let c1w = jitter(rng, per_hour * 168.0);
    let n = (c1w * rng.random_range(1.0..4.0)).round() as u64;
    let writes = (n as f64 * rng.random_range(0.0..0.2)).round() as u64;
    let hour = rng.random_range(0.0..24.0f64);
    let angle = std::f64::consts::TAU * hour / 24.0;
    let since_h = if per_hour > 0.0 {
        rng.random_range(0.0..(3.0 / per_hour).min(2000.0))
    } else {
        rng.random_range(100.0..5000.0)
    };
    StatsRow {
        size,
        first_seen: Some(t - (rng.random_range(1.0..20_000.0) * HOUR as f64) as Millis),
        last_access: (n > 0).then(|| t - (since_h * HOUR as f64) as Millis),
        reads: n - writes,
        writes,
        h1: score(c1h, DECAY_TAUS_SECS[0]),
        h24: score(c1d, DECAY_TAUS_SECS[1]),
        h168: score(c1w, DECAY_TAUS_SECS[2]),
        hour_sin: angle.sin() * n as f64,
        hour_cos: angle.cos() * n as f64,
    }
}

/// `n` labelled samples over two weeks of engine time, oldest first: a heavy-tailed rate per
/// object, a future rate that drifts from it, and labels drawn from that future (so the task is
/// learnable but noisy, like real history).
pub fn samples(n: usize, horizon_secs: f64, seed: u64) -> Vec<Sample> {
    let mut rng = StdRng::seed_from_u64(seed);
    let rate: LogNormal<f64> = LogNormal::new(-4.0, 2.5).unwrap_or_else(|_| unreachable!("valid parameters"));
    let size: LogNormal<f64> = LogNormal::new(15.0, 2.0).unwrap_or_else(|_| unreachable!("valid parameters"));
    let span = 14 * 24 * HOUR;
    (0..n)
        .map(|i| {
            let t = T0 + span * i as Millis / n.max(1) as Millis;
            let r = Distribution::<f64>::sample(&rate, &mut rng).min(500.0);
            let bytes = size.sample(&mut rng) as u64;
            let row = stats_at(&mut rng, t, r, bytes);
            // The future depends on more than the recent rate, as in the embedded workload:
            // objects read at this time of day get busier, young objects are hot, and the rest
            // drift. The heuristic sees only the recent rate; the forest sees all of it.
            let now_angle = std::f64::consts::TAU * ((t % 86_400_000) as f64 / 3_600_000.0) / 24.0;
            let n = (row.reads + row.writes).max(1) as f64;
            let in_profile = (row.hour_sin / n) * now_angle.sin() + (row.hour_cos / n) * now_angle.cos() > 0.7;
            let young = row.first_seen.is_some_and(|f| t - f < 48 * HOUR);
            let mut per_hour = r * rng.random_range(0.5..1.5) * if in_profile { 4.0 } else { 0.2 };
            if young {
                per_hour += 0.5;
            }
            let future = per_hour * horizon_secs / 3600.0;
            let hits = if future > 0.0 {
                Poisson::new(future).map_or(0.0, |p| p.sample(&mut rng))
            } else {
                0.0
            };
            Sample {
                ts: t,
                object_id: i as i64,
                x: features(&row, t),
                later: hits as u32,
            }
        })
        .collect()
}

pub fn run(cfg: &Config, n_samples: usize, n_objects: usize, events: u64, as_json: bool) -> anyhow::Result<()> {
    let params = ForestParams::default();
    let samples = Arc::new(samples(n_samples, cfg.model.horizon_secs as f64, 11));
    let now = samples.last().map_or(T0, |s| s.ts) + (cfg.model.horizon_secs * 1000) as Millis;

    // Training: the same call the background trainer makes (holdout evaluation included).
    let started = Instant::now();
    let model = Model::train(&samples, &cfg.model, &cfg.sla, now, params);
    let train_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(model.is_forest(), "the forest did not serve: {}", model.info.note);

    let score_secs = score(&model, n_objects, now)?;

    let (idle, busy, trainings) = ingest_while_training(cfg, &samples, now, params, events)?;

    let r = ModelBench {
        samples: n_samples,
        train_secs,
        trees: model.info.trees,
        serving: model.info.serving.clone(),
        holdout_pr_auc: model.info.holdout.as_ref().map(|h| h.pr_auc),
        objects_scored: n_objects,
        score_secs,
        ingest_events: events,
        ingest_idle_events_per_sec: idle,
        ingest_training_events_per_sec: busy,
        ingest_ratio: busy / idle.max(f64::MIN_POSITIVE),
        trainings_during_ingest: trainings,
        peak_rss_mib: super::peak_rss_mib(),
    };
    super::report(&r, as_json, |r| {
        format!(
            "trained on {} samples in {:.1} s ({} trees, holdout PR-AUC {:.3}); scored {} objects in {:.2} s; \
             ingest {:.0} events/s idle, {:.0} while training ({:.0} %); peak RSS {:.0} MiB",
            r.samples,
            r.train_secs,
            r.trees,
            r.holdout_pr_auc.unwrap_or(f64::NAN),
            r.objects_scored,
            r.score_secs,
            r.ingest_idle_events_per_sec,
            r.ingest_training_events_per_sec,
            r.ingest_ratio * 100.0,
            r.peak_rss_mib.unwrap_or(f64::NAN)
        )
    })?;
    Ok(())
}

/// Seconds to score `n` objects of random rates with `model` at `now`, as a planning cycle does
/// (features and votes for every object).
fn score(model: &Model, n_objects: usize, now: Millis) -> anyhow::Result<f64> {
    let mut rng = StdRng::seed_from_u64(12);
    let rate = LogNormal::new(-4.0, 2.5).context("rate distribution")?;
    let rows: Vec<StatsRow> = (0..n_objects)
        .map(|_| {
            let r = Distribution::<f64>::sample(&rate, &mut rng).min(500.0);
            stats_at(&mut rng, now, r, 1 << 20)
        })
        .collect();
    let refs: Vec<&StatsRow> = rows.iter().collect();
    let started = Instant::now();
    let p = model.p_hot(&refs, now);
    let score_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(p.len() == n_objects, "scored {} of {n_objects} objects", p.len());
    Ok(score_secs)
}

/// Ingest's events per second alone, then while the trainer retrains on `samples` back to back
/// on its own thread, and how many trainings it finished meanwhile.
fn ingest_while_training(
    cfg: &Config,
    samples: &Arc<Vec<Sample>>,
    now: Millis,
    params: ForestParams,
    events: u64,
) -> anyhow::Result<(f64, f64, usize)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let idle = {
        let dir = tempfile::tempdir().context("creating a scratch directory")?;
        super::ingest::measure(&rt, cfg, dir.path(), events, 100_000)?
    };
    let (samples, m, sla) = (samples.clone(), cfg.model.clone(), cfg.sla.clone());
    let (busy, trainings) = super::beside_trainings(
        move || {
            let _ = Model::train(&samples, &m, &sla, now, params);
            true
        },
        || {
            let dir = tempfile::tempdir().context("creating a scratch directory")?;
            super::ingest::measure(&rt, cfg, dir.path(), events, 100_000)
        },
    )?;
    let busy = busy?;
    Ok((idle.events_per_sec, busy.events_per_sec, trainings))
}
