//! The `dim` and `heuristic-milp` policies: the live engine's features, labels, model, cost model
//! and MILP planner, on the replay's simulated clock. Stats rows are kept in memory with the same
//! update ingest applies; feature snapshots, labels and retraining follow the live cadence
//! (`model.sample_every_secs`, `model.horizon_secs`), planning and retraining the replay's.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::history::{self, History};
use super::labelled::LabelledPool;
use super::meter::Meter;
use super::policy::Policy;
use super::workload::Ev;
use crate::config::Config;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::model::Model;
use crate::engine::model::dataset::Sample;
use crate::engine::model::features::{StatsRow, features};
use crate::engine::model::forecast::{ForecastInfo, State, group_of};
use crate::engine::model::forest::ForestParams;
use crate::engine::placement::cost::{CostModel, Learned, PlanObject};
use crate::engine::placement::planner::{self, plan_object};

/// The first training, engine time: a day of history.
const FIRST_RETRAIN_MS: Millis = 86_400_000;

/// A feature snapshot waiting for its horizon to pass.
struct Pending {
    sample: Sample,
    accesses: u64,
    life: u32,
}

pub struct Planned {
    name: &'static str,
    /// Retrain a forest (dim) or always serve the decayed-rate heuristic (heuristic-milp).
    learn: bool,
    cfg: Config,
    cm: CostModel,
    landing: usize,
    sizes: Vec<u64>,
    rows: Vec<StatsRow>,
    /// Per object: stored, how many times it was deleted, when it last moved.
    alive: Vec<bool>,
    life: Vec<u32>,
    moved_at: Vec<Option<Millis>>,
    /// Since when each live object lives, their sum, and what the dead lived: the population's
    /// deletion rate, from which the cost model expects an object's remaining life.
    born: Vec<Millis>,
    born_sum: f64,
    lived_ms: f64,
    deletes: u64,
    touched: Vec<u32>,
    is_touched: Vec<bool>,
    live: Vec<u32>,
    model: Model,
    /// Objects under `sla.hard_prefixes`: never planned onto a tier slower than the SLA.
    hard: Vec<bool>,
    /// Each object's siblings (`forecast::group_of` its key).
    groups: Vec<u16>,
    /// Past states and what followed them, for the learned forecast.
    history: History,
    pending: VecDeque<Pending>,
    labelled: LabelledPool,
    horizon_ms: Millis,
    next_sample: Millis,
    next_retrain: Millis,
    next_plan: Millis,
    rng: StdRng,
    plans: usize,
    trainings: usize,
    forest_served: usize,
    /// Trainings after which the learned forecast served.
    forecast_served: usize,
    plan_secs: f64,
    train_secs: f64,
    failures: usize,
}

impl Planned {
    pub fn new(name: &'static str, learn: bool, cfg: &Config, sizes: &[u64], keys: &[String]) -> Self {
        let n = sizes.len();
        let landing = cfg
            .tiers
            .iter()
            .position(|t| t.name == cfg.landing_tier().name)
            .unwrap_or(0);
        Self {
            name,
            learn,
            cfg: cfg.clone(),
            cm: CostModel::new(cfg),
            landing,
            sizes: sizes.to_vec(),
            rows: vec![StatsRow::default(); n],
            alive: vec![false; n],
            life: vec![0; n],
            moved_at: vec![None; n],
            born: vec![0; n],
            born_sum: 0.0,
            lived_ms: 0.0,
            deletes: 0,
            touched: Vec::new(),
            is_touched: vec![false; n],
            live: Vec::new(),
            model: Model::heuristic(&cfg.model, if learn { "not trained yet" } else { "heuristic policy" }),
            hard: keys.iter().map(|k| cfg.sla.is_hard(k)).collect(),
            groups: keys.iter().map(|k| group_of(k)).collect(),
            history: History::new(if learn { n } else { 0 }),
            pending: VecDeque::new(),
            labelled: LabelledPool::new(
                cfg.replay.train_samples,
                (cfg.model.history_retention_secs as Millis).saturating_mul(1000),
            ),
            horizon_ms: (cfg.model.horizon_secs * 1000) as Millis,
            next_sample: (cfg.model.sample_every_secs * 1000) as Millis,
            next_retrain: FIRST_RETRAIN_MS.min((cfg.replay.retrain_every_secs * 1000) as Millis),
            next_plan: (cfg.replay.plan_every_secs * 1000) as Millis,
            rng: StdRng::seed_from_u64(cfg.events.embedded.seed),
            plans: 0,
            trainings: 0,
            forest_served: 0,
            forecast_served: 0,
            plan_secs: 0.0,
            train_secs: 0.0,
            failures: 0,
        }
    }

