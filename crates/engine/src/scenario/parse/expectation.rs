//! One `[[expect]]` or expectation string: the figure, the comparison and when it is checked.

use std::time::Duration;

use super::reader::{Err, Reader, line_of, ms};
use crate::scenario::Expectation;
use crate::scenario::expect::Check;

pub(super) fn expectation(
    r: &Reader,
    i: usize,
    v: &toml::Value,
    duration: Duration,
    tiers: &[String],
) -> Result<Expectation, Err> {
    let key = format!("expect[{i}]");
    let (text, at, text_key) = match v {
        toml::Value::String(s) => (s.clone(), None, key.clone()),
        toml::Value::Table(t) => {
            r.unknown_keys(&key, t, &["that", "at"], "in an expectation")?;
            let that = match t.get("that") {
                Some(v) => r.string(&format!("{key}.that"), v)?,
                None => {
                    return Err(r.err(
                        &key,
                        "the expectation has no `that`",
                        "add that = \"migrations.failed == 0\"",
                    ));
                }
            };
            let at = match t.get("at") {
                None => None,
                Some(toml::Value::String(s)) if s == "end" => None,
                Some(v) => Some(r.duration(&format!("{key}.at"), v)?),
            };
            (that, at, format!("{key}.that"))
        }
        _ => {
            return Err(r.err(
                &key,
                format!("expected a string or a table, found {}", v.type_str()),
                "e.g. \"migrations.failed == 0\"",
            ));
        }
    };
    let check = Check::parse(&text, tiers).map_err(|(m, h)| r.err(&text_key, m, h))?;
    if let Some(at) = at {
        if at > duration {
            return Err(r.err(
                &format!("{key}.at"),
                format!(
                    "the expectation is at {}, after the scenario ends ({})",
                    humantime::format_duration(at),
                    humantime::format_duration(duration)
                ),
                "move it earlier, or leave `at` out to check at the end",
            ));
        }
        if check.end_only() {
            return Err(r.err(
                &format!("{key}.at"),
                format!("`{text}` is measured at the end only (it lists every tier)"),
                "leave `at` out",
            ));
        }
    }
    Ok(Expectation {
        line: line_of(r, &text_key),
        text,
        at_ms: at.map(ms),
        check,
    })
}
