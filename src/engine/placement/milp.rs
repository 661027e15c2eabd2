//! The placement MILP (good_lp + HiGHS): one binary per (object, allowed tier), least total cost
//! under capacity, latency SLA and a migration budget.

use good_lp::solvers::highs::highs;
use good_lp::{Expression, ProblemVariables, Solution as _, SolverModel, Variable, constraint, variable};
use serde::Serialize;

/// Priced far above any real cost: a hot object left on a slow tier, or a byte over capacity,
/// only happens when budget or capacity leave no feasible alternative.
pub const SLA_PENALTY: f64 = 1.0e3;
pub const OVERFLOW_PENALTY_PER_BYTE: f64 = 1.0e-3;

/// One object in the MILP.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub size: f64,
    pub current: usize,
    /// Cost per tier over the horizon; `None` = not allowed there.
    pub cost: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Bytes still free per tier for the items (capacity minus what fixed objects use).
    pub capacity: Vec<f64>,
    pub items: Vec<Item>,
    pub budget_bytes: f64,
    pub budget_count: f64,
    pub mip_gap: f64,
    /// Solve the LP relaxation instead (variables in [0, 1]): a lower bound on the MILP.
    pub relax: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Solution {
    /// Chosen tier per item.
    pub choice: Vec<usize>,
    pub objective: f64,
    /// Bytes over capacity per tier (0 when capacity holds).
    pub overflow: Vec<f64>,
    /// Constraints at (or within 0.1 % of) their bound.
    pub binding: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("placement solve failed: {0}")]
pub struct SolveError(pub String);

/// The constraints a plan using `used` bytes per tier (over capacity by `over`) and moving `mb`
/// bytes in `mc` objects holds at (or within 0.1 % of) their bound.
pub(super) fn binding(p: &Problem, used: &[f64], over: &[f64], mb: f64, mc: f64) -> Vec<String> {
    let near = |a: f64, b: f64| b > 0.0 && a >= b * 0.999;
    let mut binding: Vec<String> = (0..p.capacity.len())
        .filter(|j| near(used[*j], p.capacity[*j]) || over[*j] > 0.5)
        .map(|j| format!("capacity[{j}]"))
        .collect();
    if near(mb, p.budget_bytes) {
        binding.push("budget_bytes".into());
    }
    if near(mc, p.budget_count) {
        binding.push("budget_count".into());
    }
    binding
}

/// Above this many items the MILP goes to the Lagrangian solver (`lagrange.rs`): HiGHS's simplex
/// on hundreds of thousands of binaries takes minutes where the decomposition takes a second.
pub const LAGRANGE_ABOVE: usize = 50_000;

/// Solves the problem with capacity as a hard constraint; only if that is infeasible (a tier
/// already over capacity that the budget cannot drain) again with priced overflow, so a plan
/// always exists and the overflow shows how far capacity is exceeded.
pub fn solve(p: &Problem) -> Result<Solution, SolveError> {
    if !p.relax && p.items.len() > LAGRANGE_ABOVE {
        return Ok(super::lagrange::solve(p).0);
    }
    solve_exact(p)
}

/// HiGHS on the whole problem, whatever its size.
pub fn solve_exact(p: &Problem) -> Result<Solution, SolveError> {
    match solve_with(p, false) {
        Ok(s) => Ok(s),
        Err(_) => solve_with(p, true),
    }
}

/// The unit sizes, capacities and budgets enter the solver in: the largest item's size. In bytes
/// the matrix would span 1 to 1e10 (badly scaled for HiGHS); a fixed unit such as GiB would shrink
/// small instances' coefficients below HiGHS's feasibility tolerance (1e-7) and let it ignore
/// capacity. Relative to the largest item every size is in (0, 1].
fn size_unit(p: &Problem) -> f64 {
    p.items.iter().map(|it| it.size).fold(1.0, f64::max)
}

