//! The whole screen: header, the five panes, footer and overlays, laid out for the terminal's size.

use crate::format::{dollars, engine_time, thousands};
use crate::tui::panes::pane_block;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Sparkline};

use super::app::{App, Overlay, Pane};
use super::panes;
use super::theme::Theme;
use crate::config::SourceKind;
use crate::engine::events::SourceState;
use crate::engine::inventory::ScanState;
use crate::format::human_bytes;

/// Smallest terminal the dashboard draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    let theme = app.theme().clone();
    f.render_widget(Block::default().style(theme.base()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(f, &theme, area);
        app.areas.clear();
        return;
    }
    // A scenario being played gets a header line of its own.
    let header_h = if app.snap.scenario.is_some() { 7 } else { 6 };
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(header_h), Constraint::Min(10), Constraint::Length(1)]).areas(area);
    draw_header(f, app, &theme, header);

    // File heat is the main table and gets the full width; tiers beside the queue; chaos beside
    // the logs. Heights scale with the terminal.
    let bottom_h = if body.height >= 30 { 9 } else { 6 };
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Percentage(38),
        Constraint::Min(6),
        Constraint::Length(bottom_h),
    ])
    .areas(body);
    let heat = top;
    let [tiers, queue] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(middle);
    let [chaos, logs] = Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(bottom);
    app.areas = vec![
        (Pane::Heat, heat),
        (Pane::Tiers, tiers),
        (Pane::Queue, queue),
        (Pane::Chaos, chaos),
        (Pane::Logs, logs),
    ];
    panes::heat::draw(f, app, &theme, heat);
    panes::tiers::draw(f, app, &theme, tiers);
    panes::queue::draw(f, app, &theme, queue);
    panes::chaos::draw(f, app, &theme, chaos);
    panes::logs::draw(f, app, &theme, logs);
    draw_footer(f, app, &theme, footer);

    draw_overlay(f, app, &theme, area);
}

/// What the dashboard says instead of its panes in a terminal smaller than it needs.
fn draw_too_small(f: &mut Frame, theme: &Theme, area: Rect) {
    let msg = vec![
        Line::styled("terminal too small", theme.warn()),
        Line::styled(
            format!(
                "{}×{} here; dim needs at least {MIN_WIDTH}×{MIN_HEIGHT}",
                area.width, area.height
            ),
            theme.text(),
        ),
        Line::styled("enlarge the window, or q to quit", theme.dim()),
    ];
    let y = area.y + area.height.saturating_sub(3) / 2;
    f.render_widget(
        Paragraph::new(msg).alignment(Alignment::Center),
        Rect::new(area.x, y, area.width, 3.min(area.height)),
    );
}

/// The detail, help or fatal-error window over the panes, when one is open.
fn draw_overlay(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    match app.overlay.clone() {
        Some(Overlay::Detail(key)) => {
            let r = centered(area, 92, 88);
            f.render_widget(Clear, r);
            panes::detail::draw(f, app, theme, r, &key);
        }
        Some(Overlay::Help) => {
            let r = centered(area, 80, 90);
            f.render_widget(Clear, r);
            panes::help::draw(f, app, theme, r);
        }
        Some(Overlay::Fatal(msg)) => {
            let r = centered(area, 70, 40);
            f.render_widget(Clear, r);
            let p = Paragraph::new(vec![
                Line::styled("the engine stopped", theme.error()),
                Line::raw(""),
                Line::styled(msg, theme.text()),
                Line::raw(""),
                Line::styled("press any key to exit", theme.dim()),
            ])
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(pane_block(theme, "Error".into(), true).style(theme.base()));
            f.render_widget(p, r);
        }
        None => {}
    }
}

