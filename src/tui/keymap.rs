//! The keymap: every key maps to a named action; defaults are embedded, the config's `[keymap]`
//! section overrides them, and the help screen and footer are generated from it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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

struct Spec {
    action: Action,
    name: &'static str,
    keys: &'static [&'static str],
    help: &'static str,
    context: &'static [Context],
}

const fn spec(
    action: Action,
    name: &'static str,
    keys: &'static [&'static str],
    help: &'static str,
    context: &'static [Context],
) -> Spec {
    Spec {
        action,
        name,
        keys,
        help,
        context,
    }
}

use Context::{Chaos, Global, Heat, Logs, Queue, Tiers};

const ALL_PANES: &[Context] = &[Heat, Tiers, Queue, Logs, Chaos];

/// Every action, its config name, default keys, help text and the panes where it matters.
const SPECS: &[Spec] = &[
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
        Action::SelectTier(1),
        "select_tier_1",
        &["1"],
        "select tier 1 for chaos",
        &[Chaos, Tiers],
    ),
    spec(
        Action::SelectTier(2),
        "select_tier_2",
        &["2"],
        "select tier 2 for chaos",
        &[Chaos, Tiers],
    ),
    spec(
        Action::SelectTier(3),
        "select_tier_3",
        &["3"],
        "select tier 3 for chaos",
        &[Chaos, Tiers],
    ),
    spec(
        Action::SelectTier(4),
        "select_tier_4",
        &["4"],
        "select tier 4 for chaos",
        &[],
    ),
    spec(
        Action::SelectTier(5),
        "select_tier_5",
        &["5"],
        "select tier 5 for chaos",
        &[],
    ),
    spec(
        Action::SelectTier(6),
        "select_tier_6",
        &["6"],
        "select tier 6 for chaos",
        &[],
    ),
    spec(
        Action::SelectTier(7),
        "select_tier_7",
        &["7"],
        "select tier 7 for chaos",
        &[],
    ),
    spec(
        Action::SelectTier(8),
        "select_tier_8",
        &["8"],
        "select tier 8 for chaos",
        &[],
    ),
    spec(
        Action::SelectTier(9),
        "select_tier_9",
        &["9"],
        "select tier 9 for chaos",
        &[],
    ),
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
];

