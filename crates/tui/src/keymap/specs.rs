//! The actions' table: config name, default keys, help text and the panes where each matters.
//! The help screen, the footer and `[keymap]` validation all read it.

use std::borrow::Cow;
use std::sync::LazyLock;

use Context::{Chaos, Global, Heat, Logs, Queue, Tiers};

/// What a key does. Engine-facing actions become `Command`s; the rest move the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    PageUp,
    PageDown,
    Filter,
    Sort,
    Detail,
    Back,
    Help,
    Nodes,
    SelectTier(u8),
    CycleLatency,
    CycleErrors,
    ToggleOutage,
    ClearChaos,
    ClearAllChaos,
    TogglePause,
    RetryFailed,
    OptimizeNow,
    RetrainNow,
    Rescan,
    Pin,
    CycleTheme,
    ToggleScenario,
    LogLevel,
}

/// Where an action matters: the footer shows an action when its context is the focused pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Global,
    Heat,
    Tiers,
    Queue,
    Logs,
    Chaos,
}

pub(super) struct Spec {
    pub action: Action,
    pub name: Cow<'static, str>,
    pub keys: Vec<Cow<'static, str>>,
    pub help: Cow<'static, str>,
    pub context: &'static [Context],
}

fn spec(
    action: Action,
    name: &'static str,
    keys: &[&'static str],
    help: &'static str,
    context: &'static [Context],
) -> Spec {
    Spec {
        action,
        name: name.into(),
        keys: keys.iter().map(|k| Cow::Borrowed(*k)).collect(),
        help: help.into(),
        context,
    }
}

/// Digit `n` selects the n-th configured tier for the chaos keys. The footer has room for the
/// first three; the help screen lists all nine.
fn select_tier(n: u8) -> Spec {
    Spec {
        action: Action::SelectTier(n),
        name: format!("select_tier_{n}").into(),
        keys: vec![n.to_string().into()],
        help: format!("select tier {n} for chaos").into(),
        context: if n <= 3 { &[Chaos, Tiers] } else { &[] },
    }
}

const ALL_PANES: &[Context] = &[Heat, Tiers, Queue, Logs, Chaos];

/// Every action, in the order of the help screen.
pub(super) static SPECS: LazyLock<Vec<Spec>> = LazyLock::new(|| {
    let mut specs = vec![
        spec(Action::Quit, "quit", &["q", "ctrl-c"], "quit", &[Global]),
        spec(
            Action::FocusNext,
            "focus_next",
            &["tab"],
            "focus the next pane",
            &[Global],
        ),
        spec(
            Action::FocusPrev,
            "focus_prev",
            &["shift-tab"],
            "focus the previous pane",
            &[Global],
        ),
        spec(Action::Up, "up", &["up", "k"], "move up / scroll", ALL_PANES),
        spec(Action::Down, "down", &["down", "j"], "move down / scroll", ALL_PANES),
        spec(Action::PageUp, "page_up", &["pageup"], "page up", ALL_PANES),
        spec(Action::PageDown, "page_down", &["pagedown"], "page down", ALL_PANES),
        spec(
            Action::Filter,
            "filter",
            &["/"],
            "filter objects by key (live; Esc clears)",
            &[Heat],
        ),
        spec(
            Action::Sort,
            "sort",
            &["s"],
            "sort by p_hot / rate / size / key",
            &[Heat],
        ),
        spec(
            Action::Detail,
            "detail",
            &["enter"],
            "explain the selected object",
            &[Heat],
        ),
        spec(
            Action::Back,
            "back",
            &["esc"],
            "close a view, clear the filter",
            &[Global],
        ),
        spec(Action::Help, "help", &["?"], "this help", &[Global]),
        spec(
            Action::Nodes,
            "nodes",
            &["N"],
            "the cluster's nodes (several sharing a PostgreSQL store)",
            &[Global],
        ),
    ];
    specs.extend((1..=9).map(select_tier));
    specs.extend([
        spec(
            Action::CycleLatency,
            "cycle_latency",
            &["l"],
            "cycle injected latency on the selected tier",
            &[Chaos, Tiers],
        ),
        spec(
            Action::CycleErrors,
            "cycle_errors",
            &["e"],
            "cycle injected error rate on the selected tier",
            &[Chaos, Tiers],
        ),
        spec(
            Action::ToggleOutage,
            "toggle_outage",
            &["o"],
            "toggle an outage of the selected tier",
            &[Chaos, Tiers],
        ),
        spec(
            Action::ClearChaos,
            "clear_chaos",
            &["c"],
            "clear chaos on the selected tier",
            &[Chaos, Tiers],
        ),
        spec(
            Action::ClearAllChaos,
            "clear_all_chaos",
            &["C"],
            "clear chaos on every tier",
            &[Chaos],
        ),
        spec(
            Action::TogglePause,
            "pause_migrations",
            &["p"],
            "pause / resume migrations",
            &[Queue],
        ),
        spec(
            Action::RetryFailed,
            "retry_failed",
            &["R"],
            "retry failed migrations",
            &[Queue],
        ),
        spec(
            Action::OptimizeNow,
            "optimize_now",
            &["O"],
            "re-plan placement now",
            &[Heat, Tiers],
        ),
        spec(
            Action::RetrainNow,
            "retrain_now",
            &["r"],
            "retrain the hotness model now",
            &[Heat],
        ),
        spec(
            Action::Rescan,
            "rescan",
            &["I"],
            "list every tier again and register what it holds",
            &[Tiers],
        ),
        spec(
            Action::Pin,
            "pin",
            &["P"],
            "pin / unpin the selected object to its tier",
            &[Heat],
        ),
        spec(Action::CycleTheme, "cycle_theme", &["t"], "next theme", &[Global]),
        spec(
            Action::ToggleScenario,
            "toggle_scenario",
            &["space"],
            "pause / resume scenario playback",
            &[Global],
        ),
        spec(
            Action::LogLevel,
            "log_level",
            &["v"],
            "cycle the log level shown",
            &[Logs],
        ),
    ]);
    specs
});
