//! `dim ctl …`: one-shot commands against a running engine through its control API, for scripts
//! and runbooks. Exit codes: 0 done, 1 refused, 2 no engine reachable.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use hyper::http::Method;

use crate::config::{Config, InjectedError};
use crate::control::client::{Answer, ClientError, Endpoint};
use crate::engine::command::Command;
use crate::engine::tiers::chaos::ChaosSettings;
use crate::format::{human_bytes, thousands};

/// Where a running engine's control API is (`dim attach`, `dim ctl`).
#[derive(Debug, Clone, Args)]
pub struct EngineAddr {
    /// The engine's control socket (default: the one in --data-dir).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The engine's control API on TCP, http://HOST:PORT (control.listen).
    #[arg(long, value_name = "URL", conflicts_with = "socket")]
    pub url: Option<String>,
    /// A file holding the bearer token for --url (default: $DIM_CONTROL_TOKEN).
    #[arg(long, value_name = "FILE", requires = "url")]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CtlCmd {
    /// The engine's state now, from its live snapshot.
    Status {
        /// The whole snapshot as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop starting moves (those under way finish).
    Pause,
    /// Start moves again.
    Resume,
    /// Inject faults on a tier (replaces what is injected there).
    Chaos {
        tier: String,
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        #[arg(long, default_value_t = 0)]
        jitter_ms: u64,
        /// Percent of operations that fail.
        #[arg(long, default_value_t = 0.0)]
        error_rate: f64,
        /// slow_down, throttled, internal, timeout or reset.
        #[arg(long)]
        error_kind: Option<String>,
        /// Every operation fails as if the endpoint refused connections.
        #[arg(long)]
        outage: bool,
        /// Transfer cap, bytes per second.
        #[arg(long)]
        bandwidth_bps: Option<u64>,
    },
    /// Stop injecting on one tier, or on every tier.
    ChaosClear { tier: Option<String> },
    /// Failed moves go back to the queue.
    RetryFailed,
    /// Cancel a queued or running move.
    Cancel { id: i64 },
    /// Move an object to a tier now.
    Move { key: String, tier: String },
    /// Re-plan placement now.
    Optimize,
    /// Retrain the hotness model now.
    Retrain,
    /// Keep an object where it is (the planner never moves it).
    Pin { key: String },
    /// Let the planner move an object again.
    Unpin { key: String },
    /// List every tier again and register what is there.
    Rescan,
    /// Moves in a state (pending, copying, …, failed), newest first.
    Tasks {
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

/// Where to reach the engine: `--url` (with a token from `--token-file` or `DIM_CONTROL_TOKEN`),
/// else `--socket`, else the socket of `--data-dir`.
/// Printed and exit 2 when the address itself is unusable (as when no engine answers).
pub fn endpoint(cfg: &Config, data_dir: &Path, at: EngineAddr) -> Result<Endpoint, ExitCode> {
    address(cfg, data_dir, at).map_err(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}

fn address(cfg: &Config, data_dir: &Path, at: EngineAddr) -> anyhow::Result<Endpoint> {
    if let Some(url) = at.url {
        let token = match at.token_file {
            Some(f) => Some(std::fs::read_to_string(&f)?.trim().to_string()),
            None => std::env::var("DIM_CONTROL_TOKEN").ok(),
        };
        return Ok(Endpoint::url(&url, token)?);
    }
    match at.socket.or_else(|| crate::control::socket_path(cfg, data_dir)) {
        Some(p) => Ok(Endpoint::Socket(p)),
        None => anyhow::bail!("control.socket is \"\" in this configuration: give --socket PATH or --url URL"),
    }
}

fn command_of(cmd: &CtlCmd) -> anyhow::Result<Option<Command>> {
    Ok(Some(match cmd {
        CtlCmd::Status { .. } | CtlCmd::Tasks { .. } => return Ok(None),
        CtlCmd::Pause => Command::PauseMigrations,
        CtlCmd::Resume => Command::ResumeMigrations,
        CtlCmd::Chaos {
            tier,
            latency_ms,
            jitter_ms,
            error_rate,
            error_kind,
            outage,
            bandwidth_bps,
        } => {
            let error_kind = match error_kind {
                None => None,
                Some(k) => Some(
                    serde_json::from_value::<InjectedError>(serde_json::Value::String(k.clone())).map_err(|_| {
                        anyhow::anyhow!(
                            "unknown error kind {k:?}: use slow_down, throttled, internal, timeout or reset"
                        )
                    })?,
                ),
            };
            Command::Chaos {
                tier: tier.clone(),
                settings: ChaosSettings {
                    latency_ms: *latency_ms,
                    jitter_ms: *jitter_ms,
                    error_rate: *error_rate,
                    error_kind,
                    outage: *outage,
                    bandwidth_bps: *bandwidth_bps,
                },
            }
        }
        CtlCmd::ChaosClear { tier } => Command::ChaosClear { tier: tier.clone() },
        CtlCmd::RetryFailed => Command::RetryFailed,
        CtlCmd::Cancel { id } => Command::CancelTask { id: *id },
        CtlCmd::Move { key, tier } => Command::MigrateNow {
            key: key.clone(),
            tier: tier.clone(),
        },
        CtlCmd::Optimize => Command::OptimizeNow,
        CtlCmd::Retrain => Command::RetrainNow,
        CtlCmd::Pin { key } => Command::Pin {
            key: key.clone(),
            pinned: true,
        },
        CtlCmd::Unpin { key } => Command::Pin {
            key: key.clone(),
            pinned: false,
        },
        CtlCmd::Rescan => Command::Rescan,
    }))
}

/// Sends one command; what the engine answered, for the exit code.
pub async fn send(ep: &Endpoint, cmd: &Command) -> Result<Answer, ClientError> {
    let body = serde_json::to_vec(cmd).unwrap_or_default();
    ep.call(Method::POST, "/v1/commands", body).await
}

/// Prints what an answer says and returns the exit code: 0 done, 1 refused.
fn report(a: &Answer, done: &str) -> ExitCode {
    if (200..300).contains(&a.status) {
        println!("{done}");
        return ExitCode::SUCCESS;
    }
    let j = a.json();
    let error = j["error"].as_str().unwrap_or("refused");
    eprintln!("refused: {error}");
    if let Some(help) = j["help"].as_str() {
        eprintln!("  help: {help}");
    }
    ExitCode::from(1)
}

fn status_text(s: &serde_json::Value) -> String {
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let mut out = format!(
        "source {} {} ({})\nobjects {} ({}) · events {} ingested, {} rejected · {:.0}/s\n",
        s["source"]["kind"].as_str().unwrap_or("?"),
        s["source"]["state"].as_str().unwrap_or("?"),
        s["source"]["detail"].as_str().unwrap_or(""),
        thousands(n(&s["store"]["objects"])),
        human_bytes(n(&s["store"]["bytes"])),
        thousands(n(&s["store"]["events"]["ingested"])),
        thousands(n(&s["store"]["events"]["rejected"])),
        s["events_per_sec"].as_f64().unwrap_or(0.0),
    );
    let m = &s["migrations"];
    out.push_str(&format!(
        "migrations {} · {} done, {} failed, {} in flight\n",
        if m["paused"].as_bool().unwrap_or(false) {
            "paused"
        } else {
            "running"
        },
        n(&m["done"]),
        n(&m["failed_total"]),
        m["in_flight"].as_array().map_or(0, |a| a.len()),
    ));
    for t in s["tiers"].as_array().into_iter().flatten() {
        let chaos = if t["chaos"]["outage"].as_bool().unwrap_or(false)
            || n(&t["chaos"]["latency_ms"]) > 0
            || t["chaos"]["error_rate"].as_f64().unwrap_or(0.0) > 0.0
        {
            " · chaos on"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {:<16} {:>10} objects {:>10}{chaos}\n",
            t["name"].as_str().unwrap_or("?"),
            thousands(n(&t["objects"])),
            human_bytes(n(&t["bytes"])),
        ));
    }
    out
}

/// Runs one `dim ctl` command.
pub async fn run(ep: &Endpoint, cmd: &CtlCmd) -> ExitCode {
    let answer = match cmd {
        CtlCmd::Status { json } => ep.get("/v1/snapshot").await.map(|a| {
            if a.status == 200 {
                if *json {
                    println!("{}", String::from_utf8_lossy(&a.body));
                } else {
                    print!("{}", status_text(&a.json()));
                }
                ExitCode::SUCCESS
            } else {
                report(&a, "")
            }
        }),
        CtlCmd::Tasks { state, limit, json } => {
            // One more than shown: whether the list was cut short.
            let mut path = format!("/v1/tasks?limit={}", limit + 1);
            if let Some(s) = state {
                path.push_str(&format!("&state={s}"));
            }
            ep.get(&path).await.map(|a| {
                if a.status != 200 {
                    return report(&a, "");
                }
                let all = a.json();
                let listed = all.as_array().map_or(&[][..], |v| v.as_slice());
                let (tasks, more) = (&listed[..listed.len().min(*limit)], listed.len() > *limit);
                if *json {
                    println!("{}", serde_json::Value::Array(tasks.to_vec()));
                } else {
                    for t in tasks {
                        println!(
                            "{:>6} {:<10} {} → {}  {}{}",
                            t["id"],
                            t["state"].as_str().unwrap_or("?"),
                            t["src"].as_str().unwrap_or("?"),
                            t["dst"].as_str().unwrap_or("?"),
                            t["key"].as_str().unwrap_or("?"),
                            t["reason"].as_str().map(|r| format!("  ({r})")).unwrap_or_default(),
                        );
                    }
                }
                if more {
                    eprintln!("the newest {limit} shown; there are more: --limit N shows N");
                }
                ExitCode::SUCCESS
            })
        }
        other => {
            let command = match command_of(other) {
                Ok(Some(c)) => c,
                Ok(None) => return ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(1);
                }
            };
            send(ep, &command).await.map(|a| report(&a, "done"))
        }
    };
    match answer {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `dim ctl`: reaches the engine `at` names (or the one on `data_dir`'s socket) and sends `cmd`.
pub fn main(cfg: &Config, data_dir: &Path, at: EngineAddr, cmd: &CtlCmd) -> ExitCode {
    let ep = match endpoint(cfg, data_dir, at) {
        Ok(ep) => ep,
        Err(code) => return code,
    };
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt.block_on(run(&ep, cmd)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
