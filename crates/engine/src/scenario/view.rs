//! What the snapshot shows of a scenario being played, and the report of its expectations: a
//! leaf the snapshot can hold without reaching the scenario's parser or player.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;

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

/// A figure as the report and the logs print it: whole numbers whole, "no value" for none.
pub(crate) fn value(v: Option<f64>) -> String {
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
