//! Playback: fires each step's Command at its engine time through the engine's command channel
//! (exactly as a key press would), checks expectations, and reports.

use crate::sync;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::figures::Track;
use super::{ExpectResult, Expectation, Report, Scenario, ScenarioView};
use crate::audit;
use crate::clock::Clock;
use crate::command::{Commands, Refusal};
use crate::events::SourceState;
use crate::snapshot::Snapshot;
use crate::store::Store;
use crate::tiers::Tiers;

/// How often playback looks at the clock (wall time).
const TICK: Duration = Duration::from_millis(50);

/// The scenario being played, as the engine's snapshot and Commands see it.
#[derive(Debug, Default)]
pub struct ScenarioShared {
    view: Mutex<Option<ScenarioView>>,
    paused: AtomicBool,
}

impl ScenarioShared {
    pub fn view(&self) -> Option<ScenarioView> {
        let mut v = sync::lock(&self.view).clone();
        if let Some(v) = v.as_mut() {
            v.paused = self.paused.load(Ordering::Relaxed);
        }
        v
    }

    /// Pauses or resumes playback; false when no scenario is playing.
    pub fn set_paused(&self, paused: bool) -> bool {
        let playing = sync::lock(&self.view).as_ref().is_some_and(|v| !v.finished);
        if playing {
            self.paused.store(paused, Ordering::Relaxed);
            tracing::info!(target: "dim::scenario", paused, "scenario playback {}", if paused { "paused" } else { "resumed" });
        }
        playing
    }

    fn publish(&self, v: ScenarioView) {
        *sync::lock(&self.view) = Some(v);
    }

    fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }
}

/// Everything playback needs from the running engine.
pub struct Player {
    pub scenario: Scenario,
    pub commands: Commands,
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pub clock: Arc<dyn Clock>,
    pub shared: Arc<ScenarioShared>,
    pub store: Arc<Store>,
    pub tiers: Tiers,
}

fn check(e: &Expectation, s: &Snapshot, track: &Track, audit: Option<&audit::Audit>) -> ExpectResult {
    let (actual, right, ok) = e.check.eval(s, track, audit);
    // A number on the right is in the text already; a figure's value is reported.
    let against = right.filter(|_| matches!(e.check.right, super::expect::Operand::Figure(_)));
    ExpectResult {
        text: e.text.clone(),
        line: e.line,
        at_ms: e.at_ms,
        actual,
        against,
        ok,
    }
}

/// The line that says a scenario starts: its name, file, steps, expectations and length.
fn log_start(sc: &Scenario) {
    tracing::info!(
        target: "dim::scenario",
        name = %sc.name,
        file = %sc.file,
        steps = sc.steps.len(),
        expectations = sc.expects.len(),
        engine_time = %humantime::format_duration(Duration::from_millis(sc.duration_ms as u64)),
        "scenario starts"
    );
}

fn log_result(r: &ExpectResult) {
    // The figure as the report prints it, never Rust's `Some(7.0)`.
    let actual = super::value(r.actual);
    if r.ok {
        tracing::info!(target: "dim::scenario", expectation = %r.text, actual = %actual, "expectation holds");
    } else {
        tracing::warn!(target: "dim::scenario", expectation = %r.text, actual = %actual, line = r.line, "expectation does not hold");
    }
}

/// Longest wait for the source to finish seeding before the scenario starts anyway.
const SEED_WAIT: Duration = Duration::from_secs(300);

impl Player {
    /// The view after `step` steps fired and `elapsed` ms of scenario time.
    fn view(&self, step: usize, elapsed: i64, results: Vec<ExpectResult>) -> ScenarioView {
        let sc = &self.scenario;
        ScenarioView {
            name: sc.name.clone(),
            file: sc.file.clone(),
            step,
            steps: sc.steps.len(),
            next: sc.steps.get(step).map(|s| (s.at_ms, s.describe())),
            elapsed_ms: elapsed.min(sc.duration_ms),
            duration_ms: sc.duration_ms,
            results,
            expects: sc.expects.len(),
            ..ScenarioView::default()
        }
    }

    /// Scenario time starts once the workload runs: seeding the landing tier (first start on an
    /// empty data directory) can take a while, and steps fired during it would hit an empty store.
    async fn wait_for_the_workload(&self, stop: &watch::Receiver<bool>) {
        let started = std::time::Instant::now();
        let mut logged = false;
        loop {
            let state = self.snapshots.borrow().source.state;
            if !matches!(state, SourceState::Starting | SourceState::Seeding)
                || *stop.borrow()
                || started.elapsed() > SEED_WAIT
            {
                return;
            }
            if !logged {
                tracing::info!(target: "dim::scenario", name = %self.scenario.name, "the scenario starts once the source has seeded the landing tier");
                logged = true;
            }
            self.shared.publish(ScenarioView {
                waiting: true,
                ..self.view(0, 0, Vec::new())
            });
            tokio::time::sleep(TICK).await;
        }
    }

