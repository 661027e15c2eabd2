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
    pub moves: usize,
    /// The whole planning step: costs, candidate selection, MILP build and solve.
    pub solve_secs: f64,
    /// MILP objective above the LP relaxation's, relative.
    pub gap: f64,
    /// Time of the LP relaxation alone (the bound the gap is measured against; not part of planning).
    pub lp_secs: f64,
    pub binding: Vec<String>,
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

pub fn run(cfg: &Config, n: usize, as_json: bool) -> anyhow::Result<()> {
    let objs = population(n, cfg.tiers.len(), 1);
    let total: f64 = objs.iter().map(|o| o.size as f64).sum();
    let mut c = cfg.clone();
    // Capacities relative to the data: the fast tier holds 40 % of it, so it binds.
    let shares = [0.4, 0.6, 2.0];
    for (j, t) in c.tiers.iter_mut().enumerate() {
        t.capacity_gb = Some(total * shares.get(j).copied().unwrap_or(2.0) / 1e9);
    }
    c.optimizer.migration_budget_bytes = (total * 0.1) as u64;
    c.optimizer.migration_budget_count = (n / 10).max(1) as u64;
    let cm = CostModel::new(&c);
    let started = Instant::now();
    let plan = planner::plan(&objs, &cm, &c).context("planning")?;
    let solve_secs = started.elapsed().as_secs_f64();
    let peak = super::peak_rss_mib();
    // The optimality gap against the LP relaxation of the same candidate problem (not timed).
    let (_, mut problem) = planner::problem(&objs, &cm, &c);
    let milp_obj = placement::solve(&problem).context("solving the MILP")?.objective;
    problem.relax = true;
    let lp_started = Instant::now();
    let lp = placement::solve(&problem)
        .context("solving the LP relaxation")?
        .objective;
    let lp_secs = lp_started.elapsed().as_secs_f64();
    let gap = if lp.abs() > 1e-12 {
        ((milp_obj - lp) / lp.abs()).max(0.0)
    } else {
        0.0
    };
    let r = OptimizeBench {
        objects: n,
        tiers: c.tiers.len(),
        candidates: plan.summary.candidates,
        moves: plan.summary.moves,
        solve_secs,
        gap,
        lp_secs,
        binding: plan.summary.binding,
        peak_rss_mib: peak,
    };
    super::report(&r, as_json, |r| {
        format!(
            "planned {} objects on {} tiers in {:.2} s ({} candidates, {} moves), gap {:.4} %, binding {:?}, peak RSS {:.0} MiB",
            r.objects,
            r.tiers,
            r.solve_secs,
            r.candidates,
            r.moves,
            r.gap * 100.0,
            r.binding,
            r.peak_rss_mib.unwrap_or(f64::NAN)
        )
    })?;
    Ok(())
}
