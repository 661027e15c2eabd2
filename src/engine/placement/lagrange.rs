//! Large placement problems: Lagrangian relaxation of the few constraints that couple objects
//! (one capacity per tier and the two migration budgets). For fixed multipliers each object picks
//! its tier alone, so one pass is O(objects × tiers); subgradient ascent on the multipliers gives a
//! lower bound (the LP relaxation's value at the optimum), and a repair of each pass's choice gives
//! a feasible plan. A basic LP optimum has at most as many split objects as coupling constraints,
//! so the two meet within a tiny gap long before HiGHS's simplex has priced 600,000 columns.

use super::milp::{OVERFLOW_PENALTY_PER_BYTE, Problem, SLA_PENALTY, Solution};

/// A repair's price of a byte over capacity when capacity can be kept: above any plan's cost.
const HARD_PENALTY: f64 = 1.0e15;

/// Sizes are scaled by the largest item (as in the MILP) so multipliers are of the cost's order.
struct Scaled<'a> {
    p: &'a Problem,
    n_t: usize,
    size: Vec<f64>,
    cap: Vec<f64>,
    budget_bytes: f64,
    overflow_penalty: f64,
    /// What a repair pays to take a byte off a full tier: the overflow price when the objects'
    /// current tiers already overflow (as HiGHS prices it then), else so high that capacity is
    /// kept whatever it costs (HiGHS keeps it as a hard constraint when it can be kept).
    drain_penalty: f64,
    unit: f64,
}

impl Scaled<'_> {
    /// Cost of item `i` on tier `j` (None: not allowed there).
    fn cost(&self, i: usize, j: usize) -> Option<f64> {
        let it = &self.p.items[i];
        match it.cost[j] {
            Some(c) => Some(c),
            None if j == it.current => Some(SLA_PENALTY),
            None => None,
        }
    }
}

/// A feasible assignment's state: tier per item, bytes per tier, moves used.
struct Assign {
    tier: Vec<usize>,
    used: Vec<f64>,
    moved_bytes: f64,
    moved_count: f64,
}

impl Assign {
    fn new(s: &Scaled, tier: Vec<usize>) -> Self {
        let mut a = Assign {
            used: vec![0.0; s.n_t],
            moved_bytes: 0.0,
            moved_count: 0.0,
            tier: Vec::new(),
        };
        for (i, &j) in tier.iter().enumerate() {
            a.used[j] += s.size[i];
            if j != s.p.items[i].current {
                a.moved_bytes += s.size[i];
                a.moved_count += 1.0;
            }
        }
        a.tier = tier;
        a
    }

    fn set(&mut self, s: &Scaled, i: usize, to: usize) {
        let from = self.tier[i];
        let cur = s.p.items[i].current;
        self.used[from] -= s.size[i];
        self.used[to] += s.size[i];
        if from != cur {
            self.moved_bytes -= s.size[i];
            self.moved_count -= 1.0;
        }
        if to != cur {
            self.moved_bytes += s.size[i];
            self.moved_count += 1.0;
        }
        self.tier[i] = to;
    }

    fn objective(&self, s: &Scaled) -> f64 {
        let cost: f64 = self
            .tier
            .iter()
            .enumerate()
            .map(|(i, &j)| s.cost(i, j).unwrap_or(SLA_PENALTY))
            .sum();
        cost + self.overflow(s).iter().sum::<f64>() * s.overflow_penalty
    }

    fn overflow(&self, s: &Scaled) -> Vec<f64> {
        (0..s.n_t).map(|j| (self.used[j] - s.cap[j]).max(0.0)).collect()
    }
}

