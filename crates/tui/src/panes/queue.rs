//! Migration queue: counts per state, in-flight tasks with progress, deferred and failed tasks with
//! their reasons, recent moves and throughput.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::bar;
use crate::app::{App, Pane};
use crate::engine::InFlightView;
use crate::engine::Snapshot;
use crate::engine::TaskState;
use crate::format::human_bytes;
use crate::format::thousands;
use crate::panes::pane_block;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let focused = app.focus == Pane::Queue;
    let s = app.snap.clone();
    let m = &s.migrations;
    let title = format!(
        "{} · {:.1} MiB/s · {} moved{}",
        Pane::Queue.title(),
        m.mib_per_sec,
        human_bytes(m.bytes_moved),
        if m.paused { " · PAUSED" } else { "" }
    );
    let block = pane_block(theme, title, focused);
    let width = block.inner(area).width as usize;

    let mut lines: Vec<Line> = Vec::new();
    lines.push(counts_line(&s, theme));

    let key_w = (width.saturating_sub(10) / 2).clamp(10, 40);
    let short = |k: &str| short_key(k, key_w);
    let route = |src: &str, dst: &str| format!(" {src}→{dst}");
    lines.extend(m.in_flight.iter().map(|t| in_flight_line(t, theme, &short(&t.key))));
    // A failure's reason is what matters: it gets its own line.
    for t in &m.failed {
        lines.push(Line::from(vec![
            Span::styled("failed    ", theme.error()),
            Span::styled(short(&t.key), theme.text()),
            Span::styled(route(&t.src, &t.dst), theme.dim()),
        ]));
        lines.push(Line::from(vec![
            Span::styled("  ↳ ", theme.dim()),
            Span::styled(
                format!(
                    "{} (attempts {})",
                    t.reason.as_deref().unwrap_or("unknown reason"),
                    t.attempts
                ),
                theme.error(),
            ),
        ]));
    }
    for t in &m.deferred {
        lines.push(Line::from(vec![
            Span::styled("deferred  ", theme.warn()),
            Span::styled(short(&t.key), theme.text()),
            Span::styled(format!(" {}", t.reason.clone().unwrap_or_default()), theme.warn()),
            Span::styled(route(&t.src, &t.dst), theme.dim()),
        ]));
    }
    for t in &m.restoring {
        lines.push(Line::from(vec![
            Span::styled("restoring ", theme.warn()),
            Span::styled(short(&t.key), theme.text()),
            Span::styled(format!(" {}", t.reason.clone().unwrap_or_default()), theme.warn()),
            Span::styled(route(&t.src, &t.dst), theme.dim()),
        ]));
    }
    for t in &m.recent_done {
        lines.push(Line::from(vec![
            Span::styled("done      ", theme.ok()),
            Span::styled(short(&t.key), theme.text()),
            Span::styled(format!(" {:>9}", human_bytes(t.size)), theme.dim()),
            Span::styled(route(&t.src, &t.dst), theme.dim()),
        ]));
    }
    if lines.len() == 1 {
        lines.push(Line::styled(
            "no migrations yet: the optimizer queues moves when placement can save money",
            theme.dim(),
        ));
    }
    let visible = block.inner(area).height as usize;
    let max_scroll = lines.len().saturating_sub(visible);
    app.queue_scroll = app.queue_scroll.min(max_scroll);
    f.render_widget(
        Paragraph::new(lines).scroll((app.queue_scroll as u16, 0)).block(block),
        area,
    );
}

/// Tasks per state (the in-between states only when there are some) and the retries.
fn counts_line(s: &Snapshot, theme: &Theme) -> Line<'static> {
    let count = |state: TaskState| s.store.tasks.get(&state).copied().unwrap_or(0);
    let m = &s.migrations;
    let mut counts = Vec::new();
    for (state, style) in [
        (TaskState::Pending, theme.text()),
        (TaskState::Restoring, theme.warn()),
        (TaskState::Copying, theme.accent()),
        (TaskState::Verifying, theme.accent()),
        (TaskState::Switching, theme.accent()),
        (TaskState::Cleaning, theme.accent()),
        (TaskState::Deferred, theme.warn()),
        (TaskState::Failed, theme.error()),
        (TaskState::Done, theme.ok()),
    ] {
        let n = count(state);
        // Empty in-between states add noise; pending, failed and done always show.
        if n == 0 && !matches!(state, TaskState::Pending | TaskState::Failed | TaskState::Done) {
            continue;
        }
        let st = if n == 0 { theme.dim() } else { style };
        counts.push(Span::styled(format!("{state} {} ", thousands(n)), st));
    }
    counts.push(Span::styled(format!("· retries {}", thousands(m.retries)), theme.dim()));
    Line::from(counts)
}

/// `k` padded to `key_w` characters, or its tail after an ellipsis when it is longer.
fn short_key(k: &str, key_w: usize) -> String {
    if k.chars().count() <= key_w {
        format!("{k:<key_w$}")
    } else {
        let tail: String = k
            .chars()
            .rev()
            .take(key_w - 1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }
}

/// A move in flight: its state, key, progress, time so far and route.
fn in_flight_line(t: &InFlightView, theme: &Theme, key: &str) -> Line<'static> {
    let share = if t.size > 0 {
        t.bytes_done as f64 / t.size as f64
    } else {
        0.0
    };
    Line::from(vec![
        Span::styled(format!("{:<9} ", t.state), theme.accent()),
        Span::styled(key.to_string(), theme.text()),
        Span::styled(format!(" {}", bar(share, 6)), theme.accent()),
        Span::styled(
            format!(" {:>3.0}% {:>4.1}s", share * 100.0, t.elapsed_ms as f64 / 1000.0),
            theme.text(),
        ),
        Span::styled(format!(" {}→{}", t.src, t.dst), theme.dim()),
    ])
}
