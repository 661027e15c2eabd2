//! The one owner of the terminal: raw mode, the alternate screen and mouse capture are undone on
//! drop and, through the panic hook, before a panic message is printed.

use std::ops::{Deref, DerefMut};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::DefaultTerminal;

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
