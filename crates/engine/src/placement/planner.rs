//! The planner: scores every placed object, lets only those whose best tier could change into the
//! MILP, and turns the difference between placement and plan into pending migration tasks.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::candidates::candidates;
use super::cost::{CostModel, Learned, PlanObject};
use super::problem::{Item, Problem, Solution, SolveError};
use crate::clock::{Millis, wall_now_ms};
use crate::config::Config;
use crate::migrate::task::{self, PlannedMove};
use crate::model::Model;
use crate::model::features::{StatsRow, recent};
use crate::store::{Connection, PLAN_LAST, Store, StoreError, get_setting, objects};

/// What the last planning cycle decided (persisted; shown by the dashboard and `explain`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub at: Millis,
    pub objects: usize,
    pub candidates: usize,
    pub moves: usize,
    pub tasks_created: usize,
    /// Running cost per month of the placement now, and after the plan's moves.
    pub monthly_now: f64,
    pub monthly_after: f64,
    pub monthly_now_by_tier: Vec<(String, f64)>,
    /// What the same objects would cost on the fastest tier alone (no tiering), $/month.
    #[serde(default)]
    pub monthly_all_fast: f64,
    pub monthly_after_by_tier: Vec<(String, f64)>,
    /// The slow reads of a month at `sla.miss_cost`, now and after the plan's moves: what the
    /// plan trades the bill against.
    #[serde(default)]
    pub sla_monthly_now: f64,
    #[serde(default)]
    pub sla_monthly_after: f64,
    /// What the plan minimises, in $ over each object's planning horizon: the running bill and
    /// the slow reads at `sla.miss_cost` with every object staying (`now`), and on its planned
    /// tier with the moves' one-time costs (`after`). The monthly figures above need not order
    /// the same way: a horizon is not a month (an object due to cool pays its move back later).
    #[serde(default)]
    pub objective_now: f64,
    #[serde(default)]
    pub objective_after: f64,
    /// One-time cost of the planned moves.
    pub migration_cost: f64,
    pub hot_objects: usize,
    /// Bytes of the hot objects.
    #[serde(default)]
    pub hot_bytes: u64,
    /// Bytes per tier once the plan's moves are done.
    #[serde(default)]
    pub bytes_after_by_tier: Vec<(String, u64)>,
    /// Hot objects per tier where they are now (before the plan's moves).
    #[serde(default)]
    pub hot_by_tier: Vec<(String, usize)>,
    /// Hot objects on a tier slower than the SLA now, and after the plan.
    #[serde(default)]
    pub sla_violations_now: usize,
    pub sla_violations_after: usize,
    /// The forecast reads of a month, and those served slower than the SLA now and after the
    /// plan's moves: the SLA in the planner's own unit (a read), where `sla_violations_*` count
    /// objects predicted hot whatever their size and reads.
    #[serde(default)]
    pub reads_month: f64,
    #[serde(default)]
    pub slow_reads_month_now: f64,
    #[serde(default)]
    pub slow_reads_month_after: f64,
    pub solve_secs: f64,
    pub total_secs: f64,
    /// Tier names whose capacity binds, and "budget_bytes"/"budget_count" when the budget does.
    pub binding: Vec<String>,
    pub serving: String,
    /// The expected remaining life the plan priced storage with, hours (None: no deletion seen,
    /// so no end in sight). Explanations reuse it: recomputing it reads every object.
    #[serde(default)]
    pub life_hours: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Solve(#[from] SolveError),
}

/// A placed object as read from the store, before it is priced.
struct Loaded {
    current: usize,
    fixed: bool,
    pinned: bool,
    heading: Option<usize>,
    moved_at: Option<Millis>,
    row: StatsRow,
}

