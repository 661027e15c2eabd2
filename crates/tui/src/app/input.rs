//! Keys and mouse: each becomes an action, and an action changes the view or becomes `Command`s.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::{App, LOG_LEVELS, Overlay, Pane};
use crate::engine::ChaosSettings;
use crate::engine::Command;
use crate::keymap::Action;

impl App {
    /// Handles one key press; returns the Commands it sends to the engine.
    pub fn handle_key(&mut self, k: KeyEvent) -> Vec<Command> {
        self.refusal = None;
        if let Some(Overlay::Fatal(_)) = self.overlay {
            self.quit = true;
            return vec![];
        }
        if self.filtering {
            match k.code {
                KeyCode::Esc => {
                    self.filtering = false;
                    self.filter.clear();
                }
                KeyCode::Enter => self.filtering = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => self.quit = true,
                KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => self.filter.push(c),
                KeyCode::Up | KeyCode::Down => {
                    self.move_selection(if k.code == KeyCode::Up { -1 } else { 1 });
                }
                _ => {}
            }
            return vec![];
        }
        match self.keymap.action(&k) {
            Some(a) => self.act(a),
            None => vec![],
        }
    }

    /// Performs one named action.
    pub fn act(&mut self, a: Action) -> Vec<Command> {
        match a {
            Action::ClearAllChaos
            | Action::ClearChaos
            | Action::CycleErrors
            | Action::CycleLatency
            | Action::SelectTier(_)
            | Action::ToggleOutage => self.act_on_chaos(a),
            Action::OptimizeNow
            | Action::Pin
            | Action::Rescan
            | Action::RetrainNow
            | Action::RetryFailed
            | Action::TogglePause
            | Action::ToggleScenario => self.act_on_engine(a),
            Action::Quit
            | Action::FocusNext
            | Action::FocusPrev
            | Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Filter
            | Action::Sort
            | Action::Detail
            | Action::Back
            | Action::Help
            | Action::Nodes
            | Action::CycleTheme
            | Action::LogLevel => self.act_on_view(a),
        }
    }

    /// Moving around the dashboard: focus, scrolling, filter, sort, detail, help, theme, logs.
    fn act_on_view(&mut self, a: Action) -> Vec<Command> {
        let page = self.heat_page.max(1) as isize;
        match a {
            Action::Quit => self.quit = true,
            Action::FocusNext | Action::FocusPrev => {
                let i = Pane::ALL.iter().position(|p| *p == self.focus).unwrap_or(0) as isize;
                let d = if a == Action::FocusNext { 1 } else { -1 };
                self.focus = Pane::ALL[(i + d).rem_euclid(Pane::ALL.len() as isize) as usize];
            }
            Action::Up => self.scroll(-1),
            Action::Down => self.scroll(1),
            Action::PageUp => self.scroll(-page),
            Action::PageDown => self.scroll(page),
            Action::Filter => {
                self.focus = Pane::Heat;
                self.filtering = true;
            }
            Action::Sort => {
                self.sort = self.sort.next();
                self.status = Some(format!("sorted by {}", self.sort.label()));
            }
            Action::Detail => {
                if self.focus == Pane::Heat
                    && let Some(o) = self.selected_object()
                {
                    self.selected_key = Some(o.key.clone());
                    self.overlay = Some(Overlay::Detail(o.key.clone()));
                    self.detail_scroll = 0;
                    return vec![Command::Inspect { key: Some(o.key) }];
                }
            }
            Action::Back => {
                match self.overlay.take() {
                    Some(Overlay::Detail(_)) => return vec![Command::Inspect { key: None }],
                    Some(o @ Overlay::Fatal(_)) => self.overlay = Some(o),
                    Some(Overlay::Help | Overlay::Nodes) => {}
                    None => self.filter.clear(),
                }
                self.status = None;
            }
            Action::Help => {
                self.overlay = match self.overlay {
                    Some(Overlay::Help) => None,
                    _ => Some(Overlay::Help),
                };
                self.detail_scroll = 0;
            }
            Action::Nodes => {
                self.overlay = match self.overlay {
                    Some(Overlay::Nodes) => None,
                    _ => Some(Overlay::Nodes),
                };
                self.detail_scroll = 0;
            }
            Action::CycleTheme => {
                self.theme = (self.theme + 1) % self.themes.len().max(1);
                self.status = Some(format!("theme {}", self.theme().name));
            }
            Action::LogLevel => {
                self.log_level = (self.log_level + 1) % LOG_LEVELS.len();
                let level = LOG_LEVELS[self.log_level];
                self.log_state = tui_logger::TuiWidgetState::new().set_default_display_level(level);
                self.status = Some(format!("logs at {level} and above"));
            }
            _ => {}
        }
        vec![]
    }

