//! Large placement problems: Lagrangian relaxation of the few constraints that couple objects
//! (one capacity per tier and the two migration budgets). For fixed multipliers each object picks
//! its tier alone, so one pass is O(objects × tiers); subgradient ascent on the multipliers gives a
//! lower bound (the LP relaxation's value at the optimum), and a repair of each pass's choice gives
//! a feasible plan. A basic LP optimum has at most as many split objects as coupling constraints,
//! so the two meet within a tiny gap long before HiGHS's simplex has priced 600,000 columns.

use super::problem::{OVERFLOW_PENALTY_PER_BYTE, Problem, Solution, binding};
use super::repair::{Assign, HARD_PENALTY, Scaled, drain, repair};

/// Most objects have a clear favourite tier at the best multipliers; the few that are nearly
/// indifferent are where the coupling constraints bite. Fixes the clear ones (clearest first, as long
/// as they fit the remaining capacity and budget) and lets HiGHS place the rest exactly.
fn polish(s: &Scaled, m: &(Vec<f64>, f64, f64)) -> Option<Assign> {
    /// Objects HiGHS places: small enough for it to solve in about a second.
    const FREE: usize = 12_000;
    let p = s.p;
    let (lam, beta, kappa) = (&m.0, m.1, m.2);
    let n = p.items.len();
    let mut pref: Vec<(usize, usize, f64)> = (0..n)
        .map(|i| {
            let cur = p.items[i].current;
            let mut r: Vec<(f64, usize)> = (0..s.n_t)
                .filter_map(|j| {
                    s.cost(i, j).map(|c| {
                        let mv = if j != cur { beta * s.size[i] + kappa } else { 0.0 };
                        (c + lam[j] * s.size[i] + mv, j)
                    })
                })
                .collect();
            r.sort_by(|x, y| x.0.total_cmp(&y.0));
            let delta = r.get(1).map_or(f64::INFINITY, |second| second.0 - r[0].0);
            (i, r[0].1, delta)
        })
        .collect();
    pref.sort_by(|x, y| y.2.total_cmp(&x.2));
    let mut room = s.cap.clone();
    let (mut bytes, mut count) = (s.budget_bytes, p.budget_count);
    let mut tier: Vec<usize> = p.items.iter().map(|it| it.current).collect();
    let mut free = Vec::new();
    for (k, &(i, j, _)) in pref.iter().enumerate() {
        let moved = j != p.items[i].current;
        let fits = room[j] >= s.size[i] && (!moved || (bytes >= s.size[i] && count >= 1.0));
        if n - k <= FREE || !fits {
            free.push(i);
            continue;
        }
        room[j] -= s.size[i];
        if moved {
            bytes -= s.size[i];
            count -= 1.0;
        }
        tier[i] = j;
    }
    tracing::debug!(target: "dim::placement", free = free.len(), fixed = n - free.len(), "polish: objects left to HiGHS");
    if free.len() > 4 * FREE {
        return None;
    }
    let sub = Problem {
        // HiGHS keeps capacity only to its feasibility tolerance (seen: a KiB over on a tier of
        // GBs): leave it a millionth of the largest object's size as a margin.
        capacity: room.iter().map(|r| (r - 1e-6).max(0.0) * s.unit).collect(),
        items: free.iter().map(|i| p.items[*i].clone()).collect(),
        budget_bytes: bytes * s.unit,
        budget_count: count,
        mip_gap: p.mip_gap,
        relax: false,
    };
    let started = std::time::Instant::now();
    let sol = super::milp::solve_exact(&sub).ok()?;
    tracing::debug!(target: "dim::placement", secs = started.elapsed().as_secs_f64(), objective = sol.objective, "polish: HiGHS solved");
    for (k, i) in free.iter().enumerate() {
        tier[*i] = sol.choice[k];
    }
    let mut a = Assign::new(s, tier);
    // HiGHS stops within its gap, which can leave budget that would still take bytes off a full
    // tier.
    drain(s, &mut a);
    Some(a)
}