/// Every placed object with its stats, p_hot and whether it may move, at `now`.
pub fn load_objects(
    conn: &Connection,
    cfg: &Config,
    model: &Model,
    now: Millis,
) -> Result<Vec<PlanObject>, StoreError> {
    let idx = |name: &str| cfg.tiers.iter().position(|t| t.name == name);
    let residency_ms = (cfg.optimizer.min_residency_secs * 1000) as Millis;
    let busy = task::unfinished(conn)?;
    let mut keys = Vec::new();
    let mut rows: Vec<Loaded> = Vec::new();
    objects::for_each_placed(conn, |o| {
        let Some(current) = idx(&o.tier) else { return };
        let recently = o.moved_at.is_some_and(|m| now - m < residency_ms);
        let heading = busy.get(&o.key).and_then(|dst| idx(dst));
        let fixed = o.pinned || recently || busy.contains_key(&o.key);
        rows.push(Loaded {
            current,
            fixed,
            pinned: o.pinned,
            heading,
            moved_at: o.moved_at,
            row: o.stats,
        });
        keys.push(o.key);
    })?;
    let refs: Vec<&StatsRow> = rows.iter().map(|r| &r.row).collect();
    let p = model.p_hot(&refs, now);
    let horizon_h = cfg.optimizer.horizon_days * 24.0;
    Ok(keys
        .into_iter()
        .zip(rows)
        .zip(p)
        .map(|((key, l), p_hot)| {
            let mut o = plan_object(key, &l.row, l.current, p_hot, now);
            o.hard = l.pinned || cfg.sla.is_hard(&o.key);
            o.learned = model.learned().map(|f| Learned::of(f, &l.row, &o.key, now, horizon_h));
            o.fixed = l.fixed;
            o.heading = l.heading;
            if let Some(m) = l.moved_at {
                o.stayed_ms = (now - m).max(0) as f64;
            }
            o
        })
        .collect())
}

/// The prior the learned forecast is measured against: the chance the cost model's hand-shaped
/// forecast gives an object with stats `row` at `t` of a read within `hours` (p_hot left out:
/// it is what the forest says, not the prior's shape).
pub fn prior_p_any(cm: &CostModel, row: &StatsRow, t: Millis, hours: f64) -> f64 {
    cm.prior_p_any(&plan_object(String::new(), row, 0, 0.0, t), hours)
}

/// The planner's view at `now` of an object on tier `current` with stats `row` and `p_hot`
/// (free to move, on its tier since it was first seen; the caller says when not).
pub fn plan_object(key: String, row: &StatsRow, current: usize, p_hot: f64, now: Millis) -> PlanObject {
    let [c1h, c1d, c1w] = recent(row, now);
    // Each decayed count is a rate over its own time scale (hour, day, week); beyond the week
    // the forecast fades the accesses so far with the object's age (`CostModel::expected_reads`).
    // An earlier version took the week's rate for the whole year: one read of a rarely read
    // object then promised 52 a year, a quiet week promised none, and replay showed objects
    // moved down and back up again and again.
    let age_ms = row.first_seen.map_or(0.0, |f| (now - f).max(0) as f64);
    let age_hours = age_ms / 3_600_000.0;
    let accesses = (row.reads + row.writes) as f64;
    PlanObject {
        key,
        size: row.size,
        current,
        p_hot,
        rate_recent: c1h,
        rate_day: c1d / 24.0,
        rate_week: c1w / 168.0,
        accesses,
        age_hours,
        rate_long: accesses / (age_hours.max(1.0) + 168.0),
        stayed_ms: age_ms,
        fixed: false,
        heading: None,
        hard: false,
        learned: None,
    }
}

/// A plan: the tier chosen for each object (index into `objs`), and its summary.
pub struct Plan {
    pub moves: Vec<(usize, usize)>,
    pub summary: PlanSummary,
    /// What the candidates cost over the horizon where the plan puts them (the solver's
    /// objective), and the lower bound on it the solver proved, when it proved one.
    pub objective: f64,
    pub bound: Option<f64>,
}

/// The MILP for `objs`: which objects are candidates (indices) and the problem over them; the rest
/// stay where they are, their bytes taken off the capacity.
pub fn problem(objs: &[PlanObject], cm: &CostModel, cfg: &Config) -> (Vec<usize>, Problem) {
    let n_t = cm.tiers.len();
    let (mut candidate, mut fixed_load) = candidates(objs, cm);
    let mut cands: Vec<usize> = (0..objs.len()).filter(|i| candidate[*i]).collect();
    // At most `migration_budget_count` objects can move this cycle: the MILP gets the ones that
    // must move (SLA, capacity) and the best of the rest by savings, up to twice the budget;
    // the others stay put this cycle and compete again in the next.
    let keep = (cfg.optimizer.migration_budget_count as usize)
        .saturating_mul(2)
        .max(1000);
    if cands.len() > keep {
        let mut scored: Vec<(usize, f64, bool)> = cands
            .iter()
            .map(|i| {
                let o = &objs[*i];
                let c = cm.totals(o);
                let must = !c[o.current].1 || fixed_load[o.current] > cm.tiers[o.current].plan_capacity_bytes();
                let best = (0..n_t)
                    .filter(|j| c[*j].1)
                    .map(|j| c[j].0)
                    .fold(f64::INFINITY, f64::min);
                (*i, c[o.current].0 - best, must)
            })
            .collect();
        scored.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.total_cmp(&a.1)));
        for (i, _, must) in scored.iter().skip(keep) {
            if !must {
                candidate[*i] = false;
                fixed_load[objs[*i].current] += objs[*i].size as f64;
            }
        }
        cands = (0..objs.len()).filter(|i| candidate[*i]).collect();
    }
    let items: Vec<Item> = cands
        .iter()
        .map(|i| {
            let o = &objs[*i];
            Item {
                size: o.size as f64,
                current: o.current,
                cost: cm.totals(o).into_iter().map(|(c, ok)| ok.then_some(c)).collect(),
            }
        })
        .collect();
    let problem = Problem {
        capacity: (0..n_t)
            .map(|j| cm.tiers[j].plan_capacity_bytes() - fixed_load[j])
            .collect(),
        items,
        budget_bytes: cfg.optimizer.migration_budget_bytes as f64,
        budget_count: cfg.optimizer.migration_budget_count as f64,
        mip_gap: 0.005,
        relax: false,
    };
    (cands, problem)
}

