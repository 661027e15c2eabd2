//! Trace replay and policy comparison (issue 8). So far: reading real access traces.

pub mod trace;
