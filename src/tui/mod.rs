//! The terminal dashboard. For now one live overview screen; the full pane set lands with the TUI issue.

mod overview;
mod terminal;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use crate::config::Config;
use crate::engine::{Engine, EngineOptions};

/// Runs the dashboard until `q`, Ctrl-C, SIGTERM or `duration`.
pub fn run(
    rt: &tokio::runtime::Runtime,
    cfg: Config,
    data_dir: &Path,
    duration: Option<Duration>,
) -> anyhow::Result<()> {
    let frame_gap = Duration::from_millis(cfg.ui.frame_gap_ms.max(10));
    let engine = rt
        .block_on(async { Engine::start(cfg.clone(), EngineOptions::new(data_dir)) })
        .context("starting the engine")?;
    let terminated = Arc::new(AtomicBool::new(false));
    {
        let flag = terminated.clone();
        rt.spawn(async move {
            if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                term.recv().await;
                flag.store(true, Ordering::Relaxed);
            }
        });
    }
    let mut snaps = engine.snapshots.clone();
    let started = Instant::now();
    let mut failed = false;
    {
        let mut term = terminal::Term::enter()?;
        let mut last_draw: Option<Instant> = None;
        let mut dirty = true;
        loop {
            if snaps.has_changed().unwrap_or(false) {
                dirty = true;
            }
            let gap_ok = last_draw.is_none_or(|t| t.elapsed() >= frame_gap);
            if dirty && gap_ok {
                let snap = snaps.borrow_and_update().clone();
                term.draw(|f| overview::draw(f, &cfg, &snap))?;
                last_draw = Some(Instant::now());
                dirty = false;
            }
            if event::poll(frame_gap).context("reading the terminal")? {
                match event::read().context("reading the terminal")? {
                    Event::Key(k) if k.kind == KeyEventKind::Press => {
                        let ctrl_c = k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
                        if k.code == KeyCode::Char('q') || ctrl_c {
                            break;
                        }
                    }
                    Event::Resize(..) => dirty = true,
                    _ => {}
                }
            }
            if terminated.load(Ordering::Relaxed) || duration.is_some_and(|d| started.elapsed() >= d) {
                break;
            }
            if engine.is_failed() {
                failed = true;
                break;
            }
        }
    }
    let result = rt.block_on(engine.shutdown());
    match (result, failed) {
        (Err(e), _) => Err(anyhow::Error::new(e).context("the engine stopped with an error")),
        (Ok(_), true) => anyhow::bail!(
            "the engine stopped unexpectedly; see {}",
            data_dir.join("dim.log").display()
        ),
        (Ok(_), false) => Ok(()),
    }
}
