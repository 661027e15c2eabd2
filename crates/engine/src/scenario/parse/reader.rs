//! The scenario file as TOML values read with file:line errors: typed getters, unknown-key checks
//! with a suggestion, and where a key sits in the file.

use std::time::Duration;

use crate::config::{self, ConfigError};

pub(super) type Err = Box<ConfigError>;

pub(super) struct Reader<'a> {
    pub src: config::Source<'a>,
}

impl Reader<'_> {
    pub(super) fn err(&self, key: &str, message: impl Into<String>, help: impl Into<String>) -> Err {
        Box::new(self.src.error_at(key, message.into(), help.into()))
    }

    pub(super) fn string(&self, key: &str, v: &toml::Value) -> Result<String, Err> {
        v.as_str().map(str::to_string).ok_or_else(|| {
            self.err(
                key,
                format!("expected a string, found {}", v.type_str()),
                "put it in quotes",
            )
        })
    }

    pub(super) fn number(&self, key: &str, v: &toml::Value) -> Result<f64, Err> {
        match v {
            toml::Value::Integer(i) => Ok(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Ok(*f),
            _ => Err(self.err(
                key,
                format!("expected a number, found {}", v.type_str()),
                "e.g. 30 or 0.5",
            )),
        }
    }

    pub(super) fn count(&self, key: &str, v: &toml::Value) -> Result<usize, Err> {
        match v {
            toml::Value::Integer(i) if *i >= 0 => Ok(*i as usize),
            _ => Err(self.err(key, format!("expected a whole number ≥ 0, found {v}"), "e.g. 10")),
        }
    }

    pub(super) fn duration(&self, key: &str, v: &toml::Value) -> Result<Duration, Err> {
        let s = self.string(key, v)?;
        humantime::parse_duration(&s).map_err(|e| {
            self.err(
                key,
                format!("`{s}` is not a duration: {e}"),
                "engine time such as \"90s\", \"15m\", \"2h\" or \"1h 30m\"",
            )
        })
    }

    pub(super) fn size(&self, key: &str, v: &toml::Value) -> Result<u64, Err> {
        match v {
            toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
            toml::Value::String(s) => s.parse::<bytesize::ByteSize>().map(|b| b.as_u64()).map_err(|e| {
                self.err(
                    key,
                    format!("`{s}` is not a size: {e}"),
                    "e.g. \"50MB\", \"1.5GiB\" or a number of bytes",
                )
            }),
            _ => Err(self.err(key, format!("expected a size, found {v}"), "e.g. \"50MB\"")),
        }
    }

    pub(super) fn tier(&self, key: &str, v: &toml::Value, tiers: &[String]) -> Result<String, Err> {
        let t = self.string(key, v)?;
        if tiers.contains(&t) {
            return Ok(t);
        }
        Err(self.err(
            key,
            format!("unknown tier `{t}`"),
            did_you_mean(&t, tiers.iter().map(String::as_str), "tiers"),
        ))
    }

    pub(super) fn unknown_keys(
        &self,
        prefix: &str,
        table: &toml::Table,
        allowed: &[&str],
        what: &str,
    ) -> Result<(), Err> {
        for k in table.keys() {
            if !allowed.contains(&k.as_str()) {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                return Err(self.err(
                    &key,
                    format!("unknown field `{k}` {what}"),
                    did_you_mean(k, allowed.iter().copied(), "fields"),
                ));
            }
        }
        Ok(())
    }
}

pub(super) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    what: &str,
) -> String {
    match config::closest(word, candidates.clone()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => {
            let all: Vec<&str> = candidates.into_iter().collect();
            if all.is_empty() {
                "remove it".into()
            } else {
                format!("{what}: {}", all.join(", "))
            }
        }
    }
}

pub(super) fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

pub(super) fn line_of(r: &Reader, key: &str) -> usize {
    r.src.line_of(key).unwrap_or(0)
}