    /// Sends step number `n` (1-based) to the engine, as a key press would; false once the engine
    /// has stopped listening. A refused step is logged with its line and the scenario goes on.
    async fn fire(&self, n: usize) -> bool {
        let sc = &self.scenario;
        let step = &sc.steps[n - 1];
        tracing::info!(target: "dim::scenario", step = format!("{n}/{}", sc.steps.len()), line = step.line, what = %step.describe(), "scenario step");
        match self.commands.send(step.command.clone()).await {
            Ok(()) => true,
            Err(Refusal::Stopped) => false,
            Err(why) => {
                tracing::warn!(target: "dim::scenario", step = n, line = step.line, %why, "scenario step refused");
                true
            }
        }
    }

    /// Fires the settings the scenario starts with (steps at 0 that are settings); returns how
    /// many steps were fired.
    async fn fire_starting_settings(&self) -> usize {
        let mut next = 0usize;
        while self
            .scenario
            .steps
            .get(next)
            .is_some_and(|s| s.at_ms == 0 && s.command.is_setting())
        {
            next += 1;
            if !self.fire(next).await {
                break;
            }
        }
        next
    }

    /// The end expectations' results, when the scenario completed: they see the state after
    /// every step, the latest snapshot, plus an audit of every tier when one of them asks for it.
    async fn check_the_end(&self, completed: bool, track: &mut Track) -> Vec<ExpectResult> {
        if !completed {
            return Vec::new();
        }
        let sc = &self.scenario;
        let snap = self.snapshots.borrow().clone();
        track.observe(&snap);
        let ends: Vec<&Expectation> = sc.expects.iter().filter(|e| e.at_ms.is_none()).collect();
        let audit = if ends.iter().any(|e| e.check.end_only()) {
            match audit::audit(&self.store, &self.tiers, Duration::from_secs(1)).await {
                Ok(a) => {
                    tracing::info!(target: "dim::scenario", checked = a.checked, lost = a.lost, "audit of every tier");
                    Some(a)
                }
                Err(e) => {
                    tracing::error!(target: "dim::scenario", error = %e, "the audit could not read the store");
                    None
                }
            }
        } else {
            None
        };
        ends.into_iter()
            .map(|e| {
                let r = check(e, &snap, track, audit.as_ref());
                log_result(&r);
                r
            })
            .collect()
    }

    /// Plays the scenario to its end (or until `stop` turns true) and returns the report.
    pub async fn run(self, stop: watch::Receiver<bool>) -> Report {
        let sc = &self.scenario;
        // Settings the scenario starts with hold from the engine's first plan: applied only once
        // seeding ends, the engine would already have acted without them (e.g. migrated while
        // the scenario meant to start paused) — and how much, would depend on the machine's load.
        let mut next = self.fire_starting_settings().await;
        self.wait_for_the_workload(&stop).await;
        let start = self.clock.now_ms();
        let mut track = Track {
            start_ms: start,
            base: Some(self.snapshots.borrow().clone()),
            ..Track::default()
        };
        let (mut elapsed, mut last) = (0i64, start);
        let mut timed: Vec<&Expectation> = sc.expects.iter().filter(|e| e.at_ms.is_some()).collect();
        timed.sort_by_key(|e| e.at_ms);
        let mut next_check = 0usize;
        let mut results = Vec::new();
        log_start(sc);
        let mut tick = tokio::time::interval(TICK);
        let completed = loop {
            tick.tick().await;
            if *stop.borrow() {
                break false;
            }
            let now = self.clock.now_ms();
            if !self.shared.is_paused() {
                elapsed += now - last;
            }
            last = now;
            let snap = self.snapshots.borrow().clone();
            track.observe(&snap);
            while sc.steps.get(next).is_some_and(|s| s.at_ms <= elapsed) {
                next += 1;
                if !self.fire(next).await {
                    break;
                }
            }
            while let Some(e) = timed
                .get(next_check)
                .filter(|e| e.at_ms.is_some_and(|at| at <= elapsed))
            {
                next_check += 1;
                let r = check(e, &snap, &track, None);
                log_result(&r);
                results.push(r);
            }
            let done = elapsed >= sc.duration_ms;
            self.shared.publish(self.view(next, elapsed, results.clone()));
            if done {
                break true;
            }
        };
        results.extend(self.check_the_end(completed, &mut track).await);
        let report = Report {
            name: sc.name.clone(),
            file: sc.file.clone(),
            completed,
            results: results.clone(),
        };
        self.shared.publish(ScenarioView {
            next: None,
            finished: true,
            ..self.view(next, elapsed, results)
        });
        tracing::info!(
            target: "dim::scenario",
            name = %sc.name,
            passed = report.passed(),
            holding = report.results.iter().filter(|r| r.ok).count(),
            of = report.results.len(),
            "scenario finished"
        );
        report
    }
}
