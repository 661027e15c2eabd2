//! Placement: price every object on every tier, solve the MILP, and turn the plan into migration tasks.

pub mod billing;
mod candidates;
pub mod cost;
pub mod explain;
mod gap;
pub mod lagrange;
pub mod milp;
pub mod planner;
pub mod problem;
mod repair;
pub mod runner;

pub use problem::{Item, Problem, Solution, SolveError};

/// Above this many items the MILP goes to the Lagrangian solver (`lagrange.rs`): HiGHS's simplex
/// on hundreds of thousands of binaries takes minutes where the decomposition takes a second.
pub const LAGRANGE_ABOVE: usize = 50_000;

/// The solver `solve` gives a problem of `items` candidates: "highs" or "lagrangian".
pub fn solver_for(items: usize) -> &'static str {
    if items > LAGRANGE_ABOVE { "lagrangian" } else { "highs" }
}

/// Solves the placement problem: exactly with HiGHS (`milp.rs`), or by Lagrangian decomposition
/// (`lagrange.rs`) above `LAGRANGE_ABOVE` objects; the LP relaxation always goes to HiGHS.
/// An integral plan never keeps a move that costs more than staying where there is room to stay
/// (`gap.rs`).
pub fn solve(p: &Problem) -> Result<Solution, SolveError> {
    p.check_numbers()?;
    if p.relax {
        return milp::solve_exact(p);
    }
    let mut sol = if solver_for(p.items.len()) == "lagrangian" {
        lagrange::solve(p).0
    } else {
        milp::solve_exact(p)?
    };
    gap::undo_losing_moves(p, &mut sol);
    Ok(sol)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::problem::Item;

    fn problem(cost: f64) -> Problem {
        Problem {
            capacity: vec![f64::INFINITY, 100.0],
            items: vec![
                Item {
                    size: 1.0,
                    current: 0,
                    cost: vec![Some(1.0), Some(2.0)],
                },
                Item {
                    size: 1.0,
                    current: 1,
                    cost: vec![None, Some(cost)],
                },
            ],
            budget_bytes: 10.0,
            budget_count: 10.0,
            mip_gap: 0.005,
            relax: false,
        }
    }

    #[test]
    fn a_cost_that_is_not_a_number_is_refused_before_any_solver_sees_it() {
        assert!(solve(&problem(3.0)).is_ok());
        for bad in [f64::NAN, f64::INFINITY] {
            let e = solve(&problem(bad)).unwrap_err().to_string();
            assert!(e.contains("candidate 1"), "{e}");
        }
    }
}
