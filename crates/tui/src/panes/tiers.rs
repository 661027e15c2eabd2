//! Tier placement: per tier objects, bytes against capacity, cost, nominal vs measured latency and
//! error rate, and a chart of bytes per tier over time.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Cell, Chart, Dataset, GraphType, Row, Table};

use super::bar;
use crate::app::{App, Pane};
use crate::engine::TierView;
use crate::format::dollars;
use crate::format::human_bytes;
use crate::panes::pane_block;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let focused = app.focus == Pane::Tiers;
    let s = app.snap.clone();
    let block = pane_block(theme, Pane::Tiers.title().to_string(), focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let table_h = (s.tiers.len() as u16 + 1).min(inner.height);
    let [table_area, chart_area] = Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(inner);

    // Every column fits from 64 columns; below that cost, latency and error rate give way (the
    // header still shows the total cost).
    let wide = inner.width >= 64;
    let rows: Vec<Row> = s
        .tiers
        .iter()
        .enumerate()
        .skip(app.tiers_scroll.min(s.tiers.len().saturating_sub(1)))
        .map(|(i, t)| tier_row(i, t, i == app.chaos_tier, wide, theme))
        .collect();
    let mut widths = vec![
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(9),
    ];
    let mut header = vec![" tier", "  objs", "used", "    bytes"];
    if wide {
        widths.extend([Constraint::Length(7), Constraint::Length(8), Constraint::Length(5)]);
        header.extend(["   $/mo", "ms n/mea", "  err"]);
    }
    f.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(theme.header_row())),
        table_area,
    );

    draw_chart(f, app, theme, &s.tiers, chart_area);
}

/// Tier `i`'s row: objects, fill against capacity, bytes and, when `wide`, cost, nominal and
/// measured latency and error rate; `chaos_keys` marks the tier the chaos keys act on.
fn tier_row(i: usize, t: &TierView, chaos_keys: bool, wide: bool, theme: &Theme) -> Row<'static> {
    let used = match t.capacity_bytes {
        Some(c) if c > 0 => t.bytes as f64 / c as f64,
        _ => 0.0,
    };
    let used_style = if used >= 0.95 {
        theme.error()
    } else if used >= 0.8 {
        theme.warn()
    } else {
        theme.tier(i)
    };
    let err_rate = if t.ops > 0 { t.errors as f64 / t.ops as f64 } else { 0.0 };
    let marker = if chaos_keys { "▸" } else { " " };
    let mut cells = vec![
        Cell::from(Line::from(vec![
            Span::styled(marker, theme.accent()),
            Span::styled(format!("{} {}", i + 1, t.name), theme.tier(i)),
        ])),
        Cell::from(Span::styled(format!("{:>6}", t.objects), theme.text())),
        Cell::from(match t.capacity_bytes {
            Some(_) => Line::from(vec![
                Span::styled(bar(used, 3), used_style),
                Span::styled(format!("{:>4.0}%", used * 100.0), used_style),
            ]),
            None => Line::from(Span::styled("   no cap", theme.dim())),
        }),
        Cell::from(Span::styled(format!("{:>9}", human_bytes(t.bytes)), theme.text())),
    ];
    if wide {
        cells.push(Cell::from(Span::styled(
            format!("{:>7}", dollars(t.monthly_storage_cost)),
            theme.text(),
        )));
        let measured = if t.ops > 0 {
            format!("{:.0}", t.measured_latency_ms)
        } else {
            "—".into()
        };
        let lat_style = if t.ops > 0 && t.measured_latency_ms > t.latency_ms * 2.0 {
            theme.warn()
        } else {
            theme.text()
        };
        cells.push(Cell::from(Span::styled(
            format!("{:>3.0}/{:<4}", t.latency_ms, measured),
            lat_style,
        )));
        cells.push(Cell::from(Span::styled(
            format!("{:>4.0}%", err_rate * 100.0),
            if err_rate > 0.0 { theme.error() } else { theme.dim() },
        )));
    }
    Row::new(cells)
}

/// Bytes per tier over time, MiB (when there is room and history for a chart).
fn draw_chart(f: &mut Frame, app: &App, theme: &Theme, tiers: &[TierView], area: Rect) {
    if area.height < 5 || app.tier_bytes.len() < 2 {
        return;
    }
    let series: Vec<Vec<(f64, f64)>> = (0..tiers.len())
        .map(|j| {
            app.tier_bytes
                .iter()
                .map(|(x, b)| (*x, b.get(j).copied().unwrap_or(0) as f64 / (1u64 << 20) as f64))
                .collect()
        })
        .collect();
    let x0 = app.tier_bytes.front().map_or(0.0, |p| p.0);
    let x1 = app.tier_bytes.back().map_or(1.0, |p| p.0).max(x0 + 1.0);
    let ymax = series.iter().flatten().map(|p| p.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
    let datasets: Vec<Dataset> = series
        .iter()
        .enumerate()
        .map(|(j, pts)| {
            Dataset::default()
                .name(tiers[j].name.clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.tier(j))
                .data(pts)
        })
        .collect();
    let chart = Chart::new(datasets)
        .x_axis(Axis::default().bounds([x0, x1]).style(theme.dim()))
        .y_axis(
            Axis::default()
                .bounds([0.0, ymax])
                .labels(vec![
                    Span::styled("0", theme.dim()),
                    Span::styled(format!("{ymax:.0} MiB"), theme.dim()),
                ])
                .style(theme.dim()),
        )
        .legend_position(Some(ratatui::widgets::LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(60)));
    f.render_widget(chart, area);
}
