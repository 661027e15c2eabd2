//! Help: every key and what it does, generated from the keymap in force (defaults + overrides).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use crate::app::App;
use crate::panes::pane_block;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let bindings = app.keymap.bindings();
    let rows: Vec<Row> = bindings
        .iter()
        .skip(app.detail_scroll.min(bindings.len().saturating_sub(1)))
        .map(|b| {
            let keys = if b.keys.is_empty() {
                "(unbound)".to_string()
            } else {
                b.keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(" ")
            };
            Row::new(vec![
                Cell::from(Span::styled(keys, theme.accent())),
                Cell::from(Span::styled(b.help, theme.text())),
                Cell::from(Span::styled(b.name, theme.dim())),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [Constraint::Length(14), Constraint::Min(30), Constraint::Length(18)],
    )
    .header(Row::new(vec!["key", "does", "[keymap] name"]).style(theme.header_row()))
    .block(
        pane_block(
            theme,
            "Help · keys (override in the config's [keymap]) · Esc or ? closes".into(),
            true,
        )
        .style(theme.base()),
    );
    f.render_widget(table, area);
}
