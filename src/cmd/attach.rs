//! `dim attach`: the dashboard on a running engine, through its control API.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::ctl::{self, EngineAddr};
use super::exit::exit_code;
use crate::config::Config;
use crate::{logging, tui};

/// Attaches to the engine `at` names (or the one on `data_dir`'s socket). Exit codes as `dim
/// ctl`: 2 when no engine answers or the theme is bad, 1 when the dashboard fails.
pub fn run(cfg: Config, data_dir: &Path, at: EngineAddr, theme: Option<&str>, duration: Option<Duration>) -> ExitCode {
    let ep = match ctl::endpoint(&cfg, data_dir, at) {
        Ok(ep) => ep,
        Err(code) => return code,
    };
    let log = std::env::temp_dir().join(format!("dim-attach-{}.log", std::process::id()));
    let themes = match tui::themes(theme.unwrap_or(&cfg.ui.theme)) {
        Ok(themes) => themes,
        Err(e) => {
            eprintln!("error: invalid theme\n{e}");
            return ExitCode::from(2);
        }
    };
    if !tui::has_terminal() {
        eprintln!("error: {}", tui::NO_TERMINAL_ATTACH);
        return ExitCode::FAILURE;
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // As `dim ctl` does: an address where no engine answers is said at once (exit 2), not shown
    // as an empty dashboard "reconnecting" forever.
    if let Err(e) = rt.block_on(ep.get("/v1/health")) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let result = logging::to_tui_file(&log).and_then(|()| tui::attach(&rt, cfg, ep, duration, themes, &log));
    rt.shutdown_timeout(Duration::from_millis(200));
    exit_code(result)
}
