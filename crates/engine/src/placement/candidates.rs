//! Which objects enter the placement MILP: the rest stay where they are, their bytes taken off
//! their tier's capacity.

use super::cost::{CostModel, PlanObject};

/// Which objects enter the MILP, and the bytes each tier keeps from those that do not: the objects
/// cheaper elsewhere or not allowed where they are, and on a tier over capacity with what stays,
/// its residents cheapest to move.
pub(super) fn candidates(objs: &[PlanObject], cm: &CostModel) -> (Vec<bool>, Vec<f64>) {
    let n_t = cm.tiers.len();
    let mut candidate = vec![false; objs.len()];
    let mut fixed_load = vec![0.0f64; n_t];
    for (i, o) in objs.iter().enumerate() {
        if o.fixed {
            fixed_load[o.heading.unwrap_or(o.current)] += o.size as f64;
            continue;
        }
        let costs = cm.totals(o);
        let best = (0..n_t)
            .filter(|j| costs[*j].1)
            .min_by(|a, b| costs[*a].0.total_cmp(&costs[*b].0));
        if best.is_some_and(|b| b != o.current) || !costs[o.current].1 {
            candidate[i] = true;
        } else {
            fixed_load[o.current] += o.size as f64;
        }
    }
    for (j, tier) in cm.tiers.iter().enumerate() {
        let cap = tier.plan_capacity_bytes();
        if fixed_load[j] > cap {
            // Fixed before the residents are let in: letting them in lowers fixed_load, and a
            // target computed from it would stop after 60 % of the excess and leave the tier over
            // capacity.
            let need = (fixed_load[j] - cap) * 1.5;
            fixed_load[j] -= let_residents_compete(objs, cm, j, need, &mut candidate);
        }
    }
    (candidate, fixed_load)
}

/// Makes tier `j`'s residents that are not candidates yet (and free to move) candidates, the
/// cheapest to move elsewhere per byte first, until `need` bytes could leave; returns their bytes.
fn let_residents_compete(objs: &[PlanObject], cm: &CostModel, j: usize, need: f64, candidate: &mut [bool]) -> f64 {
    let n_t = cm.tiers.len();
    let mut on_j: Vec<(usize, f64)> = objs
        .iter()
        .enumerate()
        .filter(|(i, o)| !candidate[*i] && !o.fixed && o.current == j)
        .map(|(i, o)| {
            let c = cm.totals(o);
            let alt = (0..n_t)
                .filter(|k| *k != j)
                .map(|k| c[k])
                .filter(|c| c.1)
                .map(|c| c.0)
                .fold(f64::INFINITY, f64::min);
            (i, (alt - c[j].0) / (o.size.max(1) as f64))
        })
        .collect();
    on_j.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut freed = 0.0;
    for (i, _) in on_j {
        if freed >= need {
            break;
        }
        candidate[i] = true;
        freed += objs[i].size as f64;
    }
    freed
}
