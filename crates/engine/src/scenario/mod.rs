//! Scenarios: a TOML file of Commands at engine times plus expectations on the snapshot; parsed, validated and played here.

pub mod expect;
pub mod figures;
pub mod library;
mod parse;
pub mod player;
mod view;

use super::clock::Millis;
use super::command::Command;
pub use expect::Check;
pub use parse::{OLD_KINDS, kinds};
pub use player::{Player, ScenarioShared};
pub(crate) use view::value;
pub use view::{ExpectResult, Report, ScenarioView};

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
