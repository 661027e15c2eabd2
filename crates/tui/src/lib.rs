//! The terminal dashboard: live panes over the engine's snapshots; keys become Commands.

// In the crate, not Cargo.toml: a `[lints]` table would reach the integration tests too, where
// `unwrap()` is the assertion.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(unreachable_pub)]

/// Our crates under the names the modules use (`crate::config::…`, `crate::engine::…`).
use dim_config as config;
use dim_control as control;
use dim_engine as engine;
use dim_engine::format;

pub mod app;
mod header;
pub mod keymap;
mod link;
pub mod log_layer;
pub mod panes;
mod terminal;
pub mod theme;
pub mod view;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{self, Event, KeyEventKind};
use tokio::sync::oneshot;

use crate::config::{Config, ConfigError, Invalid, SectionCheck};
use crate::control::client::Endpoint;
use crate::engine::EngineHandle;
use crate::engine::{Answer, Command};
use app::{App, Overlay};
use keymap::Keymap;
use link::{Link, Remote};
pub use terminal::{NO_TERMINAL, NO_TERMINAL_ATTACH, has_terminal};
use theme::Theme;

/// The dashboard's checks of its own configuration sections (`[ui] theme`, `[keymap]`), run by
/// the loaders of every configuration a dashboard may run with.
pub const CONFIG_CHECKS: &[SectionCheck] = &[check_settings];

/// The theme names a built-in or a file, and the keymap resolves.
fn check_settings(c: &Config) -> Result<(), Invalid> {
    let theme = &c.ui.theme;
    if !theme::BUILTIN.iter().any(|(n, _)| n == theme) && !Path::new(theme).is_file() {
        let names: Vec<&str> = theme::BUILTIN.iter().map(|(n, _)| *n).collect();
        return Err(Invalid::new(
            "ui.theme",
            format!("no built-in theme and no file named {theme:?}"),
            format!("use one of {} or the path of a theme file", names.join(", ")),
        ));
    }
    Keymap::new(&c.keymap).map_err(|e| Invalid::new(format!("keymap.{}", e.action), e.message, e.help))?;
    Ok(())
}

/// The themes `t` cycles through (the built-ins, plus a theme file if one was asked for) and the
/// index of the one to start with. A bad theme is refused here, before the terminal is taken.
pub fn themes(spec: &str) -> Result<(Vec<Theme>, usize), Box<ConfigError>> {
    let mut all = Theme::builtins();
    if let Some(i) = all.iter().position(|t| t.name == spec) {
        return Ok((all, i));
    }
    all.push(Theme::load(spec)?);
    let i = all.len() - 1;
    Ok((all, i))
}

/// Longest gap between two frames when nothing else changed (new log lines still show).
const IDLE_REDRAW: Duration = Duration::from_secs(1);

/// Runs the dashboard on `engine`, a local one, until `q`, Ctrl-C, SIGTERM or `duration`; true
/// when the engine failed under it (its log is in `log`).
pub fn run(
    rt: &tokio::runtime::Runtime,
    cfg: Config,
    engine: &EngineHandle,
    duration: Option<Duration>,
    themes: (Vec<Theme>, usize),
    log: &Path,
) -> anyhow::Result<bool> {
    let keymap = Keymap::new(&cfg.keymap).map_err(|e| anyhow::anyhow!("keymap.{}: {}", e.action, e.message))?;
    drive(rt, cfg, keymap, themes, &Link::Local(engine), duration, log)
}

/// How long `dim attach` waits for the engine's first snapshot before drawing without it.
const FIRST_SNAPSHOT_WAIT: Duration = Duration::from_secs(3);

/// `dim attach`: the dashboard on a running engine, through its control API. `q` leaves the
/// engine running; a lost engine shows "reconnecting" until it answers again.
pub fn attach(
    rt: &tokio::runtime::Runtime,
    cfg: Config,
    endpoint: Endpoint,
    duration: Option<Duration>,
    themes: (Vec<Theme>, usize),
    log: &Path,
) -> anyhow::Result<()> {
    let keymap = Keymap::new(&cfg.keymap).map_err(|e| anyhow::anyhow!("keymap.{}: {}", e.action, e.message))?;
    let link = Link::Remote(Remote::connect(rt, endpoint));
    // The engine answered a moment ago: its first snapshot, not an empty one, is the first frame.
    let mut first = link.snapshots();
    // The timer is made inside the runtime (outside it, tokio has no clock to give it).
    let _ = rt.block_on(async { tokio::time::timeout(FIRST_SNAPSHOT_WAIT, first.changed()).await });
    drive(rt, cfg, keymap, themes, &link, duration, log)?;
    Ok(())
}

