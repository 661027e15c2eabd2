//! The placement problem every solver reads and the solution every solver returns: objects with a
//! price per tier, capacities and a migration budget; the penalties that make SLA and capacity soft.

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
    /// A lower bound on every plan's cost that the solver proved on the way (the Lagrangian
    /// dual, the LP relaxation's value), when it has one.
    pub bound: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
#[error("placement solve failed: {0}")]
pub struct SolveError(pub String);

impl Problem {
    /// Refuses a problem whose numbers are not numbers (a NaN cost, size or budget), naming the
    /// first: no solver gives a meaningful plan for one, and a NaN in HiGHS's branch and bound
    /// can leave it looping in its node queue. Capacities may be infinite (no limit).
    pub fn check_numbers(&self) -> Result<(), SolveError> {
        if let Some(j) = self.capacity.iter().position(|c| c.is_nan()) {
            return Err(SolveError(format!("tier {j}'s free capacity is not a number")));
        }
        if self.budget_bytes.is_nan() || self.budget_count.is_nan() {
            return Err(SolveError("the migration budget is not a number".into()));
        }
        let bad = |it: &Item| !it.size.is_finite() || it.cost.iter().flatten().any(|c| !c.is_finite());
        match self.items.iter().position(bad) {
            Some(i) => Err(SolveError(format!(
                "candidate {i} has a size or cost that is not a finite number (size {}, cost per tier {:?})",
                self.items[i].size, self.items[i].cost
            ))),
            None => Ok(()),
        }
    }
}

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
