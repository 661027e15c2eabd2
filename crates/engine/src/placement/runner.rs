//! The background brain: retrains the model and re-plans placement on their cadences or on command.

use crate::cluster::Cluster;
use crate::sync;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::cost::{CostModel, life_hours_of};
use super::planner::{self, PlanSummary};
use crate::clock::{Clock, Millis};
use crate::config::Config;
use crate::migrate::Migrator;
use crate::model::forest::ForestParams;
use crate::model::{Model, dataset, training};
use crate::store::{Store, StoreError};

/// Training samples read per retrain (the newest).
pub const MAX_SAMPLES: usize = 200_000;

pub struct Brain {
    model: RwLock<Arc<Model>>,
    last_plan: Mutex<Option<PlanSummary>>,
    retrain: Notify,
    optimize: Notify,
    /// Tier capacities changed at run time (`Command::SetCapacity`), bytes.
    capacity: Mutex<std::collections::BTreeMap<String, u64>>,
    /// Every plan's solve time, for the metrics histogram.
    pub solve_secs: crate::observe::Samples,
}

impl Brain {
    pub fn model(&self) -> Arc<Model> {
        sync::read(&self.model).clone()
    }

    pub fn last_plan(&self) -> Option<PlanSummary> {
        sync::lock(&self.last_plan).clone()
    }

    /// A follower's model: the newest one the leader saved, when it is newer than the one serving.
    async fn follow_model(&self, store: &Arc<Store>, cfg: &Config) {
        let m = cfg.model.clone();
        let loaded = store.read(move |c| Model::load(c, &m)).await;
        match loaded {
            Ok(Some(model)) if model.info.trained_at != self.model().info.trained_at => {
                tracing::info!(target: "dim::model", serving = %model.info.serving_line(), "serving the leader's model");
                *sync::write(&self.model) = Arc::new(model);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(target: "dim::model", error = %e, "cannot read the leader's model"),
        }
    }

    /// A follower's plan: the summary of the leader's last one.
    async fn follow_plan(&self, store: &Arc<Store>) {
        if let Ok(Some(p)) = store.read(planner::last).await {
            *sync::lock(&self.last_plan) = Some(p);
        }
    }

    pub fn retrain_now(&self) {
        self.retrain.notify_one();
    }

    pub fn optimize_now(&self) {
        self.optimize.notify_one();
    }

    pub fn set_capacity(&self, tier: &str, bytes: u64) {
        sync::lock(&self.capacity).insert(tier.to_string(), bytes);
    }

    /// The capacity the optimizer plans `tier` with now, if it was changed at run time.
    pub fn capacity_of(&self, tier: &str) -> Option<u64> {
        sync::lock(&self.capacity).get(tier).copied()
    }

    /// `cfg` with the run-time capacity changes applied.
    pub fn effective(&self, cfg: &Config) -> Config {
        let mut cfg = cfg.clone();
        for t in &mut cfg.tiers {
            if let Some(b) = self.capacity_of(&t.name) {
                t.capacity_gb = Some(b as f64 / 1e9);
            }
        }
        cfg
    }
}

/// Starts the trainer and the optimizer; the last persisted model serves until a new one is trained.
///
/// On a cluster only the leader plans and trains; the others serve the model and show the plan
/// the leader saved in the store.
pub fn start(
    cfg: Config,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    migrator: Arc<Migrator>,
    cluster: Option<Arc<Cluster>>,
) -> (Arc<Brain>, Vec<JoinHandle<()>>) {
    let persisted = store
        .reader()
        .ok()
        .and_then(|c| Model::load(&c, &cfg.model).ok().flatten());
    let last_plan = store.reader().ok().and_then(|c| planner::last(&c).ok().flatten());
    let brain = Arc::new(Brain {
        model: RwLock::new(Arc::new(
            persisted.unwrap_or_else(|| Model::heuristic(&cfg.model, "not trained yet")),
        )),
        last_plan: Mutex::new(last_plan),
        retrain: Notify::new(),
        optimize: Notify::new(),
        capacity: Mutex::default(),
        solve_secs: Default::default(),
    });
    let trainer = spawn_trainer(
        brain.clone(),
        cfg.clone(),
        store.clone(),
        clock.clone(),
        cluster.clone(),
    );
    let optimizer = {
        let b = brain.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(cfg.optimizer.interval_secs.max(1));
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = b.optimize.notified() => {}
                }
                if cluster.as_ref().is_some_and(|c| !c.is_leader()) {
                    b.follow_plan(&store).await;
                    continue;
                }
                let (cfg2, store2, model, now) = (b.effective(&cfg), store.clone(), b.model(), clock.now_ms());
                let planned = tokio::task::spawn_blocking(move || planner::run(&store2, &cfg2, &model, now)).await;
                match planned {
                    Ok(Ok(s)) => {
                        log_planned(&s);
                        b.solve_secs.push(s.solve_secs);
                        *sync::lock(&b.last_plan) = Some(s);
                        migrator.wake();
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(target: "dim::placement", error = %e, "planning failed; placement unchanged")
                    }
                    Err(_) => return,
                }
            }
        })
    };
    (brain, vec![trainer, optimizer])
}

