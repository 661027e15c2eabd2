//! One file per pane of the dashboard, plus the detail, help and nodes overlays.

pub mod chaos;
pub mod detail;
pub mod heat;
pub mod help;
pub mod logs;
pub mod nodes;
pub mod queue;
pub mod tiers;

use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use crate::theme::Theme;

/// A bordered pane block: the title in the theme's title style, the border by focus.
pub fn pane_block<'a>(theme: &Theme, title: String, focused: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(format!(" {title} "), theme.title()))
}

/// A text bar of `width` cells filled to `share` (0..=1), e.g. `█████░░░`.
pub fn bar(share: f64, width: usize) -> String {
    let share = if share.is_finite() { share.clamp(0.0, 1.0) } else { 0.0 };
    let eighths = (share * width as f64 * 8.0).round() as usize;
    let full = eighths / 8;
    let part = eighths % 8;
    let mut s = "█".repeat(full.min(width));
    if full < width {
        const PARTS: [&str; 8] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
        s.push_str(if part == 0 { "░" } else { PARTS[part] });
        s.push_str(&"░".repeat(width - full - 1));
    }
    s
}

/// A one-line sparkline of `values` in `width` cells (the newest on the right).
pub fn spark(values: &[u64], width: usize) -> String {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &values[values.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0).max(1);
    let mut s: String = tail
        .iter()
        .map(|v| {
            if *v == 0 {
                ' '
            } else {
                LEVELS[((*v * 7) / max) as usize]
            }
        })
        .collect();
    while s.chars().count() < width {
        s.insert(0, ' ');
    }
    s
}
