//! Scenarios: a TOML file of Commands at engine times plus expectations on the snapshot; parsed, validated and played here.

pub mod expect;
pub mod figures;
pub mod library;
mod parse;
pub mod player;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::clock::Millis;
use super::command::Command;
use crate::config::{self, Config, ConfigError};
pub use expect::Check;
pub use parse::{KINDS, OLD_KINDS};
pub use player::{Player, ScenarioShared};

/// A parsed, validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Where it was read from (for messages).
    pub file: String,
    /// Engine time it runs for.
    pub duration_ms: Millis,
    /// In firing order.
    pub steps: Vec<Step>,
    pub expects: Vec<Expectation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Engine time after the start.
    pub at_ms: Millis,
    pub line: usize,
    pub kind: String,
    pub command: Command,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub text: String,
    /// None: at the end.
    pub at_ms: Option<Millis>,
    pub line: usize,
    pub check: Check,
}

impl Scenario {
    /// Reads `text` against `base`; returns the scenario and the configuration it runs with.
    pub fn load(file: &str, text: &str, base: &Config) -> Result<(Scenario, Config), Box<ConfigError>> {
        parse::load(file, text, base, &[])
    }

    /// `load`, also running `checks` of configuration sections the engine does not own (the
    /// dashboard's keymap and theme) on the scenario's `[config]`.
    pub fn load_with(
        file: &str,
        text: &str,
        base: &Config,
        checks: &[config::SectionCheck],
    ) -> Result<(Scenario, Config), Box<ConfigError>> {
        parse::load(file, text, base, checks)
    }
}

impl Step {
    /// The step as a person would say it: `chaos azure-cool: 30% slow_down, +2000 ms`.
    pub fn describe(&self) -> String {
        let detail = match &self.command {
            Command::SetEventRate { per_sec } => format!("{per_sec} events/s"),
            Command::SetSkew { skew } => format!("{skew}"),
            Command::FlashCrowd { objects } | Command::PutBurst { objects } => format!("{objects} objects"),
            Command::GrowObjects { objects, engine_secs } => format!(
                "{objects} objects for {}",
                humantime::format_duration(std::time::Duration::from_secs(*engine_secs))
            ),
            Command::Chaos { tier, settings } => {
                let mut parts = Vec::new();
                if settings.outage {
                    parts.push("outage".to_string());
                }
                if settings.error_rate > 0.0 {
                    let kind = settings
                        .error_kind
                        .and_then(|k| serde_json::to_value(k).ok())
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    parts.push(format!("{}% {kind}", settings.error_rate));
                }
                if settings.latency_ms > 0 {
                    parts.push(format!("+{} ms", settings.latency_ms));
                }
                if let Some(b) = settings.bandwidth_bps {
                    parts.push(format!("{}/s", bytesize::ByteSize::b(b).display().si()));
                }
                format!("{tier}: {}", parts.join(", "))
            }
            Command::ChaosClear { tier } => tier.clone().unwrap_or_else(|| "every tier".into()),
            Command::SetCapacity { tier, bytes } => {
                format!("{tier} → {}", bytesize::ByteSize::b(*bytes).display().si())
            }
            _ => String::new(),
        };
        if detail.is_empty() {
            self.kind.clone()
        } else {
            format!("{} {detail}", self.kind)
        }
    }
}

/// What the dashboard and the snapshot show of the scenario being played.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioView {
    pub name: String,
    pub file: String,
    /// Steps fired so far, of `steps`.
    pub step: usize,
    pub steps: usize,
    /// The next step and when (scenario time).
    pub next: Option<(Millis, String)>,
    /// Scenario time: engine time since the start, paused time excluded.
    pub elapsed_ms: Millis,
    pub duration_ms: Millis,
    pub paused: bool,
    /// Waiting for the source to finish seeding; scenario time has not started.
    pub waiting: bool,
    pub finished: bool,
    /// Expectations checked so far.
    pub results: Vec<ExpectResult>,
    /// Expectations in the file.
    pub expects: usize,
}

/// One expectation, evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectResult {
    pub text: String,
    pub line: usize,
    /// Scenario time it was checked at (None: the end).
    pub at_ms: Option<Millis>,
    /// The left figure's value, and the right side's when it is a figure.
    pub actual: Option<f64>,
    pub against: Option<f64>,
    pub ok: bool,
}

/// Every expectation of a finished (or stopped) scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub name: String,
    pub file: String,
    /// False when the run stopped before the scenario's end.
    pub completed: bool,
    pub results: Vec<ExpectResult>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.completed && self.results.iter().all(|r| r.ok)
    }
}

fn value(v: Option<f64>) -> String {
    match v {
        None => "no value".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        Some(v) if v.abs() >= 0.01 => format!("{v:.4}"),
        Some(v) => format!("{v:.3e}"),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ok = self.results.iter().filter(|r| r.ok).count();
        writeln!(
            f,
            "scenario {} ({}): {ok}/{} expectations hold",
            self.name,
            self.file,
            self.results.len()
        )?;
        if !self.completed {
            writeln!(
                f,
                "  the run stopped before the scenario's end: end expectations were not all checked"
            )?;
        }
        for r in &self.results {
            let at = r.at_ms.map_or("end".to_string(), |ms| {
                humantime::format_duration(std::time::Duration::from_millis(ms as u64)).to_string()
            });
            let against = r.against.map(|a| format!(" vs {}", value(Some(a)))).unwrap_or_default();
            writeln!(
                f,
                "  {} {:<48} at {:<8} actual {}{}   (line {})",
                if r.ok { "PASS" } else { "FAIL" },
                r.text,
                at,
                value(r.actual),
                against,
                r.line
            )?;
        }
        Ok(())
    }
}
