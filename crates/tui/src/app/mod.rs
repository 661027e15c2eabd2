//! Dashboard state and its update: keys and mouse become actions, actions change the view or
//! become engine `Command`s. Nothing here draws, and nothing here queries the engine.

mod input;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ratatui::layout::Rect;

use super::keymap::Keymap;
use super::theme::Theme;
use crate::config::{Config, SourceKind};
use crate::engine::ChaosSettings;
use crate::engine::Snapshot;
use crate::engine::store::summary::HotObject;
use crate::engine::{Answer, Command};

/// The panes, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Heat,
    Tiers,
    Queue,
    Chaos,
    Logs,
}

impl Pane {
    pub const ALL: [Pane; 5] = [Pane::Heat, Pane::Tiers, Pane::Queue, Pane::Chaos, Pane::Logs];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Heat => "File heat",
            Pane::Tiers => "Tier placement",
            Pane::Queue => "Migration queue",
            Pane::Chaos => "Chaos",
            Pane::Logs => "Logs",
        }
    }

    pub fn context(self) -> super::keymap::Context {
        use super::keymap::Context;
        match self {
            Pane::Heat => Context::Heat,
            Pane::Tiers => Context::Tiers,
            Pane::Queue => Context::Queue,
            Pane::Chaos => Context::Chaos,
            Pane::Logs => Context::Logs,
        }
    }
}

/// How the heat table is ordered (`s` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    PHot,
    Rate,
    Size,
    Key,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::PHot => "p_hot",
            SortKey::Rate => "rate",
            SortKey::Size => "size",
            SortKey::Key => "key",
        }
    }

    fn next(self) -> SortKey {
        match self {
            SortKey::PHot => SortKey::Rate,
            SortKey::Rate => SortKey::Size,
            SortKey::Size => SortKey::Key,
            SortKey::Key => SortKey::PHot,
        }
    }
}

/// A view over the panes.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// The explanation of one object (filled by the engine after `Command::Inspect`).
    Detail(String),
    Help,
    /// Every node of the cluster sharing the store.
    Nodes,
    /// The engine stopped: shown until a key is pressed, then the dashboard exits non-zero.
    Fatal(String),
}

/// Levels the log pane cycles through (`v`).
pub const LOG_LEVELS: [tui_logger::LevelFilter; 5] = [
    tui_logger::LevelFilter::Info,
    tui_logger::LevelFilter::Warn,
    tui_logger::LevelFilter::Error,
    tui_logger::LevelFilter::Trace,
    tui_logger::LevelFilter::Debug,
];

/// Samples kept for sparklines and charts (one per snapshot).
pub const HISTORY: usize = 120;

pub struct App {
    pub cfg: Config,
    pub keymap: Keymap,
    pub themes: Vec<Theme>,
    pub theme: usize,
    pub snap: Arc<Snapshot>,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    pub sort: SortKey,
    pub filter: String,
    /// True while `/` is capturing typed characters.
    pub filtering: bool,
    /// The selected object, by key, so the selection follows it as the ranking changes.
    pub selected_key: Option<String>,
    pub queue_scroll: usize,
    pub tiers_scroll: usize,
    pub detail_scroll: usize,
    /// Tier the chaos keys act on (index into the configured tiers).
    pub chaos_tier: usize,
    pub log_level: usize,
    pub log_state: tui_logger::TuiWidgetState,
    /// Feedback for the last action, shown in the footer.
    pub status: Option<String>,
    /// Why the engine refused the last command, shown in the footer until the next key.
    pub refusal: Option<String>,
    /// `dim attach`: where the engine is, and whether it answers now (the header says so).
    pub attached: Option<(String, bool)>,
    /// Decayed 1 h rate of each hot object, one sample per snapshot (for its sparkline).
    pub rates: HashMap<String, VecDeque<u64>>,
    /// Bytes per tier, one sample per snapshot (for the chart).
    pub tier_bytes: VecDeque<(f64, Vec<u64>)>,
    samples: u64,
    /// Chaos settings sent per tier, and the snapshot count when the engine accepted them (None
    /// while unanswered): the base for the next key until a snapshot shows them in force (keys
    /// can come faster than snapshots). A refusal forgets them.
    sent_chaos: HashMap<String, (ChaosSettings, Option<u64>)>,
    /// Where each pane was drawn last (for mouse clicks).
    pub areas: Vec<(Pane, Rect)>,
    /// Rows of the heat table visible in the last frame (for paging).
    pub heat_page: usize,
    pub quit: bool,
}

