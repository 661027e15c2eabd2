//! dim (Data-in-Motion): intelligent data tiering across object stores. The binary is a thin shell over this library.

pub mod bench;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod engine;
pub mod explain;
pub mod format;
pub mod logging;
pub mod metrics;
pub mod pin;
pub mod replay;
pub mod scenario_cmd;
pub mod seed;
pub mod simulate;
pub mod status;
pub mod tui;
