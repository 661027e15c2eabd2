//! The control API every engine serves (daemon and dashboard alike): its snapshots, tasks,
//! rejected events and explanations to read, and every `Command` to send, answered accepted or
//! refused. JSON over HTTP on a Unix socket in the data directory, and optionally on TCP with a
//! bearer token. `dim ctl` is its command-line client.

// In the crate, not Cargo.toml: a `[lints]` table would reach the integration tests too, where
// `unwrap()` is the assertion.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(unreachable_pub)]

/// Our crates under the names the modules use (`crate::config::…`, `crate::engine::…`).
use dim_config as config;
use dim_engine as engine;

pub mod client;
pub mod metrics;
mod server;
mod token;

pub use server::{Claim, ControlServer, claim, socket_path, start};
