//! The cost model: what an object is expected to cost on each tier over the planning horizon —
//! storage for the time it is expected to live, reads that fade the way interest fades, and,
//! for a move, the move itself, the minimum-duration charges it triggers and a likely return
//! trip — all priced by the billing model the replay's meter uses.

use serde::{Deserialize, Serialize};

use super::billing::{self, SlaPrice, early_exit, move_cost, restore_cost, storage_month};
use crate::clock::Millis;
use crate::config::{Config, TierConfig};
use crate::model::features::StatsRow;
use crate::model::forecast::{Learner, State};
use crate::model::heuristic::poisson_at_least;
use crate::store::{self, StoreError};

const MONTH_H: f64 = 720.0;
const WEEK_H: f64 = 168.0;
/// Pieces of the forecast beyond a week when objects die (geometric in age; without deletions
/// it is integrated exactly).
const FAR_PIECES: usize = 6;

/// An object as the planner sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanObject {
    pub key: String,
    pub size: u64,
    /// Index of the tier holding it now.
    pub current: usize,
    pub p_hot: f64,
    /// Accesses per hour as the last hour, day and week show them (decayed counts).
    pub rate_recent: f64,
    pub rate_day: f64,
    pub rate_week: f64,
    /// Accesses so far and the object's age, hours: beyond a week the forecast fades them the
    /// way interest in an object fades with its age (`CostModel::expected_reads`).
    pub accesses: f64,
    pub age_hours: f64,
    /// Accesses per hour a week from now by that fading (what explanations show).
    pub rate_long: f64,
    /// How long it has been on its current tier, ms (what leaving it early costs).
    pub stayed_ms: f64,
    /// Moved too recently to move again, pinned, or a move in flight.
    pub fixed: bool,
    /// Index of the tier a move in flight takes it to: its bytes count there, not where it is
    /// (or a tier being drained would look fuller than it will be and be drained twice).
    pub heading: Option<usize>,
    /// Must never be served slower than the SLA (`sla.hard_prefixes`, pinned).
    #[serde(default)]
    pub hard: bool,
    /// The learned forecast of its reads, when that serves (else the prior's shape prices it).
    #[serde(default)]
    pub learned: Option<Learned>,
}

/// What the learned forecast says of an object's reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    /// The chance of a read within the planning horizon, and within a month.
    pub p_horizon: f64,
    pub p_month: f64,
    /// Reads expected when there is one (what the longest learned window shows).
    pub reads_if_any: f64,
}

impl Learned {
    /// The learned forecast of the object `key` of `row` at `t` over `horizon_hours`.
    pub fn of(l: &Learner, row: &StatsRow, key: &str, t: Millis, horizon_hours: f64) -> Self {
        Self::of_state(l, State::of(row, t).with_key(key), horizon_hours)
    }

    /// The learned forecast of an object in state `s`.
    pub fn of_state(l: &Learner, s: State, horizon_hours: f64) -> Self {
        Self {
            p_horizon: l.p_any(&s, horizon_hours),
            p_month: l.p_any(&s, MONTH_H),
            reads_if_any: l.reads_if_any(&s, horizon_hours),
        }
    }
}

/// One tier's cost for one object, by part, over the horizon ($).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierCost {
    pub tier: String,
    pub storage: f64,
    pub requests: f64,
    pub retrieval: f64,
    /// Restores before reads (archive classes).
    #[serde(default)]
    pub restore: f64,
    /// One-time cost of moving there from the current tier (0 when it is the current tier).
    pub migration: f64,
    /// Minimum-duration charges a move triggers: leaving the current tier early, and the rest of
    /// this tier's minimum if the object is expected to be deleted before it ends.
    #[serde(default)]
    pub min_duration: f64,
    /// The expected cost of coming back (a move back and this tier's minimum) if the object
    /// turns hot again while it sits on a tier that misses the SLA.
    #[serde(default)]
    pub return_trip: f64,
    /// Its expected reads here that miss the SLA, at `sla.miss_cost` each.
    #[serde(default)]
    pub sla: f64,
    /// What a move must save on top, as a safety margin against a wrong forecast
    /// (`optimizer.move_margin` × the one-time costs); counted in `total`, not a charge.
    #[serde(default)]
    pub margin: f64,
    pub total: f64,
    /// Allowed here: not a hard-SLA object on a tier slower than the SLA.
    pub sla_ok: bool,
}

