//! Nodes: every dim node sharing this engine's store (PostgreSQL), with the partitions it holds,
//! its lag, its moves in flight and which one plans; a node silent past its lease shows as lost.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::app::App;
use crate::engine::NodeView;
use crate::panes::pane_block;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let title = "Nodes · the cluster sharing this store · Esc or N closes";
    let Some(c) = app.snap.cluster.clone() else {
        let p = Paragraph::new(vec![
            Line::styled(
                "this engine is the only node: its store is an SQLite file",
                theme.text(),
            ),
            Line::styled(
                "several nodes share a PostgreSQL store: set store.url in the config of each",
                theme.dim(),
            ),
        ])
        .block(pane_block(theme, title.into(), true).style(theme.base()));
        f.render_widget(p, area);
        return;
    };
    let leader = c.leader().map(str::to_string);
    let rows: Vec<Row> = c
        .nodes
        .iter()
        .skip(app.detail_scroll.min(c.nodes.len().saturating_sub(1)))
        .map(|n| node_row(n, &c.this, leader.as_deref(), theme))
        .collect();
    let unowned = if c.unowned.is_empty() {
        format!("{} nodes · every partition held", c.nodes.len())
    } else {
        format!(
            "{} nodes · partitions waiting for a node: {:?}",
            c.nodes.len(),
            c.unowned
        )
    };
    let table = Table::new(
        rows,
        [
            Constraint::Min(18),
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Length(14),
            Constraint::Length(8),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(10),
        ],
    )
    .header(
        Row::new(vec!["node", "state", "", "partitions", "lag", "moves", "ev/s", "heard"]).style(theme.header_row()),
    )
    .block(pane_block(theme, format!("{title} · {unowned}"), true).style(theme.base()));
    f.render_widget(table, area);
}

/// One node's row: name, live or lost, leader, partitions held, lag, moves, ingest rate, heard.
fn node_row<'a>(n: &NodeView, this: &str, leader: Option<&str>, theme: &Theme) -> Row<'a> {
    let state = if n.lost {
        Span::styled("lost", theme.error())
    } else {
        Span::styled("live", theme.ok())
    };
    let mut name = n.id.clone();
    if n.id == this {
        name.push_str(" (this)");
    }
    let parts = n.partitions.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",");
    Row::new(vec![
        Cell::from(Span::styled(name, theme.text())),
        Cell::from(state),
        Cell::from(Span::styled(
            if leader == Some(n.id.as_str()) { "leader" } else { "" },
            theme.accent(),
        )),
        Cell::from(Span::styled(
            if parts.is_empty() { "-".into() } else { parts },
            theme.text(),
        )),
        Cell::from(Span::styled(n.info.lag.to_string(), theme.text())),
        Cell::from(Span::styled(n.info.tasks_in_flight.to_string(), theme.text())),
        Cell::from(Span::styled(format!("{:.0}", n.info.events_per_sec), theme.text())),
        Cell::from(Span::styled(
            format!("{:.1} s ago", n.silent_ms as f64 / 1000.0),
            theme.dim(),
        )),
    ])
}
