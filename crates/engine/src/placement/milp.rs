//! The placement MILP (good_lp + HiGHS): one binary per (object, allowed tier), least total cost
//! under capacity, latency SLA and a migration budget.

use good_lp::solvers::highs::highs;
use good_lp::{Expression, ProblemVariables, SolverModel, Variable, constraint, variable};

use super::problem::{OVERFLOW_PENALTY_PER_BYTE, Problem, SLA_PENALTY, Solution, SolveError, binding};
use crate::config::UNLIMITED_BYTES;

/// How long one HiGHS solve may take before it stops with the best plan found.
const TIME_LIMIT_SECS: f64 = 120.0;

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

/// HiGHS on `p`, capacity a hard row unless `allow_overflow` lets it overflow at a price.
fn solve_with(p: &Problem, allow_overflow: bool) -> Result<Solution, SolveError> {
    let n_t = p.capacity.len();
    let unit = size_unit(p);
    let overflow_penalty = OVERFLOW_PENALTY_PER_BYTE * unit;
    let mut vars = ProblemVariables::new();
    let (x, overflow) = variables(p, &mut vars, allow_overflow);
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
        .set_threads(1)
        // A bound on a solve that should take seconds: HiGHS then returns the best plan it has
        // (a planning cycle at 10 M objects once spent over 20 minutes in its node queue).
        .set_time_limit(TIME_LIMIT_SECS);
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
        // A tier without a capacity has no row (its capacity is only a number no plan reaches).
        if p.capacity[j] < UNLIMITED_BYTES / 2.0 {
            model.add_constraint(constraint!(c - overflow[j] <= p.capacity[j].max(0.0) / unit));
        }
    }
    model.add_constraint(constraint!(moved_bytes <= p.budget_bytes / unit));
    model.add_constraint(constraint!(moved_count <= p.budget_count));
    let started = std::time::Instant::now();
    let sol = model.solve().map_err(|e| SolveError(e.to_string()))?;
    tracing::debug!(target: "dim::placement", items = p.items.len(), relax = p.relax, secs = started.elapsed().as_secs_f64(), "HiGHS solved");
    if p.relax {
        return Ok(relaxed(p, &x, &overflow, &sol, overflow_penalty));
    }
    Ok(integral(p, &x, &overflow, &sol, unit))
}

/// One variable per item and tier it may take (binary, or in [0, 1] when relaxed), and one
/// overflow per tier (held at 0 unless `allow_overflow`).
fn variables(
    p: &Problem,
    vars: &mut ProblemVariables,
    allow_overflow: bool,
) -> (Vec<Vec<Option<Variable>>>, Vec<Variable>) {
    let n_t = p.capacity.len();
    let x = p
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
    let overflow = (0..n_t)
        .map(|_| {
            vars.add(if allow_overflow {
                variable().min(0.0)
            } else {
                variable().min(0.0).max(0.0)
            })
        })
        .collect();
    (x, overflow)
}

/// The LP relaxation's value (a lower bound on any plan's cost); no choice.
fn relaxed(
    p: &Problem,
    x: &[Vec<Option<Variable>>],
    overflow: &[Variable],
    sol: &impl good_lp::Solution,
    overflow_penalty: f64,
) -> Solution {
    let lp: f64 = p
        .items
        .iter()
        .zip(x)
        .flat_map(|(it, xs)| {
            xs.iter()
                .enumerate()
                .filter_map(move |(j, v)| v.map(|v| it.cost[j].unwrap_or(SLA_PENALTY) * sol.value(v)))
        })
        .sum::<f64>()
        + overflow.iter().map(|o| sol.value(*o).max(0.0)).sum::<f64>() * overflow_penalty;
    Solution {
        choice: vec![],
        objective: lp,
        overflow: vec![],
        binding: vec![],
        bound: Some(lp),
    }
}

/// The plan the integral solution makes: each item on the tier its variables chose, the bytes
/// over capacity and the constraints that bind.
fn integral(
    p: &Problem,
    x: &[Vec<Option<Variable>>],
    overflow: &[Variable],
    sol: &impl good_lp::Solution,
    unit: f64,
) -> Solution {
    let n_t = p.capacity.len();
    let mut choice = Vec::with_capacity(p.items.len());
    let mut objective_value = 0.0;
    let mut used = vec![0.0; n_t];
    let (mut mb, mut mc) = (0.0, 0.0);
    for (it, xs) in p.items.iter().zip(x) {
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
    Solution {
        choice,
        objective: objective_value + over.iter().sum::<f64>() * OVERFLOW_PENALTY_PER_BYTE,
        overflow: over,
        binding,
        bound: None,
    }
}
