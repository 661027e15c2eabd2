//! The whole screen: header, the five panes, footer and overlays, laid out for the terminal's size.

use crate::panes::pane_block;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::app::{App, Overlay, Pane};
use super::panes;
use super::theme::Theme;

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
    super::header::draw(f, app, &theme, header);

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
        Some(Overlay::Nodes) => {
            let r = centered(area, 90, 60);
            f.render_widget(Clear, r);
            panes::nodes::draw(f, app, theme, r);
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
