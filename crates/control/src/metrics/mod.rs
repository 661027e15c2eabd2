//! The HTTP endpoint for operators: `/metrics` (Prometheus/OpenMetrics text), `/healthz` and `/readyz`.
//!
//! Gauges and counters are read from the engine's latest snapshot at scrape time (`collector.rs`);
//! histograms are fed from the durations the engine records (`server.rs`).

mod collector;
mod server;

pub use server::{serve, start};