/// Solves `p` (never relaxed) to within `p.mip_gap` of the Lagrangian bound when it can, in at
/// most `MAX_ROUNDS` passes; the bound reached is returned with the plan.
pub fn solve(p: &Problem) -> (Solution, f64) {
    const MAX_ROUNDS: usize = 400;
    let n_t = p.capacity.len();
    let s = scaled(p);
    // Multipliers: capacity per tier (at most the overflow price), bytes budget, count budget.
    let mut lam = vec![0.0; n_t];
    let (mut beta, mut kappa) = (0.0f64, 0.0f64);
    let mut best: Option<Assign> = None;
    let mut best_obj = f64::INFINITY;
    let mut bound = f64::NEG_INFINITY;
    let mut theta = 1.0;
    let mut stale = 0;
    let mut pick = vec![0usize; p.items.len()];
    let mut best_m = (lam.clone(), beta, kappa);
    let mut rounds = 0;
    for round in 0..MAX_ROUNDS {
        rounds = round + 1;
        let (mut dual, load, mb, mc) = cheapest_given(&s, &lam, beta, kappa, &mut pick);
        dual -= (0..n_t).map(|j| lam[j] * s.cap[j]).sum::<f64>() + beta * s.budget_bytes + kappa * p.budget_count;
        if bound == f64::NEG_INFINITY || dual > bound + 1e-12 * bound.abs() {
            bound = dual;
            best_m = (lam.clone(), beta, kappa);
            stale = 0;
        } else {
            stale += 1;
            if stale >= 8 {
                theta *= 0.5;
                stale = 0;
            }
        }
        if round % 5 == 0 || round + 1 == MAX_ROUNDS {
            let a = repair(&s, pick.clone(), &lam);
            let obj = a.objective(&s);
            if obj < best_obj {
                best_obj = obj;
                best = Some(a);
            }
        }
        let gap = (best_obj - bound) / bound.abs().max(1e-12);
        if gap <= p.mip_gap || theta < 1e-6 {
            break;
        }
        // Subgradient of the dual, projected on the multipliers' bounds.
        let g: Vec<f64> = (0..n_t)
            .map(|j| load[j] - s.cap[j])
            .chain([mb - s.budget_bytes, mc - p.budget_count])
            .collect();
        let norm = projected_norm(&g, &lam, beta, kappa);
        if norm <= 1e-18 {
            break;
        }
        let step = theta * (best_obj - dual).max(1e-12 * best_obj.abs()) / norm;
        for j in 0..n_t {
            lam[j] = (lam[j] + step * g[j]).clamp(0.0, s.overflow_penalty);
        }
        beta = (beta + step * g[n_t]).max(0.0);
        kappa = (kappa + step * g[n_t + 1]).max(0.0);
    }
    let mut a = best.unwrap_or_else(|| repair(&s, p.items.iter().map(|it| it.current).collect(), &lam));
    tracing::debug!(target: "dim::placement", items = p.items.len(), rounds, bound, repaired = a.objective(&s), "lagrangian ascent");
    // Overflow is priced far above any storage, so a plan within the gap can still leave bytes
    // over a tier that a better-packed choice would fit: a greedy repair cannot pack a
    // knapsack, the exact solver on the undecided objects can.
    let overflows = a.overflow(&s).iter().any(|o| *o > 0.0);
    if ((a.objective(&s) - bound) / bound.abs().max(1e-12) > p.mip_gap || overflows)
        && let Some(b) = polish(&s, &best_m)
        && b.objective(&s) < a.objective(&s)
    {
        a = b;
    }
    (solution_of(&s, a, bound), bound)
}

/// `p` with sizes, capacities and the bytes budget in units of its largest item; capacity is
/// drained at any price when the objects' current tiers hold them, else at the overflow price.
fn scaled(p: &Problem) -> Scaled<'_> {
    let n_t = p.capacity.len();
    let unit = p.items.iter().map(|it| it.size).fold(1.0, f64::max);
    let size: Vec<f64> = p.items.iter().map(|it| it.size / unit).collect();
    let cap: Vec<f64> = p.capacity.iter().map(|c| c.max(0.0) / unit).collect();
    let mut now = vec![0.0; n_t];
    for (it, sz) in p.items.iter().zip(&size) {
        now[it.current] += sz;
    }
    let fits_now = now.iter().zip(&cap).all(|(u, c)| *u <= c + 1e-9);
    let overflow_penalty = OVERFLOW_PENALTY_PER_BYTE * unit;
    Scaled {
        p,
        n_t,
        size,
        cap,
        budget_bytes: p.budget_bytes.max(0.0) / unit,
        overflow_penalty,
        drain_penalty: if fits_now { HARD_PENALTY } else { overflow_penalty },
        unit,
    }
}

/// Each item's cheapest tier given the multipliers (capacity `lam`, bytes `beta`, count `kappa`),
/// into `pick`; returns the Lagrangian's value before the multipliers' constant terms, the load per
/// tier, and the bytes and count moved.
fn cheapest_given(s: &Scaled, lam: &[f64], beta: f64, kappa: f64, pick: &mut [usize]) -> (f64, Vec<f64>, f64, f64) {
    let p = s.p;
    let n_t = s.n_t;
    let mut dual = 0.0;
    let mut load = vec![0.0; n_t];
    let (mut mb, mut mc) = (0.0, 0.0);
    for (i, it) in p.items.iter().enumerate() {
        let mut b = (f64::INFINITY, it.current);
        for (j, l) in lam.iter().enumerate() {
            if let Some(c) = s.cost(i, j) {
                let moved = j != it.current;
                let r = c + l * s.size[i] + if moved { beta * s.size[i] + kappa } else { 0.0 };
                if r < b.0 {
                    b = (r, j);
                }
            }
        }
        dual += b.0;
        pick[i] = b.1;
        load[b.1] += s.size[i];
        if b.1 != it.current {
            mb += s.size[i];
            mc += 1.0;
        }
    }
    (dual, load, mb, mc)
}

/// The plan `a` is, in bytes: its choices, objective, overflow and binding constraints, with the
/// dual bound reached.
fn solution_of(s: &Scaled, a: Assign, bound: f64) -> Solution {
    let over: Vec<f64> = a.overflow(s).iter().map(|o| o * s.unit).collect();
    let used: Vec<f64> = a.used.iter().map(|u| u * s.unit).collect();
    let binding = binding(s.p, &used, &over, a.moved_bytes * s.unit, a.moved_count);
    let objective = a.objective(s);
    Solution {
        choice: a.tier,
        objective,
        overflow: over,
        binding,
        bound: bound.is_finite().then_some(bound),
    }
}

/// The squared norm of the subgradient `g` (capacity per tier, then bytes, then count) once
/// projected on the multipliers' bounds: a component that would push a multiplier at zero below
/// it does not count.
fn projected_norm(g: &[f64], lam: &[f64], beta: f64, kappa: f64) -> f64 {
    let n_t = lam.len();
    g.iter()
        .enumerate()
        .map(|(k, v)| {
            let m = if k < n_t {
                lam[k]
            } else if k == n_t {
                beta
            } else {
                kappa
            };
            if m <= 0.0 && *v < 0.0 { 0.0 } else { v * v }
        })
        .sum()
}
