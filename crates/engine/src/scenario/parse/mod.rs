//! Reading a scenario file: header, config overrides, steps and expectations, each checked with file:line and a suggestion.

mod expectation;
mod reader;
mod step;

use std::time::Duration;

use super::{Scenario, Step};
use crate::config::{self, Config, ConfigError};

use expectation::expectation;
use reader::Err;
use reader::{Reader, ms};
use step::step;
pub use step::{OLD_KINDS, kinds};

const TOP: &[&str] = &[
    "name",
    "description",
    "duration",
    "speed",
    "seed",
    "capacity",
    "config",
    "step",
    "expect",
];

/// Reads scenario `text` (from `file`) against the configuration `base`: returns the scenario and
/// the configuration it runs with (its header and `[config]` layered over `base`).
pub(crate) fn load(
    file: &str,
    text: &str,
    base: &Config,
    checks: &[config::SectionCheck],
) -> Result<(Scenario, Config), Err> {
    let r = Reader {
        src: config::Source {
            file: file.to_string(),
            text,
        },
    };
    let mut top: toml::Table = toml::from_str(text).map_err(|e| Box::new(r.src.syntax_error(&e)))?;
    r.unknown_keys("", &top, TOP, "in a scenario")?;

    let name = match top.get("name") {
        Some(v) => r.string("name", v)?,
        None => return Err(r.err("", "the scenario has no `name`", "add name = \"…\" at the top")),
    };
    let description = top
        .get("description")
        .map(|v| r.string("description", v))
        .transpose()?
        .unwrap_or_default();
    let duration = duration_of(&r, &top)?;

    let mut cfg = match top.remove("config") {
        None => base.clone(),
        Some(toml::Value::Table(t)) => config::overlay(base, t, &r.src, "config", checks)?,
        Some(v) => {
            return Err(r.err(
                "config",
                format!("expected a table, found {}", v.type_str()),
                "write [config] followed by configuration fields, as in config/default.toml",
            ));
        }
    };
    let tiers = apply_header(&r, &top, &mut cfg)?;

    let steps = steps_of(&r, &top, duration, &tiers, &cfg)?;

    let expects = match top.get("expect") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| expectation(&r, i, v, duration, &tiers))
            .collect::<Result<Vec<_>, _>>()?,
        Some(v) => {
            return Err(r.err(
                "expect",
                format!("expected a list, found {}", v.type_str()),
                "expect = [\"migrations.failed == 0\"] or [[expect]] tables with `that` and `at`",
            ));
        }
    };

    let sc = Scenario {
        name,
        description,
        file: file.to_string(),
        duration_ms: ms(duration),
        steps,
        expects,
    };
    Ok((sc, cfg))
}

/// The `[[step]]` tables, in time order (steps at the same time in file order).
fn steps_of(
    r: &Reader,
    top: &toml::Table,
    duration: Duration,
    tiers: &[String],
    cfg: &Config,
) -> Result<Vec<Step>, Err> {
    let mut steps = match top.get("step") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| step(r, i, v, duration, tiers, cfg))
            .collect::<Result<Vec<_>, _>>()?,
        Some(v) => {
            return Err(r.err(
                "step",
                format!("expected [[step]] tables, found {}", v.type_str()),
                "write each step as a [[step]] table with `at` and `do`",
            ));
        }
    };
    // Steps at the same time fire in file order.
    steps.sort_by_key(|s| s.at_ms);
    Ok(steps)
}

/// The scenario's `duration` (engine time): required, and above zero.
fn duration_of(r: &Reader, top: &toml::Table) -> Result<Duration, Err> {
    let duration = match top.get("duration") {
        Some(v) => r.duration("duration", v)?,
        None => {
            return Err(r.err(
                "",
                "the scenario has no `duration`",
                "add duration = \"12h\" (engine time) at the top",
            ));
        }
    };
    if duration.is_zero() {
        return Err(r.err(
            "duration",
            "the duration is zero",
            "give the engine time the scenario runs, e.g. \"12h\"",
        ));
    }
    Ok(duration)
}

/// Applies the header's `speed`, `seed` and `capacity` to `cfg`; returns the tiers' names.
fn apply_header(r: &Reader, top: &toml::Table, cfg: &mut Config) -> Result<Vec<String>, Err> {
    if let Some(v) = top.get("speed") {
        let speed = r.number("speed", v)?;
        if speed <= 0.0 {
            return Err(r.err(
                "speed",
                format!("the clock speed must be above 0, got {speed}"),
                "1 = real time; 3600 = an engine hour per second",
            ));
        }
        cfg.clock.speed = speed;
    }
    if let Some(v) = top.get("seed") {
        cfg.events.embedded.seed = r.count("seed", v)? as u64;
    }
    let tiers: Vec<String> = cfg.tiers.iter().map(|t| t.name.clone()).collect();
    match top.get("capacity") {
        None => {}
        Some(toml::Value::Table(t)) => {
            for (tier, v) in t {
                let key = format!("capacity.{tier}");
                let tier = r.tier(&key, &toml::Value::String(tier.clone()), &tiers)?;
                let bytes = r.size(&key, v)?;
                if let Some(tc) = cfg.tiers.iter_mut().find(|t| t.name == tier) {
                    tc.capacity_gb = Some(bytes as f64 / 1e9);
                }
            }
        }
        Some(v) => {
            return Err(r.err(
                "capacity",
                format!("expected a table, found {}", v.type_str()),
                "e.g. capacity = { aws-hot = \"50MB\" }",
            ));
        }
    }
    Ok(tiers)
}

// Loading is the parser's: the scenario's types stay free of it (no import circle).
impl Scenario {
    /// Reads `text` against `base`; returns the scenario and the configuration it runs with.
    pub fn load(file: &str, text: &str, base: &Config) -> Result<(Scenario, Config), Box<ConfigError>> {
        load(file, text, base, &[])
    }

    /// `load`, also running `checks` of configuration sections the engine does not own (the
    /// dashboard's keymap and theme) on the scenario's `[config]`.
    pub fn load_with(
        file: &str,
        text: &str,
        base: &Config,
        checks: &[config::SectionCheck],
    ) -> Result<(Scenario, Config), Box<ConfigError>> {
        load(file, text, base, checks)
    }
}