/// The trainer: retrains every `model.retrain_every_secs` (the first soon after start) or when
/// asked, on a thread of its own, and swaps the new model in.
fn spawn_trainer(
    b: Arc<Brain>,
    cfg: Config,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    cluster: Option<Arc<Cluster>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(cfg.model.retrain_every_secs.max(1));
        // The first training comes soon after start, once some history exists.
        let mut wait = every.min(Duration::from_secs(15));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = b.retrain.notified() => {}
            }
            if cluster.as_ref().is_some_and(|c| !c.is_leader()) {
                b.follow_model(&store, &cfg).await;
                // A follower looks for the leader's newer model more often than it trains.
                wait = every.min(Duration::from_secs(30));
                continue;
            }
            wait = every;
            let (cfg2, store2, now) = (cfg.clone(), store.clone(), clock.now_ms());
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            let spawned = training::spawn_named("dim-train", move || {
                let _ = done_tx.send(train(&cfg2, &store2, now));
            });
            if let Err(e) = spawned {
                tracing::warn!(target: "dim::model", error = %e, "could not start a training thread");
                continue;
            }
            match done_rx.await {
                Ok(Ok(m)) => {
                    log_trained(&m);
                    *sync::write(&b.model) = Arc::new(m);
                }
                Ok(Err(e)) => {
                    tracing::warn!(target: "dim::model", error = %e, "training failed; the previous model keeps serving")
                }
                Err(_) => {
                    tracing::error!(target: "dim::model", "the training thread panicked; the previous model keeps serving")
                }
            }
        }
    })
}

/// Trains a model on the store's history at `now`, learns its forecast of reads, and saves it:
/// the brain's training cycle (also timed by `dim bench scale`).
pub fn train(cfg: &Config, store: &Store, now: Millis) -> Result<Model, StoreError> {
    let conn = store.reader()?;
    let h = (cfg.model.horizon_secs * 1000) as i64;
    let samples = dataset::samples(&conn, now, h, MAX_SAMPLES)?;
    let mut m = Model::train(&samples, &cfg.model, &cfg.sla, now, ForestParams::default());
    let observed = dataset::forecast_samples(&conn, now, MAX_SAMPLES)?;
    let mut cm = CostModel::new(cfg);
    cm.life_hours = life_hours_of(&conn, now)?;
    m.learn_forecast(&observed, &|row, t, hours| planner::prior_p_any(&cm, row, t, hours));
    m.save(&store.writer())?;
    Ok(m)
}

/// The line that says a model was trained: which serves and why, and how well each did.
fn log_trained(m: &Model) {
    tracing::info!(
        target: "dim::model",
        serving = %m.info.serving_line(),
        samples = m.info.train_samples,
        secs = format!("{:.2}", m.info.train_secs),
        pr_auc = m.info.holdout.as_ref().map(|h| format!("{:.3}", h.pr_auc)).unwrap_or_default(),
        heuristic_pr_auc = m.info.heuristic_holdout.as_ref().map(|h| format!("{:.3}", h.pr_auc)).unwrap_or_default(),
        note = %m.info.note,
        forecast = %m.info.forecast.line(),
        forecast_why = %m.info.forecast.why,
        "model trained"
    );
}

/// The line that says a plan was made: objects, moves, costs and what bound it.
fn log_planned(s: &PlanSummary) {
    tracing::info!(
        target: "dim::placement",
        objects = s.objects,
        candidates = s.candidates,
        moves = s.moves,
        tasks = s.tasks_created,
        monthly_now = format!("{:.4}", s.monthly_now),
        monthly_after = format!("{:.4}", s.monthly_after),
        solve_secs = format!("{:.3}", s.solve_secs),
        binding = ?s.binding,
        "placement planned"
    );
}
