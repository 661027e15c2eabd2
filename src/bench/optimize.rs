//! `dim bench optimize`: the planner on N synthetic objects with binding capacity and budget.

use std::time::Instant;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use serde::Serialize;

use crate::config::Config;
use crate::engine::placement;
use crate::engine::placement::cost::{CostModel, PlanObject};
use crate::engine::placement::planner;

#[derive(Debug, Serialize)]
pub struct OptimizeBench {
    pub objects: usize,
    pub tiers: usize,
    pub candidates: usize,
    /// "highs" (exact, up to `placement::LAGRANGE_ABOVE` candidates) or "lagrangian".
    pub solver: &'static str,
    pub moves: usize,
    /// The whole planning step: costs, candidate selection, MILP build and solve.
    pub solve_secs: f64,
    /// What the candidates cost where the plan puts them (the solver's objective).
    pub objective: f64,
    /// The lower bound the solver proved on the way (the Lagrangian dual), when it decomposed.
    pub dual_bound: Option<f64>,
    /// The LP relaxation's value (HiGHS; the tightest bound) and its own time, not part of
    /// planning; none with `--no-bound`.
    pub lp_bound: Option<f64>,
    pub lp_secs: Option<f64>,
    /// The objective above the best bound there is, relative; none without a bound.
    pub gap: Option<f64>,
    pub binding: Vec<String>,
    /// Peak RSS once planned, before the LP relaxation is built.
    pub peak_rss_mib: Option<f64>,
}

/// A population like a real bucket's: log-normal sizes, a hot minority, a mostly idle majority,
/// placed mostly on the first tier; capacities and budget set so that they bind.
pub fn population(n: usize, tiers: usize, seed: u64) -> Vec<PlanObject> {
    let mut rng = StdRng::seed_from_u64(seed);
    let size_dist = match LogNormal::new(((1u64 << 20) as f64).ln(), 2.0) {
        Ok(d) => d,
        Err(_) => unreachable!("LogNormal(ln 1 MiB, 2) is valid"),
    };
    (0..n)
        .map(|i| {
            let size = (size_dist.sample(&mut rng) as u64).clamp(1024, 5 << 30);
            let hot = rng.random::<f64>() < 0.2;
            let p_hot = if hot {
                rng.random_range(0.5..1.0)
            } else {
                rng.random_range(0.0..0.3)
            };
            let rate_recent = if hot {
                rng.random_range(0.5..20.0)
            } else {
                rng.random_range(0.0..0.05)
            };
            let rate_long = if hot {
                rate_recent / 4.0
            } else {
                rng.random_range(0.0..0.01)
            };
            let u = rng.random::<f64>();
            let current = if u < 0.6 {
                0
            } else if u < 0.85 {
                1.min(tiers - 1)
            } else {
                2.min(tiers - 1)
            };
            PlanObject {
                key: format!("obj/{i:08}"),
                size,
                current,
                p_hot,
                rate_recent,
                rate_day: rate_recent,
                rate_week: rate_long,
                rate_long,
                fixed: rng.random::<f64>() < 0.05,
                ..PlanObject::default()
            }
        })
        .collect()
}

/// `cfg` with capacities and budgets relative to `objs`: the fast tier holds 40 % of the bytes,
/// so it binds, and a tenth of the bytes and objects may move.
fn binding_config(cfg: &Config, objs: &[PlanObject]) -> Config {
    let total: f64 = objs.iter().map(|o| o.size as f64).sum();
    let mut c = cfg.clone();
    let shares = [0.4, 0.6, 2.0];
    for (j, t) in c.tiers.iter_mut().enumerate() {
        t.capacity_gb = Some(total * shares.get(j).copied().unwrap_or(2.0) / 1e9);
    }
    c.optimizer.migration_budget_bytes = (total * 0.1) as u64;
    c.optimizer.migration_budget_count = (objs.len() / 10).max(1) as u64;
    c
}

/// Plans `n` objects and, with `with_bound`, solves the LP relaxation of the same candidates
/// (HiGHS) for the bound the plan's gap is measured against.
pub fn run(cfg: &Config, n: usize, with_bound: bool, as_json: bool) -> anyhow::Result<()> {
    let objs = population(n, cfg.tiers.len(), 1);
    let c = binding_config(cfg, &objs);
    let cm = CostModel::new(&c);
    let started = Instant::now();
    let plan = planner::plan(&objs, &cm, &c).context("planning")?;
    let solve_secs = started.elapsed().as_secs_f64();
    let peak = super::peak_rss_mib();
    let (lp_bound, lp_secs) = if with_bound {
        let (_, mut problem) = planner::problem(&objs, &cm, &c);
        problem.relax = true;
        let lp_started = Instant::now();
        let lp = placement::solve(&problem)
            .context("solving the LP relaxation")?
            .objective;
        (Some(lp), Some(lp_started.elapsed().as_secs_f64()))
    } else {
        (None, None)
    };
    let bound = lp_bound.into_iter().chain(plan.bound).reduce(f64::max);
    let gap = bound.map(|b| {
        if b.abs() > 1e-12 {
            ((plan.objective - b) / b.abs()).max(0.0)
        } else {
            0.0
        }
    });
    let r = OptimizeBench {
        objects: n,
        tiers: c.tiers.len(),
        candidates: plan.summary.candidates,
        solver: placement::solver_for(plan.summary.candidates),
        moves: plan.summary.moves,
        solve_secs,
        objective: plan.objective,
        dual_bound: plan.bound,
        lp_bound,
        lp_secs,
        gap,
        binding: plan.summary.binding,
        peak_rss_mib: peak,
    };
    super::report(&r, as_json, human)
}

/// The bench's line for a reader.
fn human(r: &OptimizeBench) -> String {
    let gap = r
        .gap
        .map_or("no bound".to_string(), |g| format!("gap {:.4} %", g * 100.0));
    let lp = r
        .lp_secs
        .map_or(String::new(), |s| format!(" (LP bound in {s:.2} s, not counted)"));
    format!(
        "planned {} objects on {} tiers in {:.2} s ({} candidates, {}, {} moves), {gap}{lp}, binding {:?}, peak RSS {:.0} MiB",
        r.objects,
        r.tiers,
        r.solve_secs,
        r.candidates,
        r.solver,
        r.moves,
        r.binding,
        r.peak_rss_mib.unwrap_or(f64::NAN)
    )
}