impl TierCost {
    /// The one-time charges of moving there: the move and the minimum-duration charges it
    /// triggers (what the plan's summary reports as spent on moves).
    pub fn one_time(&self) -> f64 {
        self.migration + self.min_duration
    }
}

/// An object's forecast over the horizon, the same on every tier.
#[derive(Debug, Clone, Copy)]
pub struct Forecast {
    /// Reads expected over the planning horizon.
    pub gets: f64,
    alive_hours: f64,
    /// Reads in a month while it lives.
    month_gets: f64,
    p_return: f64,
}

impl Forecast {
    /// Reads expected in a month while the object lives (what its slow reads are priced on).
    pub fn month_gets(&self) -> f64 {
        self.month_gets
    }
}

#[derive(Debug, Clone)]
pub struct CostModel {
    pub tiers: Vec<TierConfig>,
    pub horizon_days: f64,
    pub hot_k: f64,
    pub label_horizon_hours: f64,
    pub hot_threshold: f64,
    /// Which tiers are too slow for the SLA, and what a read served there costs.
    pub sla: SlaPrice,
    /// Expected remaining life of an object, hours (objects get deleted); infinite until the
    /// caller has seen deletions to estimate it from.
    pub life_hours: f64,
    pub margin: f64,
}

impl CostModel {
    pub fn new(c: &Config) -> Self {
        Self {
            tiers: c.tiers.clone(),
            horizon_days: c.optimizer.horizon_days,
            hot_k: f64::from(c.model.hot_k),
            label_horizon_hours: c.model.horizon_secs as f64 / 3600.0,
            hot_threshold: c.sla.hot_threshold,
            sla: SlaPrice::of(&c.sla),
            life_hours: f64::INFINITY,
            margin: c.optimizer.move_margin,
        }
    }

    fn horizon_hours(&self) -> f64 {
        self.horizon_days * 24.0
    }

    /// Hours an object is expected to be alive within the next `hours` (exponential lifetimes
    /// with the model's mean; all of them when no deletions were seen).
    pub fn alive_hours(&self, hours: f64) -> f64 {
        if self.mortal() {
            self.life_hours * (1.0 - self.survival(hours))
        } else {
            hours
        }
    }

    /// Deletions were seen: objects have a finite expected life.
    fn mortal(&self) -> bool {
        self.life_hours.is_finite() && self.life_hours > 0.0
    }

    /// Expected reads in the next `hours`, fading as interest fades, each weighted by the chance
    /// the object still lives: within the first week, the last hour's, day's and week's rates
    /// (decayed counts) over the first hour, the rest of the day and the rest of the week; after
    /// it, the object's accesses so far fading with its age — at age `a + s` it is read at
    /// `accesses / (a + s)` per hour (its average so far, shrinking as it ages: popularity decays
    /// with age), so a burst of a young object fades within weeks while a steadily read old one
    /// keeps its rate. At least what p_hot says of the label horizon.
    pub fn expected_reads(&self, o: &PlanObject, hours: f64) -> f64 {
        let near = [(1.0, o.rate_recent), (24.0, o.rate_day), (WEEK_H, o.rate_week)];
        let (mut from, mut sum) = (0.0f64, 0.0);
        for (until, rate) in near {
            let to = until.min(hours);
            if to > from {
                sum += rate * (self.alive_hours(to) - self.alive_hours(from));
            }
            from = until;
        }
        if hours > WEEK_H && o.accesses > 0.0 {
            // ∫ n / (a + s) over [week, hours], on geometric pieces, each weighted by survival.
            let a = o.age_hours.max(1.0);
            let (lo, hi) = (a + WEEK_H, a + hours);
            if !self.mortal() {
                return (sum + o.accesses * (hi / lo).ln()).max(self.hot_floor(o, hours));
            }
            let step = (hi / lo).powf(1.0 / FAR_PIECES as f64);
            let mut x = lo;
            for _ in 0..FAR_PIECES {
                let next = x * step;
                let mid = (x * next).sqrt() - a;
                sum += o.accesses * step.ln() * self.survival(mid);
                x = next;
            }
        }
        sum.max(self.hot_floor(o, hours))
    }