/// Plans `objs`: candidates enter the MILP, the rest stay where they are with their capacity counted.
pub fn plan(objs: &[PlanObject], cm: &CostModel, cfg: &Config) -> Result<Plan, PlanError> {
    let started = Instant::now();
    let n_t = cm.tiers.len();
    let (cands, problem) = self::problem(objs, cm, cfg);
    let solve_started = Instant::now();
    let sol = if problem.items.is_empty() {
        Solution {
            choice: vec![],
            objective: 0.0,
            overflow: vec![0.0; n_t],
            binding: vec![],
            bound: Some(0.0),
        }
    } else {
        super::solve(&problem)?
    };
    let solve_secs = solve_started.elapsed().as_secs_f64();
    log_capacity_use(cm, &problem, &sol);
    let mut target: Vec<usize> = objs.iter().map(|o| o.current).collect();
    for (k, i) in cands.iter().enumerate() {
        target[*i] = sol.choice[k];
    }
    let mut s = PlanSummary {
        objects: objs.len(),
        candidates: cands.len(),
        solve_secs,
        ..PlanSummary::default()
    };
    let moves = summarise(objs, cm, &target, &mut s);
    s.binding = binding(cm, &problem, &sol);
    s.total_secs = started.elapsed().as_secs_f64();
    Ok(Plan {
        moves,
        summary: s,
        objective: sol.objective,
        bound: sol.bound,
    })
}

/// At DEBUG: each tier's capacity, the room left for the candidates and what the plan put there.
fn log_capacity_use(cm: &CostModel, problem: &Problem, sol: &Solution) {
    if !tracing::enabled!(target: "dim::placement", tracing::Level::DEBUG) {
        return;
    }
    for (j, t) in cm.tiers.iter().enumerate() {
        let used: f64 = problem
            .items
            .iter()
            .zip(&sol.choice)
            .filter(|(_, c)| **c == j)
            .map(|(it, _)| it.size)
            .sum();
        tracing::debug!(target: "dim::placement", tier = %t.name, capacity = t.plan_capacity_bytes(), free_for_candidates = problem.capacity[j], candidates_placed = used, overflow = sol.overflow.get(j).copied().unwrap_or(0.0), "capacity use");
    }
}

