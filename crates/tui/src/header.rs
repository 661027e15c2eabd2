//! The dashboard's header: what runs and how fast, what the store holds, what it costs, which
//! model serves, the chaos injected and the scenario being played.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use super::app::App;
use super::theme::Theme;
use crate::config::SourceKind;
use crate::engine::ScanState;
use crate::engine::Snapshot;
use crate::engine::SourceState;
use crate::format::{dollars, engine_time, human_bytes, thousands};

/// The header: mode, source and clock; objects and events; cost before and after the plan; the
/// model and chaos; the scenario being played; and the event rate's sparkline.
pub(super) fn draw(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let s = &app.snap;
    let [text, spark] = Layout::horizontal([Constraint::Min(40), Constraint::Length(26)]).areas(area);
    let (l1, l2, l3, l4) = (
        source_line(app, theme),
        store_line(s, theme),
        cost_line(s, theme),
        model_line(s, theme),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(false))
        .title(Span::styled(" dim — Data-in-Motion ", theme.title()));
    f.render_widget(
        Paragraph::new(
            [l1, l2, l3, l4]
                .into_iter()
                .chain(s.scenario.as_ref().map(|sc| scenario_spans(sc, theme)))
                .map(Line::from)
                .collect::<Vec<_>>(),
        )
        .block(block),
        text,
    );
    let data: Vec<u64> = s.events_per_sec_history.clone();
    f.render_widget(
        Sparkline::default()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border(false))
                    .title(Span::styled(" events/s ", theme.title())),
            )
            .style(theme.accent())
            .data(&data),
        spark,
    );
}

fn sep(theme: &Theme) -> Span<'static> {
    Span::styled("  ·  ", theme.dim())
}

/// Mode, attachment, the source's state and the engine clock.
fn source_line(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    let s = &app.snap;
    let source_style = match s.source.state {
        _ if s.source.is_up() => theme.ok(),
        SourceState::Reconnecting => theme.error(),
        _ => theme.warn(),
    };
    let mut l1 = vec![
        Span::styled(app.mode(), theme.accent()),
        sep(theme),
        Span::styled("source ", theme.dim()),
        Span::styled(s.source.state.as_str(), source_style),
    ];
    if let Some((to, connected)) = &app.attached {
        l1.splice(
            1..1,
            [sep(theme), Span::styled(format!("attached {to}"), theme.accent())],
        );
        if !connected {
            l1.splice(3..3, [Span::styled(" reconnecting…", theme.error())]);
        }
    }
    if !s.source.detail.is_empty() {
        l1.push(Span::styled(format!(" {}", s.source.detail), theme.dim()));
    }
    l1.extend([
        sep(theme),
        Span::styled("clock ", theme.dim()),
        Span::styled(format!("×{}", s.clock_speed), theme.text()),
        Span::styled(format!("  {}", engine_time(s.now_ms)), theme.text()),
    ]);
    if s.migrations.paused {
        l1.extend([sep(theme), Span::styled("migrations paused", theme.warn())]);
    }
    l1
}

/// Objects, events (rejected too), the event rate, Kafka's lag and the inventory scan.
fn store_line(s: &Snapshot, theme: &Theme) -> Vec<Span<'static>> {
    let mut l2 = vec![
        Span::styled("objects ", theme.dim()),
        Span::styled(thousands(s.store.objects), theme.text()),
        Span::styled(format!(" ({})", human_bytes(s.store.bytes)), theme.text()),
        sep(theme),
        Span::styled("events ", theme.dim()),
        Span::styled(thousands(s.store.events.ingested), theme.text()),
        Span::styled(
            format!(" ({} rejected)", thousands(s.store.events.rejected)),
            if s.store.events.rejected > 0 {
                theme.warn()
            } else {
                theme.dim()
            },
        ),
        sep(theme),
        Span::styled(format!("{:.0}/s", s.events_per_sec), theme.accent()),
    ];
    if s.source.kind == SourceKind::Kafka {
        l2.extend([
            sep(theme),
            Span::styled("lag ", theme.dim()),
            Span::styled(
                thousands(s.source.lag),
                if s.source.lag > 10_000 {
                    theme.warn()
                } else {
                    theme.text()
                },
            ),
        ]);
    }
    let inv = &s.inventory;
    match inv.state {
        ScanState::Scanning => l2.extend([
            sep(theme),
            Span::styled("inventory ", theme.dim()),
            Span::styled(
                format!(
                    "{} listed on {}",
                    thousands(inv.listed),
                    inv.tier.as_deref().unwrap_or("?")
                ),
                theme.warn(),
            ),
        ]),
        ScanState::Failed => l2.extend([
            sep(theme),
            Span::styled(
                format!("inventory: {}", inv.errors.first().map_or("failed", String::as_str)),
                theme.error(),
            ),
        ]),
        _ if inv.duplicates > 0 => l2.extend([
            sep(theme),
            Span::styled(
                format!("{} objects on two tiers (see log)", inv.duplicates),
                theme.warn(),
            ),
        ]),
        _ => {}
    }
    l2
}