    /// What p_hot says of the next `hours`: hot_k reads within a label horizon.
    fn hot_floor(&self, o: &PlanObject, hours: f64) -> f64 {
        o.p_hot * self.hot_k * (hours / self.label_horizon_hours.max(1e-9)).min(1.0)
    }

    /// The chance an object still lives `hours` from now.
    fn survival(&self, hours: f64) -> f64 {
        if self.mortal() {
            (-hours / self.life_hours).exp()
        } else {
            1.0
        }
    }

    /// Expected GETs over the planning horizon.
    pub fn expected_gets(&self, o: &PlanObject) -> f64 {
        self.expected_reads(o, self.horizon_hours())
    }

    /// The chance the object turns hot again at some point of the horizon: what sends it back
    /// from a tier that misses the SLA. Reads come in bursts — one read is where a hot spell
    /// starts far more often than a steady rate says — so it is priced as the chance of any
    /// read over the horizon, not estimated from a rate (which a burst breaks).
    pub fn p_return(&self, o: &PlanObject) -> f64 {
        self.p_return_of(self.expected_gets(o))
    }

    fn p_return_of(&self, gets: f64) -> f64 {
        poisson_at_least(gets, 1)
    }

    pub fn is_hot(&self, o: &PlanObject) -> bool {
        o.p_hot >= self.hot_threshold
    }

    /// The cheapest tier a hot object may be served from (where it would come back to).
    fn fast_home(&self, o: &PlanObject) -> usize {
        let ok = |j: &usize| !self.sla.slow(&self.tiers[*j]);
        if ok(&o.current) {
            return o.current;
        }
        (0..self.tiers.len())
            .filter(ok)
            .min_by(|a, b| storage_month(&self.tiers[*a], o.size).total_cmp(&storage_month(&self.tiers[*b], o.size)))
            .unwrap_or(0)
    }

    /// The prior's chance that `o` is read within `hours`: the hand-shaped expected reads as a
    /// Poisson count (what the learned forecast is measured against).
    pub fn prior_p_any(&self, o: &PlanObject, hours: f64) -> f64 {
        self.p_return_of(self.expected_reads(o, hours))
    }

    /// What `o`'s cost on any tier depends on besides the tier: computed once per object. With
    /// a learned forecast, the chance of any read is learned, and the reads it brings are its
    /// own rate's count given a read — the pooled count of its stratum only for an object never
    /// read: that count is a mean over every object of the stratum that was read, which the
    /// busiest few dominate, and taking it for an object with a rate of its own made objects
    /// near the break-even of two tiers look busy after one training and idle after the next,
    /// moving them back and forth.
    pub fn forecast(&self, o: &PlanObject) -> Forecast {
        let h = self.horizon_hours();
        let prior = self.expected_reads(o, h);
        let month_scale = MONTH_H / self.alive_hours(MONTH_H).max(1e-9);
        let prior_month = self.expected_reads(o, MONTH_H);
        let Some(l) = o.learned else {
            return Forecast {
                gets: prior,
                alive_hours: self.alive_hours(h),
                month_gets: prior_month * month_scale,
                p_return: self.p_return_of(prior),
            };
        };
        let given_any = |reads: f64| {
            let p = self.p_return_of(reads);
            if o.accesses > 0.0 && p > 1e-9 {
                (reads / p).max(1.0)
            } else {
                l.reads_if_any
            }
        };
        Forecast {
            gets: l.p_horizon * given_any(prior),
            alive_hours: self.alive_hours(h),
            month_gets: l.p_month * given_any(prior_month) * month_scale,
            p_return: l.p_horizon,
        }
    }

    /// Total cost of `o` on tier `j` over the horizon (move included) and whether the SLA
    /// allows it there.
    pub fn total(&self, o: &PlanObject, j: usize) -> (f64, bool) {
        let c = self.parts(o, j, &self.forecast(o));
        (c.total, c.sla_ok)
    }

    /// `total` on every tier, forecasting once: the planner's path.
    pub fn totals(&self, o: &PlanObject) -> Vec<(f64, bool)> {
        let f = self.forecast(o);
        (0..self.tiers.len())
            .map(|j| {
                let c = self.parts(o, j, &f);
                (c.total, c.sla_ok)
            })
            .collect()
    }

    /// Cost of `o` on tier `j` over the horizon, with the one-time move from its current tier.
    pub fn cost(&self, o: &PlanObject, j: usize) -> TierCost {
        TierCost {
            tier: self.tiers[j].name.clone(),
            ..self.parts(o, j, &self.forecast(o))
        }
    }

