//! File heat: the engine's hottest objects with p_hot, access-rate sparkline, tier and planned tier.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::{bar, spark};
use crate::app::{App, Pane};
use crate::format::human_bytes;
use crate::panes::pane_block;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let focused = app.focus == Pane::Heat;
    let rows = app.heat_rows();
    let total = app.snap.hottest.len();
    let mut title = format!("{} · top {} by {}", Pane::Heat.title(), total, app.sort.label());
    if !app.filter.is_empty() {
        title.push_str(&format!(" · /{} ({} match)", app.filter, rows.len()));
    }
    let block = pane_block(theme, title, focused);
    if rows.is_empty() {
        let msg = if total == 0 {
            "no accesses yet: objects appear here as events arrive"
        } else {
            "no object matches the filter (Esc clears it)"
        };
        f.render_widget(Paragraph::new(Line::styled(msg, theme.dim())).block(block), area);
        return;
    }
    // Below 100 columns the trend sparkline and rate give way to the key.
    let wide = area.width >= 100;
    let threshold = app.cfg.sla.hot_threshold;
    let selected = app.selected_index(&rows);
    let tier_index = |name: &str| app.cfg.tiers.iter().position(|t| t.name == name);
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|o| {
            let tier = o.tier.clone().unwrap_or_else(|| "—".into());
            let tier_style = tier_index(&tier).map_or(theme.dim(), |i| theme.tier(i));
            let heat = theme.heat(o.p_hot, threshold);
            let planned = match (&o.planned_tier, o.pinned) {
                (Some(p), _) if Some(p) != o.tier.as_ref() => {
                    let st = tier_index(p).map_or(theme.dim(), |i| theme.tier(i));
                    Line::from(vec![Span::styled("→ ", theme.accent()), Span::styled(p.clone(), st)])
                }
                (_, true) => Line::styled("pinned", theme.dim()),
                _ => Line::styled("·", theme.dim()),
            };
            let hist: Vec<u64> = app
                .rates
                .get(&o.key)
                .map(|h| h.iter().copied().collect())
                .unwrap_or_default();
            let mut cells = vec![
                Cell::from(Span::styled(o.key.clone(), theme.text())),
                Cell::from(Span::styled(format!("{:>9}", human_bytes(o.size)), theme.text())),
                Cell::from(Span::styled(tier, tier_style)),
                Cell::from(Line::from(vec![
                    Span::styled(bar(o.p_hot, 5), heat),
                    Span::styled(format!(" {:.2}", o.p_hot), heat),
                ])),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(spark(&hist, 8), theme.accent())));
                cells.push(Cell::from(Span::styled(format!("{:>7.1}", o.recent_1h), theme.text())));
            }
            cells.push(Cell::from(planned));
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(12),
        Constraint::Length(10),
    ];
    let mut header = vec!["key", "     size", "tier", "p_hot"];
    if wide {
        widths.extend([Constraint::Length(8), Constraint::Length(7)]);
        header.extend(["trend", "  acc/h"]);
    }
    widths.push(Constraint::Length(14));
    header.push("planned");
    let table = Table::new(table_rows, widths)
        .header(Row::new(header).style(theme.header_row()))
        .row_highlight_style(if focused { theme.selection() } else { theme.accent() })
        .block(block);
    app.heat_page = area.height.saturating_sub(3) as usize;
    let mut state = TableState::default().with_selected(Some(selected));
    f.render_stateful_widget(table, area, &mut state);
}
