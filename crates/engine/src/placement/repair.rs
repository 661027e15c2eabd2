//! Turning a plan that may break the coupling constraints (tier capacities, the two migration
//! budgets) into one that keeps them, and packing what a solver that stopped within its gap left:
//! the Lagrangian solver's repair, shared by its passes and by its exact polish.

use super::problem::{Problem, SLA_PENALTY};

/// A repair's price of a byte over capacity when capacity can be kept: above any plan's cost.
pub(super) const HARD_PENALTY: f64 = 1.0e15;

/// Sizes are scaled by the largest item (as in the MILP) so multipliers are of the cost's order.
pub(super) struct Scaled<'a> {
    pub(super) p: &'a Problem,
    pub(super) n_t: usize,
    pub(super) size: Vec<f64>,
    pub(super) cap: Vec<f64>,
    pub(super) budget_bytes: f64,
    pub(super) overflow_penalty: f64,
    /// What a repair pays to take a byte off a full tier: the overflow price when the objects'
    /// current tiers already overflow (as HiGHS prices it then), else so high that capacity is
    /// kept whatever it costs (HiGHS keeps it as a hard constraint when it can be kept).
    pub(super) drain_penalty: f64,
    pub(super) unit: f64,
}

impl Scaled<'_> {
    /// Cost of item `i` on tier `j` (None: not allowed there).
    pub(super) fn cost(&self, i: usize, j: usize) -> Option<f64> {
        let it = &self.p.items[i];
        match it.cost[j] {
            Some(c) => Some(c),
            None if j == it.current => Some(SLA_PENALTY),
            None => None,
        }
    }
}

/// A feasible assignment's state: tier per item, bytes per tier, moves used.
pub(super) struct Assign {
    pub(super) tier: Vec<usize>,
    pub(super) used: Vec<f64>,
    pub(super) moved_bytes: f64,
    pub(super) moved_count: f64,
}

impl Assign {
    pub(super) fn new(s: &Scaled, tier: Vec<usize>) -> Self {
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

    pub(super) fn set(&mut self, s: &Scaled, i: usize, to: usize) {
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

    pub(super) fn objective(&self, s: &Scaled) -> f64 {
        let cost: f64 = self
            .tier
            .iter()
            .enumerate()
            .map(|(i, &j)| s.cost(i, j).unwrap_or(SLA_PENALTY))
            .sum();
        cost + self.overflow(s).iter().sum::<f64>() * s.overflow_penalty
    }

    pub(super) fn overflow(&self, s: &Scaled) -> Vec<f64> {
        (0..s.n_t).map(|j| (self.used[j] - s.cap[j]).max(0.0)).collect()
    }
}

/// Turns a choice that may break the coupling constraints into one that keeps them (capacity
/// only where it can: what cannot fit stays as priced overflow), then spends what budget and room
/// are left on the moves that save most per byte.
pub(super) fn repair(s: &Scaled, tier: Vec<usize>, lam: &[f64]) -> Assign {
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
pub(super) fn drain(s: &Scaled, a: &mut Assign) {
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
            // One move undone for one made: the count budget is unchanged, the bytes budget gains
            // what `out` used.
            let freed = s.budget_bytes - a.moved_bytes + s.size[out];
            if a.used[back] + s.size[out] > s.cap[back] + tol && back != j {
                continue;
            }
            let load =
                a.used[j] - if from == j { s.size[out] } else { 0.0 } + if back == j { s.size[out] } else { 0.0 };
            let k = stay.partition_point(|&b| s.size[b] <= freed);
            // The largest that fits, unless a smaller one already clears the overflow.
            let need = load - s.cap[j];
            let clear = stay[..k].partition_point(|&b| s.size[b] < need);
            // `out` has left its tier and `b` has not, so they are never the same object.
            let Some(&b) = stay.get(clear).filter(|_| clear < k).or(stay[..k].last()) else {
                continue;
            };
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