    /// The chaos keys: which tier they act on and what they inject there.
    fn act_on_chaos(&mut self, a: Action) -> Vec<Command> {
        match a {
            Action::SelectTier(n) => {
                let i = usize::from(n).saturating_sub(1);
                match self.cfg.tiers.get(i) {
                    Some(t) => {
                        self.chaos_tier = i;
                        self.status = Some(format!("chaos keys act on {}", t.name));
                    }
                    None => self.status = Some(format!("there is no tier {n}")),
                }
            }
            Action::CycleLatency => {
                let steps: Vec<f64> = self.cfg.chaos.latency_steps_ms.iter().map(|v| *v as f64).collect();
                let mut s = self.chaos_now();
                let next = next_step(&steps, s.latency_ms as f64) as u64;
                s.latency_ms = next;
                return self.chaos(s, format!("latency {next} ms"));
            }
            Action::CycleErrors => {
                let steps = &self.cfg.chaos.error_rate_steps;
                let mut s = self.chaos_now();
                let next = next_step(steps, s.error_rate);
                s.error_rate = next;
                s.error_kind = Some(s.error_kind.unwrap_or(self.cfg.chaos.error_kind));
                return self.chaos(s, format!("{next} % errors"));
            }
            Action::ToggleOutage => {
                let mut s = self.chaos_now();
                s.outage = !s.outage;
                let what = if s.outage { "outage" } else { "outage over" }.to_string();
                return self.chaos(s, what);
            }
            Action::ClearChaos => {
                if let Some(tier) = self.tier_name() {
                    self.status = Some(format!("chaos cleared on {tier}"));
                    self.sent_chaos.insert(tier.clone(), (ChaosSettings::default(), None));
                    return vec![Command::ChaosClear { tier: Some(tier) }];
                }
            }
            Action::ClearAllChaos => {
                self.status = Some("chaos cleared on every tier".into());
                for t in &self.cfg.tiers {
                    self.sent_chaos.insert(t.name.clone(), (ChaosSettings::default(), None));
                }
                return vec![Command::ChaosClear { tier: None }];
            }
            _ => {}
        }
        vec![]
    }

    /// Commands to the engine: migrations, planning, training, inventory, pins, the scenario.
    fn act_on_engine(&mut self, a: Action) -> Vec<Command> {
        match a {
            Action::TogglePause => {
                return if self.snap.migrations.paused {
                    self.status = Some("migrations resumed".into());
                    vec![Command::ResumeMigrations]
                } else {
                    self.status = Some("migrations paused".into());
                    vec![Command::PauseMigrations]
                };
            }
            Action::RetryFailed => {
                self.status = Some("failed migrations queued again".into());
                return vec![Command::RetryFailed];
            }
            Action::OptimizeNow => {
                self.status = Some("planning placement now".into());
                return vec![Command::OptimizeNow];
            }
            Action::RetrainNow => {
                self.status = Some("retraining the model now".into());
                return vec![Command::RetrainNow];
            }
            Action::Rescan => {
                self.status = Some("listing every tier again (inventory)".into());
                return vec![Command::Rescan];
            }
            Action::Pin => {
                if let Some(o) = self.selected_object() {
                    let pinned = !o.pinned;
                    self.status = Some(format!("{} {}", if pinned { "pinned" } else { "unpinned" }, o.key));
                    return vec![Command::Pin { key: o.key, pinned }];
                }
            }
            Action::ToggleScenario => match &self.snap.scenario {
                Some(sc) if !sc.finished => {
                    let paused = !sc.paused;
                    self.status = Some(format!(
                        "scenario {} {}",
                        sc.name,
                        if paused { "paused" } else { "resumed" }
                    ));
                    return vec![Command::PauseScenario { paused }];
                }
                Some(sc) => self.status = Some(format!("scenario {} has finished", sc.name)),
                None => self.status = Some("no scenario is playing (start one with --scenario NAME|FILE)".into()),
            },
            _ => {}
        }
        vec![]
    }

    /// Click focuses the pane under the pointer; the wheel scrolls it.
    pub fn handle_mouse(&mut self, m: MouseEvent) -> Vec<Command> {
        let at = Position::new(m.column, m.row);
        let pane = self.areas.iter().find(|(_, r)| r.contains(at)).map(|(p, _)| *p);
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(p) = pane
                    && self.overlay.is_none()
                {
                    self.focus = p;
                }
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                if let Some(p) = pane
                    && self.overlay.is_none()
                {
                    self.focus = p;
                }
                self.scroll(if m.kind == MouseEventKind::ScrollUp { -1 } else { 1 });
            }
            _ => {}
        }
        vec![]
    }
}

fn next_step(steps: &[f64], current: f64) -> f64 {
    if steps.is_empty() {
        return 0.0;
    }
    match steps.iter().position(|s| (s - current).abs() < 1e-9) {
        Some(i) => steps[(i + 1) % steps.len()],
        None => steps[0],
    }
}