/// Turns a choice that may break the coupling constraints into one that keeps them (capacity
/// only where it can: what cannot fit stays as priced overflow), then spends what budget and room
/// are left on the moves that save most per byte.
fn repair(s: &Scaled, tier: Vec<usize>, lam: &[f64]) -> Assign {
    let p = s.p;
    let mut a = Assign::new(s, tier);
    let tol = 1e-9;
    // Budgets: undo the moves that save least per share of budget they use.
    if a.moved_bytes > s.budget_bytes + tol || a.moved_count > p.budget_count + tol {
        let mut moved: Vec<(usize, f64)> = (0..p.items.len())
            .filter(|&i| a.tier[i] != p.items[i].current)
            .map(|i| {
                // Saving priced with the capacity multipliers: a move off a full tier is worth the
                // room it makes, not only its own cost difference.
                let (cur, to) = (p.items[i].current, a.tier[i]);
                let saving = s.cost(i, cur).unwrap_or(SLA_PENALTY) + lam[cur] * s.size[i]
                    - s.cost(i, to).unwrap_or(SLA_PENALTY)
                    - lam[to] * s.size[i];
                let share = s.size[i] / s.budget_bytes.max(1e-12) + 1.0 / p.budget_count.max(1.0);
                (i, saving / share)
            })
            .collect();
        moved.sort_by(|x, y| x.1.total_cmp(&y.1));
        for (i, _) in moved {
            if a.moved_bytes <= s.budget_bytes + tol && a.moved_count <= p.budget_count + tol {
                break;
            }
            a.set(s, i, p.items[i].current);
        }
    }
    drain(s, &mut a);
    // Leftover room and budget: the remaining moves that save most per byte.
    let mut gains: Vec<(usize, usize, f64)> = (0..p.items.len())
        .filter_map(|i| {
            let here = s.cost(i, a.tier[i]).unwrap_or(SLA_PENALTY);
            (0..s.n_t)
                .filter_map(|l| s.cost(i, l).map(|c| (l, c)))
                .min_by(|x, y| x.1.total_cmp(&y.1))
                .filter(|(l, c)| *l != a.tier[i] && *c < here)
                .map(|(l, c)| (i, l, (here - c) / s.size[i].max(1e-12)))
        })
        .collect();
    gains.sort_by(|x, y| y.2.total_cmp(&x.2));
    for (i, l, _) in gains {
        let cur = p.items[i].current;
        let from = a.tier[i];
        let fits = a.used[l] + s.size[i] <= s.cap[l] + tol;
        let extra_moves = f64::from(u8::from(l != cur)) - f64::from(u8::from(from != cur));
        let extra_bytes = extra_moves * s.size[i];
        let budget_ok =
            a.moved_bytes + extra_bytes <= s.budget_bytes + tol && a.moved_count + extra_moves <= p.budget_count + tol;
        if fits && budget_ok {
            a.set(s, i, l);
        }
    }
    a
}

/// Takes objects off each tier over capacity, the cheapest to displace (per byte) first, each to
/// the cheapest tier that has room and budget for it (its current tier needs no budget), as long
/// as the overflow it removes is worth more than what it costs there (overflow is priced far
/// above any storage, so this also packs the last bytes of budget a solver stopped short of).
fn drain(s: &Scaled, a: &mut Assign) {
    let p = s.p;
    let tol = 1e-9;
    for j in 0..s.n_t {
        if a.used[j] <= s.cap[j] + tol {
            continue;
        }
        let mut on_j: Vec<(usize, f64)> = (0..p.items.len())
            .filter(|&i| a.tier[i] == j)
            .filter_map(|i| {
                let here = s.cost(i, j).unwrap_or(SLA_PENALTY);
                (0..s.n_t)
                    .filter(|&l| l != j)
                    .filter_map(|l| s.cost(i, l))
                    .min_by(f64::total_cmp)
                    .map(|c| (i, (c - here) / s.size[i].max(1e-12)))
            })
            .collect();
        on_j.sort_by(|x, y| x.1.total_cmp(&y.1));
        for (i, _) in on_j {
            let over = a.used[j] - s.cap[j];
            if over <= tol {
                break;
            }
            let cur = p.items[i].current;
            let here = s.cost(i, j).unwrap_or(SLA_PENALTY);
            let worth = s.drain_penalty * s.size[i].min(over);
            let best = (0..s.n_t)
                .filter(|&l| l != j)
                .filter_map(|l| s.cost(i, l).map(|c| (l, c)))
                .filter(|&(l, _)| {
                    a.used[l] + s.size[i] <= s.cap[l] + tol
                        && (l == cur
                            || (a.moved_bytes + s.size[i] <= s.budget_bytes + tol
                                && a.moved_count + 1.0 <= p.budget_count + tol))
                })
                .min_by(|x, y| x.1.total_cmp(&y.1));
            if let Some((l, c)) = best
                && c - here < worth
            {
                a.set(s, i, l);
            }
        }
        swap_fill(s, a, j);
    }
}

