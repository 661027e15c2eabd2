//! Why an object is where it is: features, p_hot, cost per tier by part, constraints and task history.

use serde::{Deserialize, Serialize};

use super::cost::{CostModel, Learned, PlanObject, TierCost};
use super::planner;
use crate::clock::{Millis, wall_now_ms};
use crate::config::Config;
use crate::migrate::task::{self, Task};
use crate::model::features::{self, NAMES};
use crate::model::forecast::State;
use crate::model::{Model, ModelInfo};
use crate::store::{Connection, StoreError, engine_time, objects};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub key: String,
    pub tier: Option<String>,
    pub size: u64,
    pub at_ms: Millis,
    pub features: Vec<(String, f64)>,
    pub p_hot: f64,
    pub hot: bool,
    pub model: ModelInfo,
    /// Accesses per hour: recent (1 h decay) and long-run (beyond a week).
    pub rate_recent: f64,
    pub rate_long: f64,
    /// The day's and the week's rates, per hour: with the two above, the shape of the forecast.
    #[serde(default)]
    pub rate_day: f64,
    #[serde(default)]
    pub rate_week: f64,
    pub expected_gets: f64,
    /// Reads expected within the next day, week, month and horizon (the forecast fading).
    #[serde(default)]
    pub expected_reads: Vec<(String, f64)>,
    /// The chance of a read within each horizon: the prior's, the learned forecast's (None
    /// until one is fitted), and which of the two serves.
    #[serde(default)]
    pub chance_of_read: Vec<ChanceOfRead>,
    #[serde(default)]
    pub forecast_serving: String,
    /// The expected remaining life the model prices storage with (None: no deletions seen).
    #[serde(default)]
    pub life_days: Option<f64>,
    pub horizon_days: f64,
    pub costs: Vec<TierCost>,
    /// The cheapest tier the constraints allow, and whether the object may move at all.
    pub chosen: Option<String>,
    pub constraints: Vec<String>,
    pub tasks: Vec<Task>,
}

/// One horizon of the read forecast, prior beside learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChanceOfRead {
    pub within: String,
    pub prior: f64,
    pub learned: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no object {0:?} in this store (check the key and --data-dir)")]
    Unknown(String),
}

/// Explains `key` at the store's last engine time with the last persisted model (`dim explain`).
pub fn explain(conn: &Connection, cfg: &Config, key: &str) -> Result<Explanation, ExplainError> {
    let now: Millis = engine_time(conn)?.unwrap_or_else(wall_now_ms);
    let model = Model::load(conn, &cfg.model)?.unwrap_or_else(|| Model::heuristic(&cfg.model, "not trained yet"));
    explain_with(conn, cfg, key, &model, now, life_hours(conn, now)?)
}

/// The expected remaining life explanations price storage with: the one the last plan used, or,
/// before any plan, read from every object (half a second at a million objects: callers that
/// explain often keep it a while).
pub fn life_hours(conn: &Connection, now: Millis) -> Result<f64, StoreError> {
    match planner::last(conn)? {
        Some(p) => Ok(p.life_hours.unwrap_or(f64::INFINITY)),
        None => super::cost::life_hours_of(conn, now),
    }
}

