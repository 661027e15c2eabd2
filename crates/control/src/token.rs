//! The bearer token TCP clients must send: read from a file or an environment variable the
//! config names (never from the config itself), compared in constant time, never shown.

use anyhow::Context;
use subtle::ConstantTimeEq;

use crate::config::ControlConfig;

pub(super) struct Token(String);

impl Token {
    /// Reads the token `control.token_file` or `control.token_env` names (the file wins).
    pub(super) fn load(c: &ControlConfig) -> anyhow::Result<Token> {
        let raw = if !c.token_file.is_empty() {
            std::fs::read_to_string(&c.token_file)
                .with_context(|| format!("reading the control token from {} (control.token_file)", c.token_file))?
        } else if !c.token_env.is_empty() {
            std::env::var(&c.token_env).with_context(|| {
                format!(
                    "the environment variable {} (control.token_env) is not set",
                    c.token_env
                )
            })?
        } else {
            anyhow::bail!("control.listen needs a bearer token: set control.token_file or control.token_env");
        };
        let token = raw.trim().to_string();
        if token.len() < 16 {
            anyhow::bail!(
                "the control token is shorter than 16 characters; use a long random one (e.g. `openssl rand -hex 32`)"
            );
        }
        Ok(Token(token))
    }

    pub(super) fn matches(&self, sent: &str) -> bool {
        self.0.as_bytes().ct_eq(sent.as_bytes()).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}