    /// Feature snapshots at `t`: every object touched since the last one, plus random others.
    fn sample(&mut self, t: Millis) {
        self.live.clear();
        self.live
            .extend((0..self.alive.len() as u32).filter(|o| self.alive[*o as usize]));
        let mut objs = std::mem::take(&mut self.touched);
        for o in &objs {
            self.is_touched[*o as usize] = false;
        }
        if self.learn {
            // The forecast's states: random live objects, and as many just touched.
            for k in 0..2 * history::PER_TICK {
                let pool = if k % 2 == 0 { &self.live } else { &objs };
                if pool.is_empty() {
                    continue;
                }
                let o = pool[self.rng.random_range(0..pool.len())];
                self.history.keep(o, t, &self.rows[o as usize]);
            }
        }
        if !self.live.is_empty() {
            for _ in 0..self.cfg.model.sample_cold.min(self.live.len() as u32) {
                objs.push(self.live[self.rng.random_range(0..self.live.len())]);
            }
        }
        for o in objs.drain(..) {
            let (row, i) = (&self.rows[o as usize], o as usize);
            if !self.alive[i] {
                continue;
            }
            self.pending.push_back(Pending {
                sample: Sample {
                    ts: t,
                    object_id: i64::from(o),
                    x: features(row, t),
                    later: 0,
                },
                accesses: row.reads + row.writes,
                life: self.life[i],
            });
        }
        self.touched = objs;
    }

    /// Labels the snapshot at the queue's front with the accesses in (t, t + H], at t + H.
    fn label_front(&mut self) {
        let Some(mut p) = self.pending.pop_front() else { return };
        let i = p.sample.object_id as usize;
        let row = &self.rows[i];
        let later = if self.life[i] == p.life {
            row.reads + row.writes
        } else {
            p.accesses
        };
        p.sample.later = later.saturating_sub(p.accesses).min(u64::from(u32::MAX)) as u32;
        let at = p.sample.ts + self.horizon_ms;
        self.labelled.push(p.sample, at);
    }

    fn retrain(&mut self, t: Millis) {
        let started = std::time::Instant::now();
        let samples = self.labelled.samples();
        self.model = Model::train(samples, &self.cfg.model, &self.cfg.sla, t, ForestParams::default());
        let observed = self.history.observed(t, &self.groups);
        let cm = &self.cm;
        self.model
            .learn_forecast(&observed, &|row, at, hours| planner::prior_p_any(cm, row, at, hours));
        self.forecast_served += usize::from(self.model.learned().is_some());
        self.trainings += 1;
        self.train_secs += started.elapsed().as_secs_f64();
    }

    fn plan(&mut self, m: &mut Meter, t: Millis) {
        let started = std::time::Instant::now();
        let residency = (self.cfg.optimizer.min_residency_secs * 1000) as Millis;
        let ids: Vec<usize> = (0..self.alive.len()).filter(|o| m.tier_of(*o).is_some()).collect();
        let live = self.alive.iter().filter(|a| **a).count() as f64;
        let exposure_ms = self.lived_ms + live * t as f64 - self.born_sum;
        self.cm.life_hours = crate::engine::placement::cost::life_hours(exposure_ms, self.deletes);
        let rows: Vec<&StatsRow> = ids.iter().map(|o| &self.rows[*o]).collect();
        let p = self.model.p_hot(&rows, t);
        let horizon_h = self.cfg.optimizer.horizon_days * 24.0;
        let objs: Vec<PlanObject> =
            ids.iter()
                .zip(p)
                .map(|(o, p_hot)| {
                    let current = m.tier_of(*o).unwrap_or(self.landing);
                    let mut po = plan_object(String::new(), &self.rows[*o], current, p_hot, t);
                    po.hard = self.hard[*o];
                    po.learned = self.model.learned().map(|f| {
                        Learned::of_state(f, State::of(&self.rows[*o], t).in_group(self.groups[*o]), horizon_h)
                    });
                    po.fixed = self.moved_at[*o].is_some_and(|at| t - at < residency);
                    if let Some(at) = self.moved_at[*o] {
                        po.stayed_ms = (t - at).max(0) as f64;
                    }
                    po
                })
                .collect();
        match planner::plan(&objs, &self.cm, &self.cfg) {
            Ok(plan) => {
                for (k, to) in plan.moves {
                    let o = &objs[k];
                    tracing::debug!(target: "dim::replay", policy = self.name, obj = ids[k], size = o.size, from = o.current, to, day = t as f64 / 86_400_000.0,
                        p_hot = o.p_hot, rate_recent = o.rate_recent, rate_day = o.rate_day, rate_week = o.rate_week, rate_long = o.rate_long,
                        stay = self.cm.total(o, o.current).0, go = self.cm.total(o, to).0, age_h = o.age_hours, accesses = o.accesses,
                        gets = self.cm.forecast(o).gets, p_return = ?o.learned.map(|l| l.p_horizon), totals = ?self.cm.totals(o).iter().map(|c| c.0).collect::<Vec<_>>(),
                        parts = ?self.cm.costs(o).iter().map(|c| (c.storage, c.requests + c.retrieval + c.restore, c.migration, c.min_duration, c.return_trip, c.sla, c.margin)).collect::<Vec<_>>(), "move");
                    m.migrate(ids[k], to, t);
                    self.moved_at[ids[k]] = Some(t);
                }
            }
            Err(e) => {
                self.failures += 1;
                tracing::warn!(target: "dim::replay", policy = self.name, error = %e, "planning failed; placement unchanged");
            }
        }
        self.plans += 1;
        self.forest_served += usize::from(self.model.is_forest());
        self.plan_secs += started.elapsed().as_secs_f64();
    }
}

