//! The overview screen: live counters, tiers and the hottest objects from the latest snapshot.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Sparkline, Table};

use crate::config::Config;
use crate::engine::snapshot::Snapshot;
use crate::status::human_bytes;

fn engine_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

pub fn draw(f: &mut Frame, _cfg: &Config, s: &Snapshot) {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let [header, rate, tiers, hot, footer] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(s.tiers.len() as u16 + 3),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(f.area());

    let lines = vec![
        Line::from(vec![
            Span::styled("dim ", bold),
            Span::raw(format!(
                "source {} ({}) {}   engine time {}  x{}",
                s.source.kind,
                s.source.state,
                s.source.detail,
                engine_time(s.now_ms),
                s.clock_speed
            )),
        ]),
        Line::from(format!(
            "events {} ingested, {} rejected   {:.0} events/s   objects {} ({})   storage ${:.4}/month",
            s.store.events.ingested,
            s.store.events.rejected,
            s.events_per_sec,
            s.store.objects,
            human_bytes(s.store.bytes),
            s.monthly_storage_cost
        )),
    ];
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" Overview ")),
        header,
    );

    f.render_widget(
        Sparkline::default()
            .block(Block::default().borders(Borders::ALL).title(" Events/s "))
            .data(&s.events_per_sec_history),
        rate,
    );

    let rows = s.tiers.iter().map(|t| {
        Row::new(vec![
            t.name.clone(),
            t.backend.clone(),
            t.objects.to_string(),
            human_bytes(t.bytes),
            format!("{:.1}%", 100.0 * t.bytes as f64 / t.capacity_bytes.max(1) as f64),
            format!("{:.0} ms", t.latency_ms),
            format!("${:.3}", t.monthly_storage_cost),
        ])
    });
    let widths = [
        Constraint::Length(14),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(10),
    ];
    f.render_widget(
        Table::new(rows, widths)
            .header(
                Row::new(vec![
                    "tier", "backend", "objects", "bytes", "used", "latency", "$/month",
                ])
                .style(bold),
            )
            .block(Block::default().borders(Borders::ALL).title(" Tiers ")),
        tiers,
    );

    let rows = s.hottest.iter().take(hot.height.saturating_sub(3) as usize).map(|o| {
        Row::new(vec![
            o.key.clone(),
            o.tier.clone().unwrap_or_else(|| "-".into()),
            human_bytes(o.size),
            format!("{:.1}", o.recent_1h),
            format!("{:.1}", o.recent_1d),
            o.reads.to_string(),
            o.writes.to_string(),
        ])
    });
    let widths = [
        Constraint::Min(24),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(7),
    ];
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(vec!["key", "tier", "size", "1h", "1d", "reads", "writes"]).style(bold))
            .block(Block::default().borders(Borders::ALL).title(" Hottest objects ")),
        hot,
    );
    f.render_widget(Paragraph::new(" q quit"), footer);
}
