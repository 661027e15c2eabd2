//! dim (Data-in-Motion): intelligent data tiering across object stores. The binary is a thin shell over this library.

// In the crate, not Cargo.toml: a `[lints]` table would reach the integration tests too, where
// `unwrap()` is the assertion and helper modules are private by design.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(unreachable_pub)]

pub use dim_config as config;
pub use dim_control as control;
pub use dim_control::metrics;
pub use dim_engine as engine;
pub use dim_engine::format;
pub use dim_replay as replay;
pub use dim_s3 as s3;
pub use dim_tui as tui;

pub mod bench;
pub mod cli;
pub mod cmd;
pub mod host;
pub mod logging;
pub mod pipe;
pub mod tiers;