impl Policy for Planned {
    fn name(&self) -> &str {
        self.name
    }

    fn landing(&self, _obj: usize) -> usize {
        self.landing
    }

    /// Snapshots, labels, retraining and planning due by `now`, in time order; a label is due once
    /// every access up to t + H has been applied (the next event is later than that).
    fn advance(&mut self, m: &mut Meter, now: Millis) {
        loop {
            let label = self.pending.front().map(|p| p.sample.ts + self.horizon_ms);
            let retrain = if self.learn { self.next_retrain } else { Millis::MAX };
            let t = self.next_sample.min(retrain).min(self.next_plan);
            if label.is_some_and(|l| l < now && l <= t) {
                self.label_front();
                continue;
            }
            if t > now {
                return;
            }
            if t == self.next_sample {
                self.sample(t);
                self.next_sample += (self.cfg.model.sample_every_secs * 1000) as Millis;
            } else if t == retrain {
                self.retrain(t);
                // The gap doubles from a day up to the cadence: a new deployment learns its
                // own decay within days, when each day of history adds most to what it knows.
                let every = (self.cfg.replay.retrain_every_secs * 1000) as Millis;
                self.next_retrain += t.clamp(FIRST_RETRAIN_MS, every.max(FIRST_RETRAIN_MS));
            } else {
                self.plan(m, t);
                self.next_plan += (self.cfg.replay.plan_every_secs * 1000) as Millis;
            }
        }
    }

    fn after(&mut self, _m: &mut Meter, _i: usize, ev: &Ev) {
        let o = ev.obj as usize;
        if self.learn && matches!(ev.op, Op::Get | Op::Head) {
            self.history.read(o, ev.ts);
        }
        if ev.op == Op::Delete {
            if self.alive[o] {
                if self.learn {
                    self.history.deleted(o, ev.ts);
                }
                self.deletes += 1;
                self.lived_ms += (ev.ts - self.born[o]) as f64;
                self.born_sum -= self.born[o] as f64;
                self.alive[o] = false;
                self.life[o] += 1;
                self.rows[o] = StatsRow::default();
                self.moved_at[o] = None;
            }
            return;
        }
        if !self.alive[o] {
            self.alive[o] = true;
            self.born[o] = ev.ts;
            self.born_sum += ev.ts as f64;
        }
        self.rows[o].record(ev.ts, ev.op, Some(self.sizes[o]));
        // The size of an object only read is known too (live, the store has it from the tier
        // that holds it); without it the planner would price a 2 MB file as empty.
        self.rows[o].size = self.sizes[o];
        if !self.is_touched[o] {
            self.is_touched[o] = true;
            self.touched.push(ev.obj);
        }
    }

    fn notes(&self) -> Vec<String> {
        let mut v = vec![format!(
            "{} plans ({:.1} s) every {}",
            self.plans,
            self.plan_secs,
            humantime::format_duration(std::time::Duration::from_secs(self.cfg.replay.plan_every_secs))
        )];
        if self.learn {
            v.push(format!(
                "{} trainings ({:.1} s) every {} on ≤ {} samples; the forest served {} of {} plans{}",
                self.trainings,
                self.train_secs,
                humantime::format_duration(std::time::Duration::from_secs(self.cfg.replay.retrain_every_secs)),
                self.cfg.replay.train_samples,
                self.forest_served,
                self.plans,
                if self.model.info.note.is_empty() {
                    String::new()
                } else {
                    format!(" (last: {})", self.model.info.note)
                }
            ));
        }
        if self.learn {
            let f = &self.model.info.forecast;
            v.push(format!(
                "the learned forecast served after {} of {} trainings; last: {} ({})",
                self.forecast_served,
                self.trainings,
                f.line(),
                f.why
            ));
        }
        if self.failures > 0 {
            v.push(format!("{} plans failed", self.failures));
        }
        v
    }

    fn forecast(&self) -> Option<ForecastInfo> {
        self.learn.then(|| self.model.info.forecast.clone())
    }
}
