//! The dashboard on an engine of its own: the shared start-up, the scenario played in the
//! background, the terminal until it ends, and the engine stopped after.

use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::engine::scenario::Scenario;
use crate::host::Host;
use crate::tui::{self, theme::Theme};

/// Runs the dashboard until `q`, Ctrl-C, SIGTERM or `duration`; the engine stops after, its last
/// batch committed, even when the terminal failed.
pub fn run(
    rt: &tokio::runtime::Runtime,
    cfg: Config,
    data_dir: &Path,
    duration: Option<Duration>,
    themes: (Vec<Theme>, usize),
    scenario: Option<Scenario>,
) -> anyhow::Result<()> {
    let host = rt.block_on(Host::start(&cfg, data_dir, cfg.metrics.dashboard))?;
    if let Some(sc) = scenario {
        let _guard = rt.enter();
        // The report shows in the header; the player logs each expectation too.
        drop(host.engine().play(sc));
    }
    let log = data_dir.join("dim.log");
    let drawn = tui::run(rt, cfg, host.engine(), duration, themes, &log);
    let stopped = rt.block_on(host.shutdown());
    match (stopped, drawn?) {
        (Err(e), _) => Err(anyhow::Error::new(e).context("the engine stopped with an error")),
        (Ok(_), true) => anyhow::bail!("the engine stopped unexpectedly; see {}", log.display()),
        (Ok(_), false) => Ok(()),
    }
}