/// What the placement costs a month now and after the last plan.
fn cost_line(s: &Snapshot, theme: &Theme) -> Vec<Span<'static>> {
    let mut l3 = vec![Span::styled("cost ", theme.dim())];
    match &s.plan {
        Some(p) => {
            let saved = p.monthly_now - p.monthly_after;
            l3.extend([
                Span::styled(format!("{}/mo", dollars(p.monthly_now)), theme.text()),
                Span::styled(" → ", theme.dim()),
                Span::styled(format!("{}/mo", dollars(p.monthly_after)), theme.ok()),
                Span::styled(
                    format!(
                        " after plan (saves {}/mo, {:.0} %)",
                        dollars(saved),
                        if p.monthly_now > 0.0 {
                            100.0 * saved / p.monthly_now
                        } else {
                            0.0
                        }
                    ),
                    theme.dim(),
                ),
            ]);
        }
        None => l3.extend([
            Span::styled(format!("{}/mo", dollars(s.monthly_storage_cost)), theme.text()),
            Span::styled(" storage (no plan yet)", theme.dim()),
        ]),
    }
    l3
}

/// Which model and forecast serve and why, and the chaos injected.
fn model_line(s: &Snapshot, theme: &Theme) -> Vec<Span<'static>> {
    let mut l4 = vec![Span::styled("model ", theme.dim())];
    // Which model serves and why: "heuristic serving: forest PR-AUC 0.71 < heuristic 0.82".
    let serving = if s.model.serving.is_empty() || (s.model.holdout.is_none() && s.model.note.is_empty()) {
        "heuristic serving (not trained yet)".to_string()
    } else {
        s.model.serving_line()
    };
    let style = if s.model.serving == "forest" {
        theme.ok()
    } else {
        theme.warn()
    };
    l4.push(Span::styled(serving, style));
    if s.model.forecast.brier_learned.is_some() {
        l4.push(sep(theme));
        l4.push(Span::styled(
            s.model.forecast.line(),
            if s.model.forecast.serving == "learned" {
                theme.ok()
            } else {
                theme.warn()
            },
        ));
    }
    l4.push(sep(theme));
    let active: Vec<String> = s
        .tiers
        .iter()
        .filter(|t| t.chaos.is_active())
        .map(|t| format!("{} {}", t.name, t.chaos))
        .collect();
    l4.push(Span::styled("chaos ", theme.dim()));
    if active.is_empty() {
        l4.push(Span::styled("none", theme.ok()));
    } else {
        l4.push(Span::styled(active.join("; "), theme.error()));
    }
    l4
}

/// A scenario span of engine time, compact: `2h10m`, `45m`, `30s`.
fn span_of(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (h, m) = (secs / 3600, secs / 60 % 60);
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m"),
        (100.., _) => format!("{}d{:02}h", h / 24, h % 24),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

/// The scenario being played: name, step k/n, elapsed of total, the next step; or how it ended.
fn scenario_spans<'a>(sc: &crate::engine::ScenarioView, theme: &Theme) -> Vec<Span<'a>> {
    let mut v = vec![
        Span::styled("scenario ", theme.dim()),
        Span::styled(sc.name.clone(), theme.accent()),
    ];
    if sc.finished {
        let ok = sc.results.iter().filter(|r| r.ok).count();
        let all_ok = ok == sc.results.len();
        v.push(Span::styled(
            format!(" finished: {ok}/{} expectations hold", sc.results.len()),
            if all_ok { theme.ok() } else { theme.error() },
        ));
        return v;
    }
    if sc.waiting {
        v.push(Span::styled(" starts once seeding is done", theme.warn()));
        return v;
    }
    v.push(Span::styled(
        format!(
            " step {}/{}  {}/{}",
            sc.step,
            sc.steps,
            span_of(sc.elapsed_ms),
            span_of(sc.duration_ms)
        ),
        theme.text(),
    ));
    if sc.paused {
        v.push(Span::styled("  paused (space)", theme.warn()));
    }
    if let Some((at, what)) = &sc.next {
        v.push(Span::styled(format!("  next @{}: {what}", span_of(*at)), theme.dim()));
    }
    v
}