/// One key with its modifiers, as the keymap compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    /// Normalises a terminal key event: Shift is part of the character ('C'), not a modifier.
    pub fn from_event(k: &KeyEvent) -> Key {
        let mut mods = k.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match k.code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// Parses "q", "C", "ctrl-c", "alt-x", "shift-tab", "enter", "esc", "space", "up", "pageup", "f1", "?".
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") && rest.len() > 6 {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            mods |= m;
            rest = &rest[len..];
        }
        let named = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => Some(KeyCode::Enter),
            "esc" | "escape" => Some(KeyCode::Esc),
            "tab" if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                Some(KeyCode::BackTab)
            }
            "tab" => Some(KeyCode::Tab),
            "backtab" => Some(KeyCode::BackTab),
            "space" => Some(KeyCode::Char(' ')),
            "up" => Some(KeyCode::Up),
            "down" => Some(KeyCode::Down),
            "left" => Some(KeyCode::Left),
            "right" => Some(KeyCode::Right),
            "pageup" | "pgup" => Some(KeyCode::PageUp),
            "pagedown" | "pgdown" | "pgdn" => Some(KeyCode::PageDown),
            "home" => Some(KeyCode::Home),
            "end" => Some(KeyCode::End),
            "backspace" => Some(KeyCode::Backspace),
            "delete" | "del" => Some(KeyCode::Delete),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
                f[1..].parse().ok().map(KeyCode::F)
            }
            _ => None,
        };
        let code = match named {
            Some(c) => c,
            None => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() => {
                        if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                            mods.remove(KeyModifiers::SHIFT);
                            KeyCode::Char(c.to_ascii_uppercase())
                        } else {
                            KeyCode::Char(c)
                        }
                    }
                    _ => {
                        return Err(format!(
                            "{s:?} is not a key; use a character (\"q\", \"C\"), a name (enter, esc, tab, space, up, \
                             down, pageup, pagedown, home, end, f1..f12) and optional ctrl-/alt-/shift- prefixes"
                        ));
                    }
                }
            }
        };
        Ok(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            write!(f, "Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            write!(f, "Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            write!(f, "Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => write!(f, "Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => write!(f, "Enter"),
            KeyCode::Esc => write!(f, "Esc"),
            KeyCode::Tab => write!(f, "Tab"),
            KeyCode::BackTab => write!(f, "Shift-Tab"),
            KeyCode::Up => write!(f, "↑"),
            KeyCode::Down => write!(f, "↓"),
            KeyCode::Left => write!(f, "←"),
            KeyCode::Right => write!(f, "→"),
            KeyCode::PageUp => write!(f, "PgUp"),
            KeyCode::PageDown => write!(f, "PgDn"),
            KeyCode::Home => write!(f, "Home"),
            KeyCode::End => write!(f, "End"),
            KeyCode::Backspace => write!(f, "Backspace"),
            KeyCode::Delete => write!(f, "Del"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// An invalid `[keymap]` entry: the action it concerns and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct KeymapError {
    pub action: String,
    pub message: String,
    pub help: String,
}

/// Resolved bindings: key → action, and for help, action → keys.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<Key, Action>,
    keys: BTreeMap<Action, Vec<Key>>,
}

/// Help for one action, as the help screen and footer list it.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub action: Action,
    pub name: &'static str,
    pub keys: Vec<Key>,
    pub help: &'static str,
    pub context: &'static [Context],
}

impl Keymap {
    /// The defaults with the user's overrides (`action name → keys`) applied. A user binding wins
    /// over a default on the same key; two user bindings on one key are refused.
    pub fn new(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, KeymapError> {
        let mut user: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        let mut user_keys: HashMap<Key, &str> = HashMap::new();
        for (name, keys) in overrides {
            let Some(spec) = SPECS.iter().find(|s| s.name == name) else {
                let near = crate::config::closest(name, SPECS.iter().map(|s| s.name))
                    .map(|n| format!("did you mean {n:?}? "))
                    .unwrap_or_default();
                return Err(KeymapError {
                    action: name.clone(),
                    message: format!("unknown action {name:?}"),
                    help: format!(
                        "{near}actions: {}",
                        SPECS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                    ),
                });
            };
            let mut parsed = Vec::new();
            for k in keys {
                let key = Key::parse(k).map_err(|m| KeymapError {
                    action: name.clone(),
                    message: m,
                    help: "e.g. quit = [\"q\", \"ctrl-c\"]".into(),
                })?;
                if let Some(other) = user_keys.insert(key, spec.name).filter(|o| *o != spec.name) {
                    return Err(KeymapError {
                        action: name.clone(),
                        message: format!("key {key} is bound to both {other:?} and {name:?}"),
                        help: "give each key one action".into(),
                    });
                }
                parsed.push(key);
            }
            user.insert(spec.action, parsed);
        }
        let mut keys: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        for s in SPECS {
            let ks = match user.get(&s.action) {
                Some(k) => k.clone(),
                None => s
                    .keys
                    .iter()
                    .filter_map(|k| Key::parse(k).ok())
                    .filter(|k| !user_keys.contains_key(k))
                    .collect(),
            };
            keys.insert(s.action, ks);
        }
        let by_key = keys
            .iter()
            .flat_map(|(a, ks)| ks.iter().map(move |k| (*k, *a)))
            .collect();
        Ok(Keymap { by_key, keys })
    }

    pub fn default_map() -> Keymap {
        match Self::new(&BTreeMap::new()) {
            Ok(k) => k,
            Err(e) => unreachable!("the default keymap is valid: {e:?}"),
        }
    }

    pub fn action(&self, k: &KeyEvent) -> Option<Action> {
        self.by_key.get(&Key::from_event(k)).copied()
    }

    /// Every action with its keys, in the order of the help screen.
    pub fn bindings(&self) -> Vec<Binding> {
        SPECS
            .iter()
            .map(|s| Binding {
                action: s.action,
                name: s.name,
                keys: self.keys.get(&s.action).cloned().unwrap_or_default(),
                help: s.help,
                context: s.context,
            })
            .collect()
    }

    /// The first key of `action`, for footers ("p pause").
    pub fn key_of(&self, action: Action) -> Option<Key> {
        self.keys.get(&action).and_then(|k| k.first().copied())
    }
}
