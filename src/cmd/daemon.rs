//! Headless mode: the engine with logs on stdout, a periodic summary line, clean stop on SIGINT/SIGTERM.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;
use crate::engine::scenario::{Report, Scenario};
use crate::engine::snapshot::Snapshot;
use crate::host::Host;

/// Runs until a signal, `duration`, or the end of `scenario`; exits only after the last batch is
/// committed. With a scenario, returns its report.
pub async fn run(
    cfg: Config,
    data_dir: &Path,
    duration: Option<Duration>,
    scenario: Option<Scenario>,
) -> anyhow::Result<Option<Report>> {
    let host = Host::start(&cfg, data_dir, true).await?;
    let engine = host.engine();
    let mut playing = scenario.map(|sc| engine.play(sc));
    let mut outcome = None;
    let mut snaps = engine.snapshots();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let deadline = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut report = tokio::time::interval(Duration::from_secs(5));
    report.tick().await;
    let reason = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break "SIGINT",
            _ = term.recv() => break "SIGTERM",
            _ = &mut deadline => break "--duration elapsed",
            _ = crate::logging::stdout_closed() => break "its output was closed",
            r = async { match playing.as_mut() { Some(p) => p.await, None => std::future::pending().await } }, if playing.is_some() => {
                playing = None;
                match r {
                    Ok(r) => outcome = Some(r),
                    Err(e) => tracing::error!(target: "dim::daemon", error = %e, "the scenario player failed"),
                }
                break "the scenario ended";
            }
            _ = report.tick() => {
                log_status(&snaps.borrow_and_update());
                if engine.is_failed() {
                    break "an engine thread stopped";
                }
            }
        }
    };
    tracing::info!(target: "dim::daemon", reason, "shutting down");
    let last = host.shutdown().await.context("stopping the engine")?;
    // Stopped before its end (a signal, --duration): the player reports what it had checked.
    if let Some(p) = playing
        && let Ok(r) = p.await
    {
        outcome = Some(r);
    }
    tracing::info!(
        target: "dim::daemon",
        ingested = last.store.events.ingested,
        rejected = last.store.events.rejected,
        objects = last.store.objects,
        "shutdown complete"
    );
    Ok(outcome)
}

/// The periodic status line: source, throughput, what the store holds and what it costs.
fn log_status(s: &Snapshot) {
    tracing::info!(
        target: "dim::daemon",
        source = %s.source.state,
        lag = s.source.lag,
        events_per_sec = s.events_per_sec.round(),
        ingested = s.store.events.ingested,
        rejected = s.store.events.rejected,
        objects = s.store.objects,
        mib = s.store.bytes / (1 << 20),
        cost_per_month = format!("{:.4}", s.monthly_storage_cost),
        "status"
    );
}
