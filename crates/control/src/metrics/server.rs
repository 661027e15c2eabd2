//! The HTTP side: `/metrics` rendered from the registry, `/healthz` and `/readyz` from how fresh
//! the engine's snapshots are and whether its source is up.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::collector::SnapshotCollector;
use crate::config::SourceKind;
use crate::engine::Snapshot;
use crate::engine::SourceState;
use crate::engine::sync;
use crate::engine::{EngineHandle, Observations};

/// A snapshot older than this (wall time) means the engine has stopped publishing: not live.
const STALE: Duration = Duration::from_secs(15);

/// Why `/healthz` or `/readyz` answers 503.
#[derive(Debug, thiserror::Error)]
enum Unhealthy {
    #[error("no snapshot for {secs:.0} s: the engine is stuck")]
    Stuck { secs: f64 },
    #[error("source {kind} is {state}{detail}")]
    SourceDown {
        kind: SourceKind,
        state: SourceState,
        detail: String,
    },
}

/// The endpoint's state: the registry, the histograms it feeds, and when the engine last published.
struct Telemetry {
    registry: Registry,
    obs: Observations,
    ingest_batch: Histogram,
    migration: Histogram,
    solve: Histogram,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    last_publish: Arc<Mutex<Instant>>,
}

impl Telemetry {
    fn render(&self) -> Result<String, std::fmt::Error> {
        for v in self.obs.ingest.batch_secs.drain() {
            self.ingest_batch.observe(v);
        }
        for v in self.obs.migrator.durations.drain() {
            self.migration.observe(v);
        }
        for v in self.obs.brain.solve_secs.drain() {
            self.solve.observe(v);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    fn live(&self) -> Result<(), Unhealthy> {
        let age = sync::lock(&self.last_publish).elapsed();
        if age > STALE {
            return Err(Unhealthy::Stuck {
                secs: age.as_secs_f64(),
            });
        }
        Ok(())
    }

    fn ready(&self) -> Result<(), Unhealthy> {
        self.live()?;
        let s = self.snapshots.borrow().clone();
        if !s.source.is_up() {
            let detail = if s.source.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", s.source.detail)
            };
            return Err(Unhealthy::SourceDown {
                kind: s.source.kind,
                state: s.source.state,
                detail,
            });
        }
        Ok(())
    }
}

async fn metrics(State(t): State<Arc<Telemetry>>) -> impl IntoResponse {
    match t.render() {
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding the metrics failed: {e}\n"),
        )
            .into_response(),
    }
}

fn verdict(r: Result<(), Unhealthy>) -> (StatusCode, String) {
    match r {
        Ok(()) => (StatusCode::OK, "ok\n".into()),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}

async fn healthz(State(t): State<Arc<Telemetry>>) -> (StatusCode, String) {
    verdict(t.live())
}

async fn readyz(State(t): State<Arc<Telemetry>>) -> (StatusCode, String) {
    verdict(t.ready())
}

/// Serves on `listen` unless it is empty; a failure to bind is logged (the engine runs on
/// without the endpoint) rather than fatal.
pub async fn start(listen: &str, engine: &EngineHandle) -> Option<JoinHandle<()>> {
    if listen.is_empty() {
        return None;
    }
    match serve(listen, engine).await {
        Ok((_, task)) => Some(task),
        Err(e) => {
            tracing::warn!(target: "dim::metrics", error = format!("{e:#}"), "metrics endpoint not started");
            None
        }
    }
}

/// Starts serving on `listen` (port 0 picks a free one); returns the bound address and the task.
pub async fn serve(listen: &str, engine: &EngineHandle) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the metrics endpoint to {listen} (metrics.listen, --metrics-listen)"))?;
    let addr = listener.local_addr().context("reading the metrics address")?;
    let obs = engine.observations();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector::new(
        engine.snapshots(),
        obs.migrator.clone(),
    )));
    let ingest_batch = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
    let migration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
    let solve = Histogram::new(exponential_buckets(0.001, 2.0, 16));
    registry.register(
        "dim_ingest_batch_seconds",
        "Time to commit one ingest batch",
        ingest_batch.clone(),
    );
    registry.register(
        "dim_migration_seconds",
        "Time of one finished move, claim to done",
        migration.clone(),
    );
    registry.register(
        "dim_optimizer_solve_seconds",
        "Time of the placement MILP solve of one plan",
        solve.clone(),
    );
    let last_publish = Arc::new(Mutex::new(Instant::now()));
    {
        let (mut snaps, last) = (engine.snapshots(), last_publish.clone());
        tokio::spawn(async move {
            while snaps.changed().await.is_ok() {
                *sync::lock(&last) = Instant::now();
            }
        });
    }
    let state = Arc::new(Telemetry {
        registry,
        obs,
        ingest_batch,
        migration,
        solve,
        snapshots: engine.snapshots(),
        last_publish,
    });
    let app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(target: "dim::metrics", error = %e, "the metrics endpoint stopped");
        }
    });
    tracing::info!(target: "dim::metrics", addr = %addr, "metrics on http://{addr}/metrics (also /healthz, /readyz)");
    Ok((addr, task))
}