fn solve_with(p: &Problem, allow_overflow: bool) -> Result<Solution, SolveError> {
    let n_t = p.capacity.len();
    let unit = size_unit(p);
    let overflow_penalty = OVERFLOW_PENALTY_PER_BYTE * unit;
    let mut vars = ProblemVariables::new();
    let x: Vec<Vec<Option<Variable>>> = p
        .items
        .iter()
        .map(|it| {
            (0..n_t)
                .map(|j| {
                    (it.cost[j].is_some() || j == it.current).then(|| {
                        if p.relax {
                            vars.add(variable().min(0.0).max(1.0))
                        } else {
                            vars.add(variable().binary())
                        }
                    })
                })
                .collect()
        })
        .collect();
    let overflow: Vec<Variable> = (0..n_t)
        .map(|_| {
            vars.add(if allow_overflow {
                variable().min(0.0)
            } else {
                variable().min(0.0).max(0.0)
            })
        })
        .collect();
    let mut objective = Expression::with_capacity(p.items.len() * n_t + n_t);
    for (it, xs) in p.items.iter().zip(&x) {
        for (j, v) in xs.iter().enumerate() {
            if let Some(v) = v {
                let c = it.cost[j].unwrap_or(SLA_PENALTY);
                objective.add_mul(c, *v);
            }
        }
    }
    for o in &overflow {
        objective.add_mul(overflow_penalty, *o);
    }
    let mut model = vars.minimise(&objective).using(highs);
    model.set_verbose(false);
    let mut model = model
        .set_mip_rel_gap(p.mip_gap as f32)
        .map_err(|e| SolveError(e.to_string()))?
        .set_threads(1);
    let mut cap: Vec<Expression> = (0..n_t).map(|_| Expression::default()).collect();
    let mut moved_bytes = Expression::default();
    let mut moved_count = Expression::default();
    for (it, xs) in p.items.iter().zip(&x) {
        let mut one = Expression::default();
        for (j, v) in xs.iter().enumerate() {
            if let Some(v) = v {
                one.add_mul(1.0, *v);
                cap[j].add_mul(it.size / unit, *v);
                if j != it.current {
                    moved_bytes.add_mul(it.size / unit, *v);
                    moved_count.add_mul(1.0, *v);
                }
            }
        }
        model.add_constraint(constraint!(one == 1.0));
    }
    for (j, c) in cap.into_iter().enumerate() {
        model.add_constraint(constraint!(c - overflow[j] <= p.capacity[j].max(0.0) / unit));
    }
    model.add_constraint(constraint!(moved_bytes <= p.budget_bytes / unit));
    model.add_constraint(constraint!(moved_count <= p.budget_count));
    let sol = model.solve().map_err(|e| SolveError(e.to_string()))?;
    if p.relax {
        let sol = &sol;
        let lp: f64 = p
            .items
            .iter()
            .zip(&x)
            .flat_map(|(it, xs)| {
                xs.iter()
                    .enumerate()
                    .filter_map(move |(j, v)| v.map(|v| it.cost[j].unwrap_or(SLA_PENALTY) * sol.value(v)))
            })
            .sum::<f64>()
            + overflow.iter().map(|o| sol.value(*o).max(0.0)).sum::<f64>() * overflow_penalty;
        return Ok(Solution {
            choice: vec![],
            objective: lp,
            overflow: vec![],
            binding: vec![],
        });
    }

    let mut choice = Vec::with_capacity(p.items.len());
    let mut objective_value = 0.0;
    let mut used = vec![0.0; n_t];
    let (mut mb, mut mc) = (0.0, 0.0);
    for (it, xs) in p.items.iter().zip(&x) {
        let j = xs
            .iter()
            .enumerate()
            .filter_map(|(j, v)| v.map(|v| (j, sol.value(v))))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(it.current, |(j, _)| j);
        objective_value += it.cost[j].unwrap_or(SLA_PENALTY);
        used[j] += it.size;
        if j != it.current {
            mb += it.size;
            mc += 1.0;
        }
        choice.push(j);
    }
    let over: Vec<f64> = overflow.iter().map(|o| sol.value(*o).max(0.0) * unit).collect();
    let binding = binding(p, &used, &over, mb, mc);
    Ok(Solution {
        choice,
        objective: objective_value + over.iter().sum::<f64>() * OVERFLOW_PENALTY_PER_BYTE,
        overflow: over,
        binding,
    })
}
