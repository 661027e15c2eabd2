//! What a solver that stopped within its gap may leave: moves that cost more than staying put.

use super::problem::{Problem, Solution, binding};

/// Sends back to its current tier every item the solution moves at a higher cost than staying,
/// where that tier has room for it. A solver stopped within `mip_gap` of its bound (HiGHS, the
/// Lagrangian) may return such a move: it is within the gap overall yet raises what the plan
/// minimises, and a user then sees a plan that moves an object to make the bill worse.
pub(super) fn undo_losing_moves(p: &Problem, sol: &mut Solution) {
    let n_t = p.capacity.len();
    let mut used = vec![0.0; n_t];
    for (it, &j) in p.items.iter().zip(&sol.choice) {
        used[j] += it.size;
    }
    let mut undone = 0usize;
    for (it, choice) in p.items.iter().zip(sol.choice.iter_mut()) {
        let (to, back) = (*choice, it.current);
        let (Some(there), Some(here)) = (it.cost[to], it.cost[back]) else {
            continue;
        };
        if to != back && there > here && used[back] + it.size <= p.capacity[back] {
            used[to] -= it.size;
            used[back] += it.size;
            *choice = back;
            sol.objective -= there - here;
            undone += 1;
        }
    }
    if undone > 0 {
        sol.overflow = (0..n_t).map(|j| (used[j] - p.capacity[j]).max(0.0)).collect();
        // Fewer moves may leave a budget that bound no longer binding (and the tiers' fill changed).
        let moved = p.items.iter().zip(&sol.choice).filter(|(it, j)| it.current != **j);
        let (mb, mc) = moved.fold((0.0, 0.0), |(b, c), (it, _)| (b + it.size, c + 1.0));
        sol.binding = binding(p, &used, &sol.overflow, mb, mc);
        tracing::debug!(target: "dim::placement", undone, "moves costlier than staying undone");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::problem::Item;

    fn problem(capacity: Vec<f64>) -> Problem {
        Problem {
            capacity,
            items: vec![
                // Cheaper where it is: a move to tier 1 loses money.
                Item {
                    size: 10.0,
                    current: 0,
                    cost: vec![Some(1.0), Some(2.0)],
                },
                // Cheaper on tier 1: its move pays.
                Item {
                    size: 10.0,
                    current: 0,
                    cost: vec![Some(3.0), Some(2.0)],
                },
            ],
            budget_bytes: 100.0,
            budget_count: 10.0,
            mip_gap: 0.005,
            relax: false,
        }
    }

    fn both_moved() -> Solution {
        Solution {
            choice: vec![1, 1],
            objective: 4.0,
            overflow: vec![0.0, 0.0],
            binding: vec![],
            bound: None,
        }
    }

    #[test]
    fn a_move_that_costs_more_than_staying_is_undone_where_there_is_room() {
        let p = problem(vec![10.0, 100.0]);
        let mut sol = both_moved();
        undo_losing_moves(&p, &mut sol);
        assert_eq!(sol.choice, vec![0, 1]);
        assert!((sol.objective - 3.0).abs() < 1e-12);
        assert_eq!(sol.overflow, vec![0.0, 0.0]);
    }

    #[test]
    fn a_losing_move_stays_when_its_tier_has_no_room_for_it() {
        // Tier 0 has no room: the move is what keeps capacity, whatever it costs.
        let p = problem(vec![5.0, 100.0]);
        let mut sol = both_moved();
        undo_losing_moves(&p, &mut sol);
        assert_eq!(sol.choice, vec![1, 1]);
        assert!((sol.objective - 4.0).abs() < 1e-12);
    }
}
