//! The one start-up the daemon and the dashboard share: the control socket claimed, the engine
//! started, its control API and metrics endpoint serving; and the one stop.

use std::path::Path;

use anyhow::Context;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::control::ControlServer;
use crate::engine::snapshot::Snapshot;
use crate::engine::{Engine, EngineError, EngineHandle};

/// A running engine with the API and the metrics endpoint that serve it.
pub struct Host {
    engine: EngineHandle,
    control: ControlServer,
    /// The metrics endpoint's task, when it serves (it ends with the runtime).
    _metrics: Option<JoinHandle<()>>,
}

impl Host {
    /// Claims the control socket (refused while another engine holds it), starts the engine on
    /// `data_dir`, then the control API and, when `metrics`, the `[metrics] listen` endpoint.
    /// Must be called inside a tokio runtime.
    pub async fn start(cfg: &Config, data_dir: &Path, metrics: bool) -> anyhow::Result<Host> {
        let claim = crate::control::claim(cfg, data_dir).context("starting the control API")?;
        let engine =
            Engine::start(cfg.clone(), crate::tiers::engine_options(data_dir)).context("starting the engine")?;
        let control = match crate::control::start(claim, cfg, &engine).await {
            Ok(c) => c,
            Err(e) => {
                let _ = engine.shutdown().await;
                return Err(e.context("starting the control API"));
            }
        };
        let metrics = if metrics {
            crate::metrics::start(&cfg.metrics.listen, &engine).await
        } else {
            None
        };
        Ok(Host {
            engine,
            control,
            _metrics: metrics,
        })
    }

    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// Stops the engine (its last batch committed) while the API still answers, then the API;
    /// returns the engine's last snapshot.
    pub async fn shutdown(self) -> Result<Snapshot, EngineError> {
        let last = self.engine.shutdown().await;
        drop(self.control);
        last
    }
}
