//! The one owner of the terminal: raw mode and the alternate screen are undone on drop and on panic.

use std::ops::{Deref, DerefMut};

use ratatui::DefaultTerminal;

pub struct Term {
    inner: DefaultTerminal,
}

impl Term {
    /// Enters raw mode and the alternate screen; `ratatui::init` also installs a panic hook that restores first.
    pub fn enter() -> anyhow::Result<Self> {
        let inner = ratatui::try_init()?;
        Ok(Self { inner })
    }
}

impl Drop for Term {
    fn drop(&mut self) {
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
