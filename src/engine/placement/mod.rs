//! Placement: price every object on every tier, solve the MILP, and turn the plan into migration tasks.

pub mod billing;
pub mod cost;
pub mod explain;
pub mod lagrange;
pub mod milp;
pub mod planner;
mod repair;
pub mod runner;
