//! `dim` with no command: the engine under the dashboard, or headless with `--daemon`.

use std::process::ExitCode;
use std::time::Duration;

use super::exit::exit_code;
use crate::cli::{Cli, LogFormat};
use crate::config::{self, Config};
use crate::{logging, tui};

/// Picks the scenario (the dashboard plays the demo unless told otherwise; the daemon plays
/// only what it is given), then runs the dashboard or the daemon until it ends.
pub fn run(cli: &Cli, cfg: Config, duration: Option<Duration>) -> ExitCode {
    // The demo drives the embedded workload, so with Kafka it only plays when asked for.
    let embedded = cfg.events.source == config::SourceKind::Embedded;
    let spec = match (&cli.scenario, cli.daemon || cli.no_scenario || !embedded) {
        (Some(s), _) => Some(s.as_str()),
        (None, false) => Some("demo"),
        (None, true) => None,
    };
    let (scenario, cfg) = match spec.map(|s| super::scenario::load(s, &cfg)).transpose() {
        Ok(Some((sc, c))) => (Some(sc), c),
        Ok(None) => (None, cfg),
        Err(e) => {
            eprintln!("error: invalid scenario\n{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return exit_code(Err(e.into())),
    };
    let code = if cli.daemon {
        logging::to_stdout(cli.log_format);
        daemon(&rt, cfg, cli, duration, scenario)
    } else {
        match tui::themes(cli.theme.as_deref().unwrap_or(&cfg.ui.theme)) {
            Err(e) => {
                eprintln!("error: invalid theme\n{e}");
                return ExitCode::from(2);
            }
            Ok(_) if !tui::has_terminal() => {
                eprintln!("error: {}", tui::NO_TERMINAL);
                ExitCode::FAILURE
            }
            Ok(themes) => exit_code(
                logging::to_tui(&cli.data_dir)
                    .and_then(|()| super::dashboard::run(&rt, cfg, &cli.data_dir, duration, themes, scenario)),
            ),
        }
    };
    // The last batch is committed by now. Do not wait for a training or planning run still on a
    // blocking thread: each writes in one transaction, so dropping it is safe.
    rt.shutdown_timeout(Duration::from_millis(200));
    code
}

/// The daemon until it ends; a scenario's report is printed (JSON with `--log-format json`),
/// and a failed expectation fails the run.
fn daemon(
    rt: &tokio::runtime::Runtime,
    cfg: Config,
    cli: &Cli,
    duration: Option<Duration>,
    scenario: Option<crate::engine::scenario::Scenario>,
) -> ExitCode {
    match rt.block_on(super::daemon::run(cfg, &cli.data_dir, duration, scenario)) {
        Ok(Some(report)) => {
            if cli.log_format == LogFormat::Json {
                println!(
                    "{}",
                    serde_json::json!({ "scenario_report": report, "passed": report.passed() })
                );
            } else {
                println!("{report}");
            }
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => exit_code(Err(e)),
    }
}
