//! The one owner of the terminal: raw mode, the alternate screen and mouse capture are undone on
//! drop and, through the panic hook, before a panic message is printed.

use std::ops::{Deref, DerefMut};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::DefaultTerminal;

/// What the dashboard says, before it touches the screen, when it has no terminal to draw on.
pub const NO_TERMINAL: &str = "no terminal: use --daemon, or run it in a terminal";
/// The same for `dim attach`.
pub const NO_TERMINAL_ATTACH: &str =
    "no terminal: dim attach draws the dashboard, so run it in a terminal (dim ctl status answers without one)";

/// Whether there is a terminal to draw on and read keys from (stdin and stdout both).
pub fn has_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

pub(crate) struct Term {
    inner: DefaultTerminal,
}

impl Term {
    /// Enters raw mode, the alternate screen and mouse capture. `ratatui::try_init` installs a panic
    /// hook that restores the terminal first; ours also releases the mouse before that.
    pub(crate) fn enter() -> anyhow::Result<Self> {
        let inner = ratatui::try_init()?;
        let restore_then_report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
            restore_then_report(info);
        }));
        if let Err(e) = crossterm::execute!(std::io::stdout(), EnableMouseCapture) {
            ratatui::restore();
            return Err(e.into());
        }
        Ok(Self { inner })
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

impl Deref for Term {
    type Target = DefaultTerminal;
    fn deref(&self) -> &DefaultTerminal {
        &self.inner
    }
}

impl DerefMut for Term {
    fn deref_mut(&mut self) -> &mut DefaultTerminal {
        &mut self.inner
    }
}