impl App {
    pub fn new(cfg: Config, keymap: Keymap, themes: Vec<Theme>, theme: usize) -> App {
        App {
            cfg,
            keymap,
            theme: theme.min(themes.len().saturating_sub(1)),
            themes,
            snap: Arc::new(Snapshot::default()),
            focus: Pane::Heat,
            overlay: None,
            sort: SortKey::PHot,
            filter: String::new(),
            filtering: false,
            selected_key: None,
            queue_scroll: 0,
            tiers_scroll: 0,
            detail_scroll: 0,
            chaos_tier: 0,
            log_level: 0,
            log_state: tui_logger::TuiWidgetState::new().set_default_display_level(LOG_LEVELS[0]),
            status: None,
            refusal: None,
            attached: None,
            rates: HashMap::new(),
            tier_bytes: VecDeque::new(),
            samples: 0,
            sent_chaos: HashMap::new(),
            areas: Vec::new(),
            heat_page: 10,
            quit: false,
        }
    }

    pub fn theme(&self) -> &Theme {
        &self.themes[self.theme]
    }

    /// "embedded" or "kafka", and what the tiers are.
    pub fn mode(&self) -> String {
        let source = match self.cfg.events.source {
            SourceKind::Embedded => "embedded",
            SourceKind::Kafka => "kafka",
        };
        let s3 = self
            .cfg
            .tiers
            .iter()
            .filter(|t| t.backend == crate::config::Backend::S3)
            .count();
        let tiers = match s3 {
            0 => "local tiers",
            n if n == self.cfg.tiers.len() => "s3",
            _ => "local+s3",
        };
        if source == "kafka" && tiers == "s3" {
            "kafka+s3".into()
        } else {
            format!("{source} · {tiers}")
        }
    }

    /// Takes a new snapshot and extends the histories the sparklines and charts draw.
    pub fn on_snapshot(&mut self, s: Arc<Snapshot>) {
        self.samples += 1;
        let keys: std::collections::HashSet<&str> = s.hottest.iter().map(|o| o.key.as_str()).collect();
        self.rates.retain(|k, _| keys.contains(k.as_str()));
        for o in &s.hottest {
            let h = self.rates.entry(o.key.clone()).or_default();
            h.push_back((o.recent_1h * 100.0).round() as u64);
            if h.len() > HISTORY {
                h.pop_front();
            }
        }
        let samples = self.samples;
        // A snapshot published after the acceptance shows the settings, or what another client
        // set since: either way the engine's word replaces ours.
        self.sent_chaos.retain(|tier, (sent, accepted)| {
            let shown = s.tiers.iter().find(|t| &t.name == tier).map(|t| &t.chaos);
            shown != Some(sent) && accepted.is_none_or(|at| samples < at + 2)
        });
        let bytes: Vec<u64> = s.tiers.iter().map(|t| t.bytes).collect();
        self.tier_bytes.push_back((self.samples as f64, bytes));
        if self.tier_bytes.len() > HISTORY {
            self.tier_bytes.pop_front();
        }
        self.snap = s;
    }

