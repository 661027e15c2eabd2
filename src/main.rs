//! The `dim` binary: parse the command line, pick the mode, nothing else.

#![deny(clippy::unwrap_used, clippy::expect_used)]
#![warn(unreachable_pub)]

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use data_in_motion::cli::{self, BenchTarget, Cli, Cmd, LogFormat, ScenarioAction};
use data_in_motion::config::Backend;
use data_in_motion::{
    bench, catalog, config, ctl, daemon, explain, logging, ls, pin, pipe, replay, scenario_cmd, seed, simulate, status,
    tui,
};

/// The exit code of a command line dim does not understand (sysexits' EX_USAGE).
const USAGE: u8 = 64;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors get their own code (sysexits' EX_USAGE), not clap's 2, which `dim ctl`
        // uses for "no engine reachable": a script can tell the two apart.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    // Commands that only print end quietly when their reader goes away (`| head`).
    if matches!(
        cli.command,
        Some(
            Cmd::Scenario { .. }
                | Cmd::Catalog { .. }
                | Cmd::Status { .. }
                | Cmd::Ls { .. }
                | Cmd::Explain { .. }
                | Cmd::Replay(_)
        )
    ) {
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
    let result = match cli.command {
        Some(Cmd::Scenario { action }) => {
            logging::to_stderr();
            match action {
                ScenarioAction::List => {
                    scenario_cmd::list();
                    Ok(())
                }
                ScenarioAction::Check { scenario } => scenario_cmd::check(&scenario, &cfg),
                ScenarioAction::Figures => {
                    scenario_cmd::figures_help(&cfg);
                    Ok(())
                }
            }
        }
        Some(Cmd::Catalog { json }) => catalog::run(&cfg, json),
        Some(Cmd::Status { json }) => {
            logging::to_stderr();
            status::run(&cfg, &cli.data_dir, json)
        }
        Some(Cmd::Ls {
            tier,
            sort,
            limit,
            json,
        }) => {
            logging::to_stderr();
            ls::run(&cfg, &cli.data_dir, tier.as_deref(), sort, limit, json)
        }
        Some(Cmd::Explain { key, json }) => {
            logging::to_stderr();
            explain::run(&cfg, &cli.data_dir, &key, json)
        }
        Some(Cmd::Attach { at }) => {
            let ep = match ctl::endpoint(&cfg, &cli.data_dir, at) {
                Ok(ep) => ep,
                Err(code) => return code,
            };
            let log = std::env::temp_dir().join(format!("dim-attach-{}.log", std::process::id()));
            match tui::themes(cli.theme.as_deref().unwrap_or(&cfg.ui.theme)) {
                Err(e) => {
                    eprintln!("error: invalid theme\n{e}");
                    return ExitCode::from(2);
                }
                Ok(_) if !tui::has_terminal() => {
                    eprintln!("error: {}", tui::NO_TERMINAL_ATTACH);
                    return ExitCode::FAILURE;
                }
                Ok(themes) => {
                    let rt = match tokio::runtime::Runtime::new() {
                        Ok(rt) => rt,
                        Err(e) => {
                            eprintln!("error: {e}");
                            return ExitCode::FAILURE;
                        }
                    };
                    // As `dim ctl` does: an address where no engine answers is said at once
                    // (exit 2), not shown as an empty dashboard "reconnecting" forever.
                    if let Err(e) = rt.block_on(ep.get("/v1/health")) {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                    logging::to_tui_file(&log).and_then(|()| {
                        let r = tui::attach(&rt, cfg, ep, duration, themes, &log);
                        rt.shutdown_timeout(Duration::from_millis(200));
                        r
                    })
                }
            }
        }
        Some(Cmd::Ctl { at, cmd }) => {
            let ep = match ctl::endpoint(&cfg, &cli.data_dir, at) {
                Ok(ep) => ep,
                Err(code) => return code,
            };
            return match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(ctl::run(&ep, &cmd)),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Some(Cmd::Pin { key, unpin }) => {
            logging::to_stderr();
            pin::run(&cfg, &cli.data_dir, &key, !unpin)
        }
        Some(Cmd::Bench {
            target:
                BenchTarget::Optimize {
                    objects,
                    no_bound,
                    json,
                },
        }) => {
            logging::to_stderr();
            bench::optimize::run(&cfg, objects, !no_bound, json)
        }
        Some(Cmd::Bench {
            target:
                BenchTarget::Model {
                    samples,
                    objects,
                    events,
                    json,
                },
        }) => {
            logging::to_stderr();
            bench::model::run(&cfg, samples, objects, events, json)
        }
        Some(Cmd::Replay(args)) => {
            logging::to_stderr();
            if let Some(c) = args.sla_miss_cost {
                cfg.sla.miss_cost = c;
            }
            replay::cmd::run(&cfg, args)
        }
        Some(Cmd::Bench {
            target:
                BenchTarget::Replay {
                    events,
                    objects,
                    days,
                    ignore_capacity,
                    sla_miss_cost,
                    object_store_share,
                    json,
                },
        }) => {
            logging::to_stderr();
            if let Some(c) = sla_miss_cost {
                cfg.sla.miss_cost = c;
            }
            match object_store_share {
                Some(s) if !(0.0..=1.0).contains(&s) => Err(anyhow::anyhow!(
                    "--object-store-share must be a share from 0 to 1 (e.g. 0.5), got {s}"
                )),
                _ => {
                    if let Some(s) = object_store_share {
                        cfg.events.embedded.object_store_share = s;
                    }
                    bench::replay::run(&cfg, events, objects, days, ignore_capacity, json)
                }
            }
        }
        Some(Cmd::Bench {
            target: BenchTarget::Scale { objects, events, json },
        }) => {
            logging::to_stderr();
            bench::scale::run(&cfg, objects, events, json)
        }
        Some(Cmd::Bench {
            target:
                BenchTarget::Tui {
                    objects,
                    attached,
                    json,
                },
        }) => {
            logging::to_stderr();
            bench::tui::run(&cfg, objects, attached, json)
        }
        Some(Cmd::Bench {
            target:
                BenchTarget::Ingest {
                    source,
                    brokers,
                    events,
                    objects,
                    json,
                },
        }) => {
            logging::to_stderr();
            if source == cli::IngestSource::Kafka {
                let brokers = brokers.unwrap_or_else(|| cfg.events.brokers.clone());
                bench::kafka::run(&cfg, &brokers, events, json)
            } else {
                bench::ingest::run(&cfg, events, objects, json)
            }
        }
        Some(Cmd::Simulate {
            events,
            rate,
            skew,
            seed,
            brokers,
            topic,
        }) => {
            logging::to_stderr();
            let opts = simulate::Options {
                events,
                rate,
                skew,
                seed,
                brokers: brokers.unwrap_or_else(|| cfg.events.brokers.clone()),
                topic: topic.unwrap_or_else(|| cfg.events.topic.clone()),
            };
            simulate::run(&cfg, &cli.data_dir, opts)
        }
        Some(Cmd::Seed {
            objects,
            total_size,
            tier,
        }) => {
            logging::to_stderr();
            seed::run(&cfg, &cli.data_dir, objects, total_size, tier.as_deref())
        }
        Some(Cmd::Bench {
            target:
                BenchTarget::Migrate {
                    objects,
                    size,
                    endpoint,
                    region,
                    src,
                    dst,
                    compare_rclone,
                    json,
                },
        }) => {
            logging::to_stderr();
            let default = if endpoint.is_some() {
                Backend::S3
            } else {
                Backend::Local
            };
            let kind = |k: Option<cli::TierKind>| k.map_or(default, Backend::from);
            let opts = bench::migrate::Options {
                objects,
                size,
                src: kind(src),
                dst: kind(dst),
                endpoint,
                region,
                compare_rclone,
            };
            bench::migrate::run(&cfg, opts, json)
        }
        None => {
            // The dashboard plays the demo unless told otherwise; the daemon plays only what it is given.
            // The demo drives the embedded workload, so with Kafka it only plays when asked for.
            let embedded = cfg.events.source == config::SourceKind::Embedded;
            let spec = match (&cli.scenario, cli.daemon || cli.no_scenario || !embedded) {
                (Some(s), _) => Some(s.as_str()),
                (None, false) => Some("demo"),
                (None, true) => None,
            };
            let (scenario, cfg) = match spec.map(|s| scenario_cmd::load(s, &cfg)).transpose() {
                Ok(Some((sc, c))) => (Some(sc), c),
                Ok(None) => (None, cfg),
                Err(e) => {
                    eprintln!("error: invalid scenario\n{e}");
                    return ExitCode::from(2);
                }
            };
            match tokio::runtime::Runtime::new() {
                Err(e) => Err(e.into()),
                Ok(rt) => {
                    let r = if cli.daemon {
                        logging::to_stdout(cli.log_format);
                        match rt.block_on(daemon::run(cfg, &cli.data_dir, duration, scenario)) {
                            Ok(Some(report)) => {
                                if cli.log_format == LogFormat::Json {
                                    println!(
                                        "{}",
                                        serde_json::json!({ "scenario_report": report, "passed": report.passed() })
                                    );
                                } else {
                                    println!("{report}");
                                }
                                if !report.passed() {
                                    rt.shutdown_timeout(Duration::from_millis(200));
                                    return ExitCode::FAILURE;
                                }
                                Ok(())
                            }
                            Ok(None) => Ok(()),
                            Err(e) => Err(e),
                        }
                    } else {
                        match tui::themes(cli.theme.as_deref().unwrap_or(&cfg.ui.theme)) {
                            Err(e) => {
                                eprintln!("error: invalid theme\n{e}");
                                return ExitCode::from(2);
                            }
                            Ok(_) if !tui::has_terminal() => {
                                eprintln!("error: {}", tui::NO_TERMINAL);
                                rt.shutdown_timeout(Duration::from_millis(200));
                                return ExitCode::FAILURE;
                            }
                            Ok(themes) => logging::to_tui(&cli.data_dir)
                                .and_then(|()| tui::run(&rt, cfg, &cli.data_dir, duration, themes, scenario)),
                        }
                    };
                    // The last batch is committed by now. Do not wait for a training or planning run
                    // still on a blocking thread: each writes in one transaction, so dropping it is safe.
                    rt.shutdown_timeout(Duration::from_millis(200));
                    r
                }
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
