//! Trace replay and policy comparison (issue 8). So far: reading real access traces and the cost meter.

pub mod meter;
pub mod trace;
