//! Chaos: what is injected on each tier right now, which tier the keys act on, and the keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, Pane};
use crate::keymap::Action;
use crate::panes::pane_block;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let focused = app.focus == Pane::Chaos;
    let block = pane_block(theme, Pane::Chaos.title().to_string(), focused);
    let mut lines = Vec::new();
    for (i, t) in app.snap.tiers.iter().enumerate() {
        let sel = i == app.chaos_tier;
        let state = t.chaos.to_string();
        let style = if t.chaos.is_active() { theme.error() } else { theme.ok() };
        lines.push(Line::from(vec![
            Span::styled(if sel { "▸" } else { " " }, theme.accent()),
            Span::styled(
                format!("{} {:<13}", i + 1, t.name),
                if sel {
                    theme.tier(i).add_modifier(ratatui::style::Modifier::BOLD)
                } else {
                    theme.tier(i)
                },
            ),
            Span::styled(state, style),
        ]));
        if let Some(e) = t.last_error.as_ref().filter(|_| t.chaos.is_active() || sel) {
            lines.push(Line::styled(format!("   last error: {e}"), theme.dim()));
        }
    }
    if app.snap.tiers.is_empty() {
        lines.push(Line::styled("no tiers yet", theme.dim()));
    }
    let key = |a: Action| {
        app.keymap
            .key_of(a)
            .map(|k| k.to_string())
            .unwrap_or_else(|| "—".into())
    };
    let steps = |v: Vec<String>| v.join("/");
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(format!("{} ", key(Action::CycleLatency)), theme.accent()),
        Span::styled(
            format!(
                "latency {} ms  ",
                steps(app.cfg.chaos.latency_steps_ms.iter().map(|v| v.to_string()).collect())
            ),
            theme.dim(),
        ),
        Span::styled(format!("{} ", key(Action::CycleErrors)), theme.accent()),
        Span::styled(
            format!(
                "errors {} %",
                steps(app.cfg.chaos.error_rate_steps.iter().map(|v| v.to_string()).collect())
            ),
            theme.dim(),
        ),
    ]));
    lines.push(Line::from(vec![
        Span::styled(format!("{} ", key(Action::ToggleOutage)), theme.accent()),
        Span::styled("outage  ", theme.dim()),
        Span::styled(format!("{} ", key(Action::ClearChaos)), theme.accent()),
        Span::styled("clear  ", theme.dim()),
        Span::styled(format!("{} ", key(Action::ClearAllChaos)), theme.accent()),
        Span::styled("clear all  ", theme.dim()),
        Span::styled("1-9 ", theme.accent()),
        Span::styled("tier", theme.dim()),
    ]));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
