//! Headless mode: the engine with logs on stdout, a periodic summary line, clean stop on SIGINT/SIGTERM.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;
use crate::engine::{Engine, EngineOptions};

/// Runs until a signal or `duration`; exits only after the last batch is committed.
pub async fn run(cfg: Config, data_dir: &Path, duration: Option<Duration>) -> anyhow::Result<()> {
    let engine = Engine::start(cfg, EngineOptions::new(data_dir)).context("starting the engine")?;
    let mut snaps = engine.snapshots.clone();
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
            _ = report.tick() => {
                let s = snaps.borrow_and_update().clone();
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
                if engine.is_failed() {
                    break "an engine thread stopped";
                }
            }
        }
    };
    tracing::info!(target: "dim::daemon", reason, "shutting down");
    let last = engine.shutdown().await.context("stopping the engine")?;
    tracing::info!(
        target: "dim::daemon",
        ingested = last.store.events.ingested,
        rejected = last.store.events.rejected,
        objects = last.store.objects,
        "shutdown complete"
    );
    Ok(())
}