fn centered(area: Rect, w_pct: u16, h_pct: u16) -> Rect {
    let w = area.width * w_pct / 100;
    let h = area.height * h_pct / 100;
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

fn draw_header(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let s = &app.snap;
    let sep = || Span::styled("  ·  ", theme.dim());
    let [text, spark] = Layout::horizontal([Constraint::Min(40), Constraint::Length(26)]).areas(area);

    let source_style = match s.source.state {
        _ if s.source.is_up() => theme.ok(),
        SourceState::Reconnecting => theme.error(),
        _ => theme.warn(),
    };
    let mut l1 = vec![
        Span::styled(app.mode(), theme.accent()),
        sep(),
        Span::styled("source ", theme.dim()),
        Span::styled(s.source.state.as_str(), source_style),
    ];
    if let Some((to, connected)) = &app.attached {
        l1.splice(1..1, [sep(), Span::styled(format!("attached {to}"), theme.accent())]);
        if !connected {
            l1.splice(3..3, [Span::styled(" reconnecting…", theme.error())]);
        }
    }
    if !s.source.detail.is_empty() {
        l1.push(Span::styled(format!(" {}", s.source.detail), theme.dim()));
    }
    l1.extend([
        sep(),
        Span::styled("clock ", theme.dim()),
        Span::styled(format!("×{}", s.clock_speed), theme.text()),
        Span::styled(format!("  {}", engine_time(s.now_ms)), theme.text()),
    ]);
    if s.migrations.paused {
        l1.extend([sep(), Span::styled("migrations paused", theme.warn())]);
    }

    let mut l2 = vec![
        Span::styled("objects ", theme.dim()),
        Span::styled(thousands(s.store.objects), theme.text()),
        Span::styled(format!(" ({})", human_bytes(s.store.bytes)), theme.text()),
        sep(),
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
        sep(),
        Span::styled(format!("{:.0}/s", s.events_per_sec), theme.accent()),
    ];
    if s.source.kind == SourceKind::Kafka {
        l2.extend([
            sep(),
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
            sep(),
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
            sep(),
            Span::styled(
                format!("inventory: {}", inv.errors.first().map_or("failed", String::as_str)),
                theme.error(),
            ),
        ]),
        _ if inv.duplicates > 0 => l2.extend([
            sep(),
            Span::styled(
                format!("{} objects on two tiers (see log)", inv.duplicates),
                theme.warn(),
            ),
        ]),
        _ => {}
    }

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
        l4.push(sep());
        l4.push(Span::styled(
            s.model.forecast.line(),
            if s.model.forecast.serving == "learned" {
                theme.ok()
            } else {
                theme.warn()
            },
        ));
    }
    l4.push(sep());
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
fn scenario_spans<'a>(sc: &crate::engine::scenario::ScenarioView, theme: &Theme) -> Vec<Span<'a>> {
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

fn draw_footer(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut spans = vec![Span::styled(format!(" {} ", app.focus.title()), theme.selection())];
    if app.filtering {
        spans.push(Span::styled(format!(" filter: {}▏", app.filter), theme.accent()));
        spans.push(Span::styled("  Enter keep · Esc clear", theme.dim()));
    } else {
        let ctx = app.focus.context();
        for b in app.keymap.bindings() {
            use super::keymap::Action as A;
            let shown = b.context.contains(&ctx)
                && !matches!(b.action, A::SelectTier(n) if n > 1)
                && !matches!(b.action, A::PageUp | A::PageDown | A::Down);
            if !shown {
                continue;
            }
            let Some(k) = b.keys.first() else { continue };
            let label = match b.action {
                A::SelectTier(_) => "1-9 tier".to_string(),
                A::Up => match app.keymap.key_of(A::Down) {
                    Some(d) => format!("{k}{d} move"),
                    None => format!("{k} up"),
                },
                _ => format!("{k} {}", short(b.name)),
            };
            spans.push(Span::styled(format!(" {label}"), theme.text()));
        }
        for a in [
            super::keymap::Action::FocusNext,
            super::keymap::Action::Help,
            super::keymap::Action::Quit,
        ] {
            if let Some(k) = app.keymap.key_of(a) {
                let name = match a {
                    super::keymap::Action::FocusNext => "focus",
                    super::keymap::Action::Help => "help",
                    _ => "quit",
                };
                spans.push(Span::styled(format!(" {k} {name}"), theme.dim()));
            }
        }
    }
    if let Some(why) = &app.refusal {
        spans.push(Span::styled(format!("  │ {why}"), theme.error()));
    } else if let Some(st) = &app.status {
        spans.push(Span::styled(format!("  │ {st}"), theme.accent()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A short footer label for an action name (most names are short already).
fn short(name: &str) -> &str {
    match name {
        "up" | "down" => "move",
        "cycle_latency" => "latency",
        "cycle_errors" => "errors",
        "toggle_outage" => "outage",
        "clear_chaos" => "clear",
        "clear_all_chaos" => "clear all",
        "pause_migrations" => "pause",
        "retry_failed" => "retry failed",
        "optimize_now" => "optimize",
        "retrain_now" => "retrain",
        "log_level" => "level",
        other => other,
    }
}
