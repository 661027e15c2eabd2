//! One module per `dim` command; `run` picks the command's module and turns its outcome into
//! the exit code.

pub mod attach;
pub mod bench;
pub mod catalog;
pub mod ctl;
pub mod daemon;
pub mod dashboard;
pub mod engine;
mod exit;
pub mod explain;
pub mod ls;
pub mod pin;
pub mod replay;
pub mod scenario;
pub mod seed;
pub mod simulate;
pub mod status;

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{Cli, Cmd};
use crate::{config, logging, pipe, tui};
use exit::exit_code;

/// Runs the command `cli` names (none: the dashboard, or the daemon with `--daemon`).
pub fn run(cli: Cli) -> ExitCode {
    if prints_only(cli.command.as_ref()) {
        pipe::end_quietly_on_closed_pipe();
    }
    let mut cfg = match config::load_with(cli.config.as_deref(), tui::CONFIG_CHECKS) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: invalid configuration\n{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(listen) = &cli.metrics_listen {
        cfg.metrics.listen = if listen == "off" { String::new() } else { listen.clone() };
    }
    let duration = cli.duration.map(Duration::from_secs);
    let command = match cli.command {
        None => return engine::run(&cli, cfg, duration),
        Some(c) => c,
    };
    let data_dir = cli.data_dir.as_path();
    // Everything but the dashboards logs to stderr, so stdout holds only what the command prints.
    if !matches!(command, Cmd::Catalog { .. } | Cmd::Attach { .. } | Cmd::Ctl { .. }) {
        logging::to_stderr();
    }
    let result = match command {
        Cmd::Scenario { action } => scenario::run(action, &cfg),
        Cmd::Catalog { json } => catalog::run(&cfg, json),
        Cmd::Status { json } => status::run(&cfg, data_dir, json),
        Cmd::Ls {
            tier,
            sort,
            limit,
            json,
        } => ls::run(&cfg, data_dir, tier.as_deref(), sort, limit, json),
        Cmd::Explain { key, json } => explain::run(&cfg, data_dir, &key, json),
        Cmd::Attach { at } => return attach::run(cfg, data_dir, at, cli.theme.as_deref(), duration),
        Cmd::Ctl { at, cmd } => return ctl::main(&cfg, data_dir, at, &cmd),
        Cmd::Pin { key, unpin } => pin::run(&cfg, data_dir, &key, !unpin),
        Cmd::Bench { target } => bench::run(cfg, target),
        Cmd::Replay(args) => {
            if let Some(c) = args.sla_miss_cost {
                cfg.sla.miss_cost = c;
            }
            replay::run(&cfg, args)
        }
        Cmd::Simulate {
            events,
            rate,
            skew,
            seed,
            brokers,
            topic,
        } => {
            let opts = simulate::Options {
                events,
                rate,
                skew,
                seed,
                brokers: brokers.unwrap_or_else(|| cfg.events.brokers.clone()),
                topic: topic.unwrap_or_else(|| cfg.events.topic.clone()),
            };
            simulate::run(&cfg, data_dir, opts)
        }
        Cmd::Seed {
            objects,
            total_size,
            tier,
        } => seed::run(&cfg, data_dir, objects, total_size, tier.as_deref()),
    };
    exit_code(result)
}

/// Commands that only print, which end quietly when their reader goes away (`| head`).
fn prints_only(command: Option<&Cmd>) -> bool {
    matches!(
        command,
        Some(
            Cmd::Scenario { .. }
                | Cmd::Catalog { .. }
                | Cmd::Status { .. }
                | Cmd::Ls { .. }
                | Cmd::Explain { .. }
                | Cmd::Replay(_)
        )
    )
}