/// When a budget is what keeps tier `j` over capacity (what is left of it smaller than any
/// object still on `j`, or no move left), trades a move already made for one that drains `j`:
/// undoes one of the moves cheapest to undo and spends what that frees on the largest object on
/// `j` that fits it, the best trade first, while trades pay.
fn swap_fill(s: &Scaled, a: &mut Assign, j: usize) {
    const ROUNDS: usize = 4096;
    /// Moves tried for undoing each round: the cheapest to undo.
    const UNDO: usize = 64;
    let p = s.p;
    let tol = 1e-9;
    if a.used[j] - s.cap[j] <= tol {
        return;
    }
    let price = |i: usize, l: usize| s.cost(i, l).unwrap_or(SLA_PENALTY);
    let by_size = |x: &usize, y: &usize| s.size[*x].total_cmp(&s.size[*y]);
    let undo_cost = |a: &Assign, i: usize| price(i, p.items[i].current) - price(i, a.tier[i]);
    // Undoing is ranked by what it costs per byte of budget it frees.
    let rank = |a: &Assign, i: usize| undo_cost(a, i) / s.size[i].max(1e-12);
    let mut stay: Vec<usize> = (0..p.items.len())
        .filter(|&i| a.tier[i] == j && p.items[i].current == j)
        .collect();
    stay.sort_by(by_size);
    let mut undo: Vec<(usize, f64)> = (0..p.items.len())
        .filter(|&i| a.tier[i] != p.items[i].current)
        .map(|i| (i, rank(a, i)))
        .collect();
    undo.sort_by(|x, y| x.1.total_cmp(&y.1));
    for _ in 0..ROUNDS {
        let over = a.used[j] - s.cap[j];
        if over <= tol {
            return;
        }
        let mut best: Option<(usize, usize, usize, f64)> = None;
        for &(out, _) in undo.iter().take(UNDO) {
            let cost_out = undo_cost(a, out);
            let (from, back) = (a.tier[out], p.items[out].current);
            let freed = if a.moved_count - 1.0 + 1.0 <= p.budget_count + tol {
                s.budget_bytes - a.moved_bytes + s.size[out]
            } else {
                0.0
            };
            if a.used[back] + s.size[out] > s.cap[back] + tol && back != j {
                continue;
            }
            let load =
                a.used[j] - if from == j { s.size[out] } else { 0.0 } + if back == j { s.size[out] } else { 0.0 };
            let k = stay.partition_point(|&b| s.size[b] <= freed);
            // The largest that fits, unless a smaller one already clears the overflow.
            let need = load - s.cap[j];
            let clear = stay[..k].partition_point(|&b| s.size[b] < need);
            let Some(&b) = stay.get(clear).filter(|_| clear < k).or(stay[..k].last()) else {
                continue;
            };
            if b == out {
                continue;
            }
            let Some((l, c)) = (0..s.n_t)
                .filter(|&l| l != j)
                .filter_map(|l| s.cost(b, l).map(|c| (l, c)))
                .filter(|&(l, _)| {
                    let room = a.used[l] - if from == l { s.size[out] } else { 0.0 }
                        + if back == l { s.size[out] } else { 0.0 };
                    room + s.size[b] <= s.cap[l] + tol
                })
                .min_by(|x, y| x.1.total_cmp(&y.1))
            else {
                continue;
            };
            let after = (load - s.size[b] - s.cap[j]).max(0.0);
            let gain = s.drain_penalty * (over - after) - cost_out - (c - price(b, j));
            if gain > 0.0 && best.is_none_or(|x| gain > x.3) {
                best = Some((out, b, l, gain));
            }
        }
        let Some((out, b, l, _)) = best else { return };
        a.set(s, out, p.items[out].current);
        a.set(s, b, l);
        undo.retain(|x| x.0 != out);
        let at = undo.partition_point(|x| x.1 <= rank(a, b));
        undo.insert(at, (b, rank(a, b)));
        stay.retain(|x| *x != b);
        if p.items[out].current == j {
            let at = stay.partition_point(|x| s.size[*x] <= s.size[out]);
            stay.insert(at, out);
        }
    }
}

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
    let sol = super::milp::solve_exact(&sub).ok()?;
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
    let unit = p.items.iter().map(|it| it.size).fold(1.0, f64::max);
    let size: Vec<f64> = p.items.iter().map(|it| it.size / unit).collect();
    let cap: Vec<f64> = p.capacity.iter().map(|c| c.max(0.0) / unit).collect();
    let mut now = vec![0.0; n_t];
    for (it, sz) in p.items.iter().zip(&size) {
        now[it.current] += sz;
    }
    let fits_now = now.iter().zip(&cap).all(|(u, c)| *u <= c + 1e-9);
    let overflow_penalty = OVERFLOW_PENALTY_PER_BYTE * unit;
    let s = Scaled {
        p,
        n_t,
        size,
        cap,
        budget_bytes: p.budget_bytes.max(0.0) / unit,
        overflow_penalty,
        drain_penalty: if fits_now { HARD_PENALTY } else { overflow_penalty },
        unit,
    };
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
    for round in 0..MAX_ROUNDS {
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
        let norm: f64 = g
            .iter()
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
            .sum();
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
    let over: Vec<f64> = a.overflow(&s).iter().map(|o| o * unit).collect();
    let used: Vec<f64> = a.used.iter().map(|u| u * unit).collect();
    let binding = super::milp::binding(p, &used, &over, a.moved_bytes * unit, a.moved_count);
    let objective = a.objective(&s);
    (
        Solution {
            choice: a.tier,
            objective,
            overflow: over,
            binding,
        },
        bound,
    )
}