/// Explains `key` at `now` with `model` (the running engine's serving model, for the dashboard).
pub fn explain_with(
    conn: &Connection,
    cfg: &Config,
    key: &str,
    model: &Model,
    now: Millis,
    life_hours: f64,
) -> Result<Explanation, ExplainError> {
    let Some(objects::ObjectState {
        tier,
        moved_at,
        pinned,
        stats,
    }) = objects::state_of(conn, key)?
    else {
        return Err(ExplainError::Unknown(key.to_string()));
    };
    let tasks = task::of_key(conn, key)?;
    let x = features::features(&stats, now);
    let p_hot = model.p_hot(&[&stats], now)[0];
    let mut cm = CostModel::new(cfg);
    cm.life_hours = life_hours;
    let last_plan = planner::last(conn)?;
    let current = tier.as_deref().and_then(|t| cfg.tiers.iter().position(|c| c.name == t));
    let mut priced = planner::plan_object(key.to_string(), &stats, current.unwrap_or(0), p_hot, now);
    if let Some(m) = moved_at {
        priced.stayed_ms = (now - m).max(0) as f64;
    }
    let horizon_h = cfg.optimizer.horizon_days * 24.0;
    priced.hard = pinned || cfg.sla.is_hard(key);
    priced.learned = model.learned().map(|f| Learned::of(f, &stats, key, now, horizon_h));
    let state = State::of(&stats, now).with_key(key);
    let chance_of_read = chances(&cm, model, &priced, &state, horizon_h);
    let mut constraints = Vec::new();
    let (costs, chosen, expected_gets) = match current {
        Some(cur) => {
            let o = &priced;
            let costs = cm.costs(o);
            constraints.push(sla_line(cfg, o.hard, pinned));
            let fixed = stays_put(cfg, pinned, moved_at, &tasks, now, &mut constraints);
            let best = if fixed {
                cur
            } else {
                cheapest_allowed(&costs).unwrap_or(cur)
            };
            let binding = last_plan.iter().flat_map(|p| &p.binding);
            constraints.extend(binding.map(|b| format!("last plan: {b} was binding")));
            (costs, Some(cfg.tiers[best].name.clone()), cm.forecast(o).gets)
        }
        None => {
            constraints.push("on no tier yet: seen in events only, not placed".into());
            (Vec::new(), None, 0.0)
        }
    };
    Ok(Explanation {
        key: key.to_string(),
        tier,
        size: stats.size,
        at_ms: now,
        features: NAMES.iter().map(|n| n.to_string()).zip(x).collect(),
        p_hot,
        hot: p_hot >= cfg.sla.hot_threshold,
        model: model.info.clone(),
        rate_recent: priced.rate_recent,
        rate_long: priced.rate_long,
        rate_day: priced.rate_day,
        rate_week: priced.rate_week,
        expected_gets,
        expected_reads: expected_reads(&cm, &priced, cfg.optimizer.horizon_days),
        chance_of_read,
        forecast_serving: model.info.forecast.line(),
        life_days: cm.life_hours.is_finite().then(|| cm.life_hours / 24.0),
        horizon_days: cfg.optimizer.horizon_days,
        costs,
        chosen,
        constraints,
        tasks,
    })
}

/// What the SLA means for this object: a hard constraint (pinned, `sla.hard_prefixes`) or a price
/// per slow read.
fn sla_line(cfg: &Config, hard: bool, pinned: bool) -> String {
    if hard {
        format!(
            "sla: hard ({}) so only tiers at or under {} ms",
            if pinned { "pinned" } else { "sla.hard_prefixes" },
            cfg.sla.hot_latency_ms
        )
    } else {
        format!(
            "sla: each read slower than {} ms costs {} $ (sla.miss_cost), priced in the SLA column",
            cfg.sla.hot_latency_ms, cfg.sla.miss_cost
        )
    }
}

/// Whether the planner must leave the object where it is (pinned, moved within the residency, a
/// move in flight), each reason added to `constraints`.
fn stays_put(
    cfg: &Config,
    pinned: bool,
    moved_at: Option<Millis>,
    tasks: &[Task],
    now: Millis,
    constraints: &mut Vec<String>,
) -> bool {
    let residency = (cfg.optimizer.min_residency_secs * 1000) as Millis;
    let mut fixed = false;
    if pinned {
        constraints.push("pinned: never moved by the planner".into());
        fixed = true;
    }
    if let Some(m) = moved_at.filter(|m| now - m < residency) {
        constraints.push(format!(
            "residency: moved {:.1} h ago, stays at least {:.1} h",
            (now - m) as f64 / 3.6e6,
            residency as f64 / 3.6e6
        ));
        fixed = true;
    }
    if tasks.iter().any(|t| !t.state.is_terminal()) {
        constraints.push("a migration task for it is in flight".into());
        fixed = true;
    }
    fixed
}

/// The chance of a read within a day, week, month and the horizon, by the prior and, when one
/// serves, the learned forecast.
fn chances(cm: &CostModel, model: &Model, priced: &PlanObject, state: &State, horizon_h: f64) -> Vec<ChanceOfRead> {
    [("day", 24.0), ("week", 168.0), ("month", 720.0), ("horizon", horizon_h)]
        .into_iter()
        .map(|(n, h)| ChanceOfRead {
            within: n.to_string(),
            prior: cm.prior_p_any(priced, h),
            learned: model.learned().map(|f| f.p_any(state, h)),
        })
        .collect()
}

/// Reads the prior's shape expects over a day, week, month and the horizon.
fn expected_reads(cm: &CostModel, priced: &PlanObject, horizon_days: f64) -> Vec<(String, f64)> {
    [("day", 24.0), ("week", 168.0), ("month", 720.0)]
        .into_iter()
        .map(|(n, h)| (n.to_string(), cm.expected_reads(priced, h)))
        .chain([(
            format!("{horizon_days} days"),
            cm.expected_reads(priced, horizon_days * 24.0),
        )])
        .collect()
}

/// The tier with the lowest total among those the object is allowed on.
fn cheapest_allowed(costs: &[TierCost]) -> Option<usize> {
    (0..costs.len())
        .filter(|j| costs[*j].sla_ok)
        .min_by(|a, b| costs[*a].total.total_cmp(&costs[*b].total))
}
