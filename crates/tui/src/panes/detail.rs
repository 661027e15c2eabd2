//! Detail: why the selected object is where it is — features, p_hot, the forecast serving and
//! its chance of a read beside the prior's, cost per tier by part, the chosen tier, binding
//! constraints and its task history (the engine's `explain`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::App;
use crate::config::Config;
use crate::engine::Explanation;
use crate::engine::TaskState;
use crate::format::human_bytes;
use crate::panes::pane_block;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect, key: &str) {
    let block = pane_block(theme, format!("Detail · {key} · Esc closes"), true).style(theme.base());
    let s = app.snap.clone();
    let e = match (&s.detail, &s.detail_error) {
        (Some(e), _) if e.key == key => e,
        (_, Some(err)) => {
            f.render_widget(
                Paragraph::new(Line::styled(err.clone(), theme.error())).block(block),
                area,
            );
            return;
        }
        _ => {
            f.render_widget(
                Paragraph::new(Line::styled("asking the engine…", theme.dim())).block(block),
                area,
            );
            return;
        }
    };
    let mut lines = summary_lines(e, &app.cfg, theme);
    lines.extend(cost_lines(e, &app.cfg, theme));
    lines.extend(constraint_and_feature_lines(e, theme));
    lines.extend(task_lines(e, theme));
    let max = lines.len().saturating_sub(area.height.saturating_sub(2) as usize);
    app.detail_scroll = app.detail_scroll.min(max);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll as u16, 0))
            .block(block),
        area,
    );
}

/// The object, its p_hot and model, its rates, the reads expected and the forecast's chance of a
/// read beside the prior's.
fn summary_lines(e: &Explanation, cfg: &Config, theme: &Theme) -> Vec<Line<'static>> {
    let tier_index = |name: &str| cfg.tiers.iter().position(|t| t.name == name);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{}  ", e.key), theme.title()),
            Span::styled(format!("{} on ", human_bytes(e.size)), theme.text()),
            Span::styled(
                e.tier.clone().unwrap_or_else(|| "no tier".into()),
                e.tier
                    .as_deref()
                    .and_then(tier_index)
                    .map_or(theme.dim(), |i| theme.tier(i)),
            ),
        ]),
        Line::from(vec![
            Span::styled("p_hot ", theme.dim()),
            Span::styled(
                format!("{:.3} ({})", e.p_hot, if e.hot { "hot" } else { "cold" }),
                theme.heat(e.p_hot, cfg.sla.hot_threshold),
            ),
            Span::styled(format!(" from the {} model", e.model.serving), theme.text()),
            Span::styled(
                e.model
                    .holdout
                    .as_ref()
                    .map(|h| format!(", holdout PR-AUC {:.3}", h.pr_auc))
                    .unwrap_or_default(),
                theme.dim(),
            ),
        ]),
        Line::styled(
            format!(
                "rate {:.2}/h hour, {:.3}/h day, {:.3}/h week, {:.4}/h long-run",
                e.rate_recent, e.rate_day, e.rate_week, e.rate_long
            ),
            theme.text(),
        ),
        Line::styled(
            format!(
                "reads expected {}{}",
                e.expected_reads
                    .iter()
                    .map(|(n, r)| format!("{r:.1} next {n}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                e.life_days.map(|d| format!(" · life {d:.0} d")).unwrap_or_default()
            ),
            theme.text(),
        ),
    ];
    if !e.chance_of_read.is_empty() {
        // Which forecast prices the object, and its chance of a read beside the prior's.
        lines.push(Line::styled(e.forecast_serving.clone(), theme.dim()));
        let chances: Vec<String> = e
            .chance_of_read
            .iter()
            .map(|c| match c.learned {
                Some(l) => format!("{} {l:.2}/{:.2}", c.within, c.prior),
                None => format!("{} —/{:.2}", c.within, c.prior),
            })
            .collect();
        lines.push(Line::styled(
            format!("chance of a read, learned/prior: {}", chances.join(", ")),
            theme.text(),
        ));
    }
    lines
}

/// Its cost on every tier by part, whether the SLA allows it there, the chosen and current tier.
fn cost_lines(e: &Explanation, cfg: &Config, theme: &Theme) -> Vec<Line<'static>> {
    let tier_index = |name: &str| cfg.tiers.iter().position(|t| t.name == name);
    let mut lines = vec![
        Line::raw(""),
        Line::styled(
            format!(
                "{:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  sla",
                "tier", "storage $", "reads $", "restore $", "move $", "min-dur $", "return $", "total $"
            ),
            theme.header_row(),
        ),
    ];
    for c in &e.costs {
        let chosen = Some(&c.tier) == e.chosen.as_ref();
        let current = Some(&c.tier) == e.tier.as_ref();
        let style = tier_index(&c.tier).map_or(theme.text(), |i| theme.tier(i));
        lines.push(Line::from(vec![
            Span::styled(format!("{:<14}", c.tier), style),
            Span::styled(
                format!(
                    " {:>9.5} {:>9.5} {:>9.5} {:>9.5} {:>9.5} {:>9.5} {:>9.5}  ",
                    c.storage,
                    c.requests + c.retrieval,
                    c.restore,
                    c.migration,
                    c.min_duration,
                    c.return_trip,
                    c.total
                ),
                theme.text(),
            ),
            Span::styled(
                if c.sla_ok { "ok" } else { "no" },
                if c.sla_ok { theme.ok() } else { theme.error() },
            ),
            Span::styled(
                match (chosen, current) {
                    (true, true) => "  ← chosen (stays)",
                    (true, false) => "  ← chosen",
                    (false, true) => "  (current)",
                    _ => "",
                },
                theme.accent(),
            ),
        ]));
    }
    lines
}

/// The constraints that hold it, and the features the model saw.
fn constraint_and_feature_lines(e: &Explanation, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if !e.constraints.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("constraints", theme.header_row()));
        for c in &e.constraints {
            lines.push(Line::styled(format!("  {c}"), theme.warn()));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("features", theme.header_row()));
    for pair in e.features.chunks(2) {
        let cell = |(n, v): &(String, f64)| format!("  {n:<24}{v:>10.3}");
        let mut text = cell(&pair[0]);
        if let Some(p) = pair.get(1) {
            text.push_str(&format!("    {}", cell(p)));
        }
        lines.push(Line::styled(text, theme.text()));
    }
    lines
}

/// Its migration tasks, with their states and reasons.
fn task_lines(e: &Explanation, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    lines.push(Line::raw(""));
    lines.push(Line::styled("tasks", theme.header_row()));
    if e.tasks.is_empty() {
        lines.push(Line::styled("  none", theme.dim()));
    }
    for t in &e.tasks {
        let st = match t.state {
            TaskState::Failed => theme.error(),
            TaskState::Deferred | TaskState::Restoring => theme.warn(),
            TaskState::Done => theme.ok(),
            _ => theme.accent(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  #{} {} → {}: ", t.id, t.src, t.dst), theme.text()),
            Span::styled(t.state.as_str(), st),
            Span::styled(
                t.reason
                    .as_deref()
                    .map(|r| format!(" ({r}, attempts {})", t.attempts))
                    .unwrap_or_default(),
                theme.dim(),
            ),
        ]));
    }
    lines
}