    fn parts(&self, o: &PlanObject, j: usize, f: &Forecast) -> TierCost {
        let t = &self.tiers[j];
        let gb = o.size as f64 / billing::GB;
        let gets = f.gets;
        let storage = storage_month(t, o.size) * f.alive_hours / MONTH_H;
        let requests = gets * t.get_per_1k / 1000.0;
        let retrieval = gets * gb * t.retrieval_gb;
        let restore = gets * restore_cost(t, o.size);
        let slow = self.sla.slow(t);
        let sla_ok = !(o.hard && slow);
        let sla = if slow { gets * self.sla.miss_cost } else { 0.0 };
        let running = storage + requests + retrieval + restore + sla;
        if j == o.current {
            return TierCost {
                tier: String::new(),
                storage,
                requests,
                retrieval,
                restore,
                sla,
                total: running,
                sla_ok,
                ..TierCost::default()
            };
        }
        let cur = &self.tiers[o.current];
        let migration = move_cost(cur, t, o.size);
        // Leaving the current tier early, and the rest of j's minimum if deleted before it ends.
        let min_h = t.min_storage_days * 24.0;
        let min_duration = early_exit(cur, o.size, o.stayed_ms)
            + storage_month(t, o.size) * (min_h - self.alive_hours(min_h)) / MONTH_H;
        let return_trip = if slow {
            let home = self.fast_home(o);
            let back = if home == j {
                0.0
            } else {
                move_cost(t, &self.tiers[home], o.size) + storage_month(t, o.size) * min_h / MONTH_H
            };
            f.p_return * back
        } else {
            0.0
        };
        let margin = self.margin * (migration + min_duration + return_trip);
        TierCost {
            tier: String::new(),
            storage,
            requests,
            retrieval,
            restore,
            sla,
            migration,
            min_duration,
            return_trip,
            margin,
            total: running + migration + min_duration + return_trip + margin,
            sla_ok,
        }
    }

    pub fn costs(&self, o: &PlanObject) -> Vec<TierCost> {
        (0..self.tiers.len()).map(|j| self.cost(o, j)).collect()
    }

    /// `cost` with the forecast in hand (the tier's name left empty): the plan's summary reads
    /// what the planner minimises (`total`) and a move's one-time charges from one computation.
    pub fn priced(&self, o: &PlanObject, j: usize, f: &Forecast) -> TierCost {
        self.parts(o, j, f)
    }

    /// Monthly running cost (storage, requests, retrieval, restores; no moves) of `o` on tier `j`.
    pub fn monthly(&self, o: &PlanObject, j: usize, f: &Forecast) -> f64 {
        let t = &self.tiers[j];
        storage_month(t, o.size)
            + f.month_gets
                * (t.get_per_1k / 1000.0 + o.size as f64 / billing::GB * t.retrieval_gb + restore_cost(t, o.size))
    }

    /// What a month of `o`'s slow reads on tier `j` costs at `sla.miss_cost` (0 on a fast tier):
    /// beside `monthly`, what the planner trades the bill against.
    pub fn monthly_sla(&self, j: usize, f: &Forecast) -> f64 {
        if self.sla.slow(&self.tiers[j]) {
            f.month_gets * self.sla.miss_cost
        } else {
            0.0
        }
    }
}

/// The expected remaining life of an object from what the store saw live and die: deleted
/// objects' lifetimes (counters kept by ingest) and the ages of those alive. Reads every object.
pub fn life_hours_of(conn: &store::Connection, now: Millis) -> Result<f64, StoreError> {
    let (lived_ms, deleted) = store::lifetimes(conn)?;
    let alive_ms = store::objects::alive_ms(conn, now)?;
    Ok(life_hours(lived_ms + alive_ms, deleted))
}

/// Expected remaining life of an object, hours, from what a population lived: `exposure_ms` of
/// object-time in which `deletes` objects were deleted (the maximum-likelihood mean of
/// exponential lifetimes); infinite before any deletion.
pub fn life_hours(exposure_ms: f64, deletes: u64) -> f64 {
    if deletes == 0 {
        f64::INFINITY
    } else {
        exposure_ms.max(0.0) / 3_600_000.0 / deletes as f64
    }
}