/// Fills the summary's costs, reads, hot objects and bytes, now and once each object is on
/// `target`; returns the moves (object index, tier).
fn summarise(objs: &[PlanObject], cm: &CostModel, target: &[usize], s: &mut PlanSummary) -> Vec<(usize, usize)> {
    let n_t = cm.tiers.len();
    // Whether each tier's reads miss the SLA, asked once per tier rather than twice per object.
    let slow: Vec<bool> = cm.tiers.iter().map(|t| cm.sla.slow(t)).collect();
    let mut now_by = vec![0.0; n_t];
    let mut after_by = vec![0.0; n_t];
    let mut moves = Vec::new();
    let mut hot_by = vec![0usize; n_t];
    let mut bytes_after = vec![0u64; n_t];
    for (i, o) in objs.iter().enumerate() {
        let f = cm.forecast(o);
        now_by[o.current] += cm.monthly(o, o.current, &f);
        s.monthly_all_fast += cm.monthly(o, 0, &f);
        after_by[target[i]] += cm.monthly(o, target[i], &f);
        s.sla_monthly_now += cm.monthly_sla(o.current, &f);
        s.sla_monthly_after += cm.monthly_sla(target[i], &f);
        let stay = cm.priced(o, o.current, &f).total;
        s.objective_now += stay;
        s.reads_month += f.month_gets();
        if slow[o.current] {
            s.slow_reads_month_now += f.month_gets();
        }
        if slow[target[i]] {
            s.slow_reads_month_after += f.month_gets();
        }
        bytes_after[o.heading.unwrap_or(target[i])] += o.size;
        let hot = cm.is_hot(o);
        s.hot_objects += usize::from(hot);
        hot_by[o.current] += usize::from(hot);
        if hot {
            s.hot_bytes += o.size;
        }
        if hot && cm.tiers[o.current].latency_ms > cm.sla.latency_ms {
            s.sla_violations_now += 1;
        }
        if hot && cm.tiers[target[i]].latency_ms > cm.sla.latency_ms {
            s.sla_violations_after += 1;
        }
        if target[i] == o.current {
            s.objective_after += stay;
        } else {
            let go = cm.priced(o, target[i], &f);
            s.objective_after += go.total;
            s.migration_cost += go.one_time();
            moves.push((i, target[i]));
        }
    }
    s.moves = moves.len();
    s.monthly_now = now_by.iter().sum();
    s.monthly_after = after_by.iter().sum();
    s.monthly_now_by_tier = cm.tiers.iter().map(|t| t.name.clone()).zip(now_by).collect();
    s.monthly_after_by_tier = cm.tiers.iter().map(|t| t.name.clone()).zip(after_by).collect();
    s.hot_by_tier = cm.tiers.iter().map(|t| t.name.clone()).zip(hot_by).collect();
    s.bytes_after_by_tier = cm.tiers.iter().map(|t| t.name.clone()).zip(bytes_after).collect();
    moves
}

/// The constraints that bound the plan, capacity named by tier.
fn binding(cm: &CostModel, problem: &Problem, sol: &Solution) -> Vec<String> {
    let mut binding: Vec<String> = sol
        .binding
        .iter()
        .map(|b| {
            match b
                .strip_prefix("capacity[")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(j) => format!("capacity:{}", cm.tiers[j].name),
                None => b.clone(),
            }
        })
        .collect();
    // Objects that cannot move this cycle (pinned, moved recently, in flight) already fill a
    // tier beyond its capacity: no plan can fit it this cycle; say so.
    for (j, free) in problem.capacity.iter().enumerate() {
        let name = format!("capacity:{}", cm.tiers[j].name);
        if *free < 0.0 && !binding.contains(&name) {
            binding.push(name);
        }
    }
    binding
}

/// One planning cycle against the store: plan, queue the moves as pending tasks (the pointer
/// does not move here: only the migrator's verified switch moves it), and persist the summary.
/// Objects are read and the MILP solved on a read-only connection, so ingest keeps the writer;
/// the writer is held only for the short transaction that queues the tasks.
pub fn run(store: &Store, cfg: &Config, model: &Model, now: Millis) -> Result<PlanSummary, PlanError> {
    let started = Instant::now();
    let (objs, Plan { moves, mut summary, .. }) = plan_store(store, cfg, model, now)?;
    let planned: Vec<PlannedMove<'_>> = moves
        .iter()
        .map(|(i, to)| PlannedMove {
            key: &objs[*i].key,
            from: &cfg.tiers[objs[*i].current].name,
            to: &cfg.tiers[*to].name,
        })
        .collect();
    task::queue_plan(&mut store.writer(), &planned, wall_now_ms(), |created| {
        summary.tasks_created = created as usize;
        summary.total_secs = started.elapsed().as_secs_f64();
        serde_json::to_string(&summary).unwrap_or_default()
    })?;
    Ok(summary)
}

/// The planning half of a cycle, on a read-only connection: every placed object loaded and
/// scored, priced with the lifetimes the store saw, and planned; nothing queued.
pub fn plan_store(
    store: &Store,
    cfg: &Config,
    model: &Model,
    now: Millis,
) -> Result<(Vec<PlanObject>, Plan), PlanError> {
    let reader = store.reader()?;
    let objs = load_objects(&reader, cfg, model, now)?;
    let mut cm = CostModel::new(cfg);
    cm.life_hours = super::cost::life_hours_of(&reader, now)?;
    let mut plan = plan(&objs, &cm, cfg)?;
    plan.summary.at = now;
    plan.summary.serving = model.info.serving.clone();
    plan.summary.life_hours = cm.life_hours.is_finite().then_some(cm.life_hours);
    Ok((objs, plan))
}

/// The last plan's summary, if any.
pub fn last(conn: &Connection) -> Result<Option<PlanSummary>, StoreError> {
    Ok(get_setting(conn, PLAN_LAST)?.and_then(|s| serde_json::from_str(&s).ok()))
}
