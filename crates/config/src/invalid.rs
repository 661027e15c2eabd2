//! A value a check refused: where it is, what is wrong, what to do.

/// A value refused by a check: the dotted key it is at (located in the file by the loader), what
/// is wrong and what to do.
#[derive(Debug, Clone)]
pub struct Invalid {
    pub key: String,
    pub message: String,
    pub help: String,
}

impl Invalid {
    pub fn new(key: impl Into<String>, message: impl Into<String>, help: impl Into<String>) -> Self {
        bad(key, message, help)
    }
}

pub(crate) fn bad(key: impl Into<String>, message: impl Into<String>, help: impl Into<String>) -> Invalid {
    Invalid {
        key: key.into(),
        message: message.into(),
        help: help.into(),
    }
}
