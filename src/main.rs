//! The `dim` binary: parse the command line and hand it to the command's module.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![warn(unreachable_pub)]

use std::process::ExitCode;

use clap::Parser;
use data_in_motion::cli::Cli;
use data_in_motion::cmd;

/// The exit code of a command line dim does not understand (sysexits' EX_USAGE).
const USAGE: u8 = 64;

fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => cmd::run(cli),
        // Usage errors get their own code (sysexits' EX_USAGE), not clap's 2, which `dim ctl`
        // uses for "no engine reachable": a script can tell the two apart.
        Err(e) => {
            let _ = e.print();
            ExitCode::from(if e.use_stderr() { USAGE } else { 0 })
        }
    }
}