    /// The heat table as shown: filtered by key, sorted.
    pub fn heat_rows(&self) -> Vec<&HotObject> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&HotObject> = self
            .snap
            .hottest
            .iter()
            .filter(|o| needle.is_empty() || o.key.to_lowercase().contains(&needle))
            .collect();
        match self.sort {
            SortKey::PHot => rows.sort_by(|a, b| b.p_hot.total_cmp(&a.p_hot).then(b.recent_1h.total_cmp(&a.recent_1h))),
            SortKey::Rate => rows.sort_by(|a, b| b.recent_1h.total_cmp(&a.recent_1h)),
            SortKey::Size => rows.sort_by_key(|o| std::cmp::Reverse(o.size)),
            SortKey::Key => rows.sort_by(|a, b| a.key.cmp(&b.key)),
        }
        rows
    }

    /// Index of the selected row in `heat_rows()` (the first row when the selection is gone).
    pub fn selected_index(&self, rows: &[&HotObject]) -> usize {
        self.selected_key
            .as_ref()
            .and_then(|k| rows.iter().position(|o| &o.key == k))
            .unwrap_or(0)
    }

    fn selected_object(&self) -> Option<HotObject> {
        let rows = self.heat_rows();
        rows.get(self.selected_index(&rows)).map(|o| (*o).clone())
    }

    fn move_selection(&mut self, delta: isize) {
        let rows = self.heat_rows();
        if rows.is_empty() {
            return;
        }
        let i = self.selected_index(&rows) as isize + delta;
        let i = i.clamp(0, rows.len() as isize - 1) as usize;
        self.selected_key = Some(rows[i].key.clone());
    }

    fn scroll(&mut self, delta: isize) {
        let page = self.heat_page.max(1) as isize;
        let step = |v: &mut usize, d: isize| *v = (*v as isize + d).max(0) as usize;
        if let Some(Overlay::Detail(_) | Overlay::Help | Overlay::Nodes) = self.overlay {
            step(&mut self.detail_scroll, delta);
            return;
        }
        match self.focus {
            Pane::Heat => self.move_selection(delta),
            Pane::Queue => step(&mut self.queue_scroll, delta),
            Pane::Tiers => step(&mut self.tiers_scroll, delta),
            Pane::Chaos => {
                let n = self.cfg.tiers.len() as isize;
                if n > 0 {
                    self.chaos_tier = (self.chaos_tier as isize + delta.signum()).rem_euclid(n) as usize;
                }
            }
            Pane::Logs => {
                use tui_logger::TuiWidgetEvent;
                let ev = if delta < 0 {
                    TuiWidgetEvent::PrevPageKey
                } else {
                    TuiWidgetEvent::NextPageKey
                };
                if delta.abs() >= page {
                    self.log_state.transition(ev);
                } else {
                    self.log_state.transition(if delta < 0 {
                        TuiWidgetEvent::UpKey
                    } else {
                        TuiWidgetEvent::DownKey
                    });
                }
            }
        }
    }

    fn tier_name(&self) -> Option<String> {
        self.cfg.tiers.get(self.chaos_tier).map(|t| t.name.clone())
    }

    /// What is injected on the selected tier: what we last sent, until the engine shows it.
    fn chaos_now(&self) -> ChaosSettings {
        let Some(tier) = self.cfg.tiers.get(self.chaos_tier) else {
            return ChaosSettings::default();
        };
        if let Some((sent, _)) = self.sent_chaos.get(&tier.name) {
            return sent.clone();
        }
        self.snap
            .tiers
            .iter()
            .find(|t| t.name == tier.name)
            .map(|t| t.chaos.clone())
            .unwrap_or_default()
    }

    /// Replaces one tier's chaos with `settings`, as a Command.
    fn chaos(&mut self, settings: ChaosSettings, what: String) -> Vec<Command> {
        let Some(tier) = self.tier_name() else {
            return vec![];
        };
        self.status = Some(format!("chaos on {tier}: {what}"));
        self.sent_chaos.insert(tier.clone(), (settings.clone(), None));
        vec![Command::Chaos { tier, settings }]
    }

    /// The engine's answer to a command this dashboard sent: a refusal shows in the footer, and
    /// chaos it refused stops being the base for the next chaos key.
    pub fn on_answer(&mut self, cmd: &Command, answer: Answer) {
        let tiers: Vec<String> = match cmd {
            Command::Chaos { tier, .. } | Command::ChaosClear { tier: Some(tier) } => vec![tier.clone()],
            Command::ChaosClear { tier: None } => self.cfg.tiers.iter().map(|t| t.name.clone()).collect(),
            _ => vec![],
        };
        match answer {
            Ok(()) => {
                for t in tiers {
                    if let Some((_, accepted)) = self.sent_chaos.get_mut(&t) {
                        *accepted = Some(self.samples);
                    }
                }
            }
            Err(why) => {
                for t in tiers {
                    self.sent_chaos.remove(&t);
                }
                self.refusal = Some(format!("refused: {why}"));
            }
        }
    }
}