/// The dashboard's loop over `link` until `q`, Ctrl-C, SIGTERM or `duration`; true when a local
/// engine failed under it.
fn drive(
    rt: &tokio::runtime::Runtime,
    cfg: Config,
    keymap: Keymap,
    themes: (Vec<Theme>, usize),
    link: &Link<'_>,
    duration: Option<Duration>,
    log: &Path,
) -> anyhow::Result<bool> {
    let frame_gap = Duration::from_millis(cfg.ui.frame_gap_ms.max(10));
    let terminated = on_sigterm(rt);
    let mut app = App::new(cfg, keymap, themes.0, themes.1);
    let mut snaps = link.snapshots();
    app.attached = link.attached();
    app.on_snapshot(snaps.borrow_and_update().clone());
    let started = Instant::now();
    let mut failed = false;
    {
        let mut term = terminal::Term::enter()?;
        let mut last_draw: Option<Instant> = None;
        let mut dirty = true;
        // Commands sent and not yet answered (answers come within a frame or two).
        let mut pending: Vec<(Command, oneshot::Receiver<Answer>)> = Vec::new();
        loop {
            if snaps.has_changed().unwrap_or(false) {
                app.on_snapshot(snaps.borrow_and_update().clone());
                dirty = true;
            }
            dirty |= take_answers(&mut pending, &mut app);
            let since = last_draw.map(|t| t.elapsed());
            let due = dirty && since.is_none_or(|e| e >= frame_gap);
            if due || since.is_some_and(|e| e >= IDLE_REDRAW) {
                term.draw(|f| view::draw(f, &mut app))?;
                last_draw = Some(Instant::now());
                dirty = false;
            }
            if event::poll(frame_gap).context("reading the terminal")? {
                let commands = match event::read().context("reading the terminal")? {
                    Event::Key(k) if k.kind == KeyEventKind::Press => app.handle_key(k),
                    Event::Mouse(m) => app.handle_mouse(m),
                    Event::Resize(..) => vec![],
                    _ => continue,
                };
                for c in commands {
                    match link.submit(rt, c.clone()) {
                        Ok(answer) => pending.push((c, answer)),
                        Err(why) => app.on_answer(&c, Err(why)),
                    }
                }
                dirty = true;
                // Input is drawn in the next frame, not after the frame gap.
                last_draw = None;
            }
            if app.quit {
                break;
            }
            if terminated.load(Ordering::Relaxed) || duration.is_some_and(|d| started.elapsed() >= d) {
                break;
            }
            if link.is_failed() && !failed {
                failed = true;
                app.overlay = Some(Overlay::Fatal(format!(
                    "an engine thread stopped with an error; the log is in {}",
                    log.display()
                )));
                dirty = true;
            }
            let attached = link.attached();
            if attached != app.attached {
                app.attached = attached;
                dirty = true;
            }
        }
    }
    Ok(failed)
}

/// A flag set when the process receives SIGTERM (a service manager stopping the dashboard).
fn on_sigterm(rt: &tokio::runtime::Runtime) -> Arc<AtomicBool> {
    let terminated = Arc::new(AtomicBool::new(false));
    let flag = terminated.clone();
    rt.spawn(async move {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            term.recv().await;
            flag.store(true, Ordering::Relaxed);
        }
    });
    terminated
}

/// Hands the app the answers that came for the commands it sent; true when there was one.
fn take_answers(pending: &mut Vec<(Command, oneshot::Receiver<Answer>)>, app: &mut App) -> bool {
    let mut any = false;
    pending.retain_mut(|(c, answer)| match answer.try_recv() {
        Ok(a) => {
            app.on_answer(c, a);
            any = true;
            false
        }
        Err(oneshot::error::TryRecvError::Empty) => true,
        Err(oneshot::error::TryRecvError::Closed) => false,
    });
    any
}
