//! Logs: the engine's `tracing` events through tui-logger (the migrator's `Retrying in Xs …` lines
//! among them), filtered by level.

use ratatui::Frame;
use ratatui::layout::Rect;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

use crate::app::{App, LOG_LEVELS, Pane};
use crate::panes::pane_block;
use crate::theme::Theme;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme, area: Rect) {
    let focused = app.focus == Pane::Logs;
    let level = LOG_LEVELS[app.log_level];
    let block = pane_block(theme, format!("{} · {level} and above", Pane::Logs.title()), focused);
    let w = TuiLoggerWidget::default()
        .block(block)
        .style(theme.text())
        .style_error(theme.error())
        .style_warn(theme.warn())
        .style_info(theme.text())
        .style_debug(theme.dim())
        .style_trace(theme.dim())
        .output_separator(' ')
        .output_timestamp(Some("%H:%M:%S".into()))
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(false)
        .output_file(false)
        .output_line(false)
        .state(&app.log_state);
    f.render_widget(w, area);
}
