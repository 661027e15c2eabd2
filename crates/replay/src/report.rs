//! What a replay reports: per policy its cost and parts, moves and SLA violations, relative to the
//! oracle; as a table for people and JSON for machines.

use crate::format::money;
use std::fmt::Write as _;

use serde::Serialize;

use super::policy::Run;
pub use super::trace_info::{InventoryInfo, TraceInfo};
use super::workload::Workload;
use crate::config::Config;
use crate::engine::model::forecast::ForecastInfo;

#[derive(Debug, Clone, Serialize)]
pub struct PolicyResult {
    pub policy: String,
    /// `bill` + `sla_cost`: what every policy is judged on (capture, ratios, the best rule).
    pub total_cost: f64,
    /// What the cloud bills: storage, minimum durations, requests, retrieval, moves.
    pub bill: f64,
    /// Reads served slower than the SLA (a restore wait included).
    pub sla_misses: u64,
    /// `sla_misses` × `sla.miss_cost`.
    pub sla_cost: f64,
    pub storage_cost: f64,
    pub request_cost: f64,
    pub retrieval_cost: f64,
    pub migration_cost: f64,
    /// Storage charged for the rest of a minimum duration when an object left a tier early.
    pub min_duration_cost: f64,
    pub migrations: u64,
    pub bytes_moved: u64,
    /// The same count as `sla_misses`, under the name reports had before SLA was priced (kept
    /// for scripts that read it).
    pub sla_violations: u64,
    /// Total cost over the oracle's.
    pub vs_oracle: f64,
    /// Total cost over the landing oracle's (what a tiering system could reach at best).
    pub vs_oracle_landing: f64,
    /// (best rule − this) / (best rule − oracle-landing): 1 = everything a tiering system could
    /// save over the best rule, 0 = no better than it, negative = worse. None when the best rule
    /// already is the landing optimum (nothing left to capture) or there is no rule to compare.
    pub capture: Option<f64>,
    /// Most bytes each tier held at once.
    pub peak_bytes: Vec<(String, u64)>,
    /// Tiers whose capacity (config) the policy exceeded at some point.
    pub over_capacity: Vec<String>,
    /// Cumulative cost at each of the report's `curve_hours`.
    pub cumulative_cost: Vec<f64>,
    pub secs: f64,
    pub notes: Vec<String>,
    /// For a policy that learns its forecast of reads (dim): which forecast served at the end
    /// and how both were calibrated on held-out objects (reliability bands, Brier per horizon).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastInfo>,
    /// Metered on its product's own classes (S3 Intelligent-Tiering's access tiers, GCS
    /// Autoclass), not the configured tiers: the oracles, which plan on the configured tiers, do
    /// not bound it.
    pub own_classes: bool,
}

impl PolicyResult {
    pub fn new(policy: String, run: Run, oracle_total: f64) -> Self {
        let m = &run.meter;
        let total = m.costs.total();
        // A product metered on its own classes has their (unbounded) capacities.
        let over_capacity = m
            .tiers()
            .iter()
            .zip(&m.peak)
            .filter(|(t, peak)| t.capacity_bytes().is_some_and(|c| **peak > c))
            .map(|(t, _)| t.name.clone())
            .collect();
        Self {
            policy,
            total_cost: total,
            bill: m.costs.bill(),
            sla_misses: m.sla_violations,
            sla_cost: m.costs.sla,
            storage_cost: m.costs.storage,
            request_cost: m.costs.requests,
            retrieval_cost: m.costs.retrieval,
            migration_cost: m.costs.migration,
            min_duration_cost: m.costs.min_duration,
            migrations: m.migrations,
            bytes_moved: m.bytes_moved,
            sla_violations: m.sla_violations,
            vs_oracle: if oracle_total > 0.0 { total / oracle_total } else { 1.0 },
            vs_oracle_landing: 1.0,
            capture: None,
            peak_bytes: m
                .tiers()
                .iter()
                .map(|t| t.name.clone())
                .zip(m.peak.iter().copied())
                .collect(),
            over_capacity,
            cumulative_cost: run.curve,
            secs: run.secs,
            notes: run.notes,
            forecast: run.forecast,
            own_classes: run.own_classes,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OracleInfo {
    /// No tier's capacity binds: the oracle is the optimum, not only a lower bound.
    pub exact: bool,
    pub over_capacity: Vec<String>,
    /// Its cost by the dynamic programme's arithmetic (equals its metered `total_cost`).
    pub planned_cost: f64,
    /// The same for `oracle-landing` (every object first written to the landing tier).
    pub landing_exact: bool,
    pub landing_over_capacity: Vec<String>,
    pub landing_planned_cost: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub trace: Option<TraceInfo>,
    pub events: usize,
    pub objects: usize,
    pub bytes: u64,
    /// Trace time spanned, hours; engine time = trace time × time_scale.
    pub trace_hours: f64,
    pub time_scale: f64,
    pub replay_days: f64,
    pub tiers: Vec<String>,
    pub sla_latency_ms: f64,
    /// Dollars per read served slower than the SLA (`sla.miss_cost`, `--sla-miss-cost`).
    pub sla_miss_cost: f64,
    pub policies: Vec<PolicyResult>,
    pub oracle: OracleInfo,
    /// The cheapest rule within capacity, the yardstick of `capture`.
    pub best_rule: Option<String>,
    /// Days after the trace during which every final placement is still charged.
    pub tail_days: f64,
    /// Capacities were lifted (`--ignore-capacity`).
    pub ignore_capacity: bool,
    /// Trace time (hours) of each point of the policies' `cumulative_cost`.
    pub curve_hours: Vec<f64>,
    pub secs: f64,
}

impl Report {
    pub fn new(
        cfg: &Config,
        w: &Workload,
        mut policies: Vec<PolicyResult>,
        [landing_planned_cost, planned_cost]: [f64; 2],
        curve_hours: Vec<f64>,
        secs: f64,
    ) -> Self {
        let over = |name: &str| {
            policies
                .iter()
                .find(|p| p.policy == name)
                .map(|p| p.over_capacity.clone())
                .unwrap_or_default()
        };
        let (over_capacity, landing_over_capacity) = (over("oracle"), over("oracle-landing"));
        let best_rule = best_rule_of(&policies).map(|p| (p.policy.clone(), p.total_cost));
        let landing = policies
            .iter()
            .find(|p| p.policy == "oracle-landing")
            .map_or(landing_planned_cost, |p| p.total_cost);
        for p in &mut policies {
            p.vs_oracle_landing = if landing > 0.0 { p.total_cost / landing } else { 1.0 };
            p.capture = best_rule.as_ref().and_then(|(_, best)| {
                let room = best - landing;
                (room > 1e-9 * best.abs().max(1e-12)).then(|| (best - p.total_cost) / room)
            });
        }
        Self {
            trace: None,
            events: w.events.len(),
            objects: w.objects(),
            bytes: w.bytes(),
            trace_hours: w.trace_hours(w.end),
            time_scale: w.time_scale,
            replay_days: w.end as f64 / 86_400_000.0,
            tiers: cfg.tiers.iter().map(|t| t.name.clone()).collect(),
            sla_latency_ms: cfg.sla.hot_latency_ms,
            sla_miss_cost: cfg.sla.miss_cost,
            policies,
            oracle: OracleInfo {
                exact: over_capacity.is_empty(),
                over_capacity,
                planned_cost,
                landing_exact: landing_over_capacity.is_empty(),
                landing_over_capacity,
                landing_planned_cost,
            },
            best_rule: best_rule.map(|(n, _)| n),
            tail_days: cfg.replay.tail_days,
            ignore_capacity: false,
            curve_hours,
            secs,
        }
    }

    pub fn policy(&self, name: &str) -> Option<&PolicyResult> {
        self.policies.iter().find(|p| p.policy == name)
    }

    /// The cheapest rule that stayed within every tier's capacity (not a planner, not an oracle).
    pub fn best_rule(&self) -> Option<&PolicyResult> {
        best_rule_of(&self.policies)
    }

    /// One row per policy: its total, bill, SLA cost and their parts, moves, and how it compares.
    fn write_policies(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "\n{:<24} {:>12} {:>12} {:>10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>7} {:>10} {:>8} {:>8} {:>8} {:>8}",
            "policy",
            "total $",
            "bill",
            "SLA $",
            "storage",
            "min-days",
            "requests",
            "retrieval",
            "migrations",
            "moves",
            "moved",
            "SLA miss",
            "×o-land",
            "×oracle",
            "capture"
        );
        for p in &self.policies {
            let mark = if p.over_capacity.is_empty() { "" } else { " !cap" };
            let _ = writeln!(
                s,
                "{:<24} {:>12} {:>12} {:>10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>7} {:>10} {:>8} {:>8.3} {:>8.3} {:>8}",
                format!("{}{mark}", p.policy),
                money(p.total_cost),
                money(p.bill),
                money(p.sla_cost),
                money(p.storage_cost),
                money(p.min_duration_cost),
                money(p.request_cost),
                money(p.retrieval_cost),
                money(p.migration_cost),
                p.migrations,
                bytesize::ByteSize(p.bytes_moved).to_string(),
                p.sla_misses,
                p.vs_oracle_landing,
                p.vs_oracle,
                p.capture.map_or_else(|| "—".to_string(), |c| format!("{c:.3}"))
            );
        }
    }

    /// What each policy noted, which exceeded a capacity, each forecast's calibration, and whether
    /// the oracles are exact.
    fn write_notes(&self, s: &mut String) {
        s.push('\n');
        for p in &self.policies {
            for n in &p.notes {
                let _ = writeln!(s, "{}: {n}", p.policy);
            }
            if !p.over_capacity.is_empty() && !super::policy::ORACLES.contains(&p.policy.as_str()) {
                let _ = writeln!(
                    s,
                    "{}: exceeded the capacity of {} (!cap: never the best rule; --ignore-capacity prices every policy without capacities)",
                    p.policy,
                    p.over_capacity.join(", ")
                );
            }
        }
        for p in &self.policies {
            if let Some(f) = &p.forecast {
                s.push_str(&forecast_table(&p.policy, f));
            }
        }
        for (name, exact, over) in [
            (
                "oracle-landing",
                self.oracle.landing_exact,
                &self.oracle.landing_over_capacity,
            ),
            ("oracle", self.oracle.exact, &self.oracle.over_capacity),
        ] {
            if exact {
                let _ = writeln!(s, "{name}: exact (no tier's capacity binds)");
            } else {
                let _ = writeln!(
                    s,
                    "{name}: capacity binds on {} — the oracles ignore capacity, so this is a lower bound, not a reachable optimum",
                    over.join(", ")
                );
            }
        }
    }

    /// The table for people.
    pub fn table(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.trace {
            s.push_str(&t.describe(self.events));
        }
        let _ = writeln!(
            s,
            "{} objects, {}; trace spans {:.1} h × time scale {} = {:.1} days replayed; tiers {}; SLA {} ms, {} $ per slow read",
            self.objects,
            bytesize::ByteSize(self.bytes),
            self.trace_hours,
            self.time_scale,
            self.replay_days,
            self.tiers.join(" → "),
            self.sla_latency_ms,
            self.sla_miss_cost
        );
        self.write_policies(&mut s);
        self.write_notes(&mut s);
        let _ = writeln!(
            s,
            "oracle-landing writes every object to the landing tier first, as every policy must; oracle may write it anywhere. total = bill + SLA misses × {} $; capture = (best rule − policy) / (best rule − oracle-landing), on total",
            self.sla_miss_cost
        );
        if self.ignore_capacity {
            let _ = writeln!(s, "capacities ignored (--ignore-capacity)");
        }
        if let (Some(d), Some(b)) = (self.policy("dim"), self.best_rule()) {
            let _ = writeln!(
                s,
                "dim: {:.3}× the best rule ({}), capture {}, {} SLA misses against its {}; {:.3}× oracle-landing, {:.3}× the oracle",
                d.total_cost / b.total_cost.max(f64::MIN_POSITIVE),
                b.policy,
                d.capture.map_or_else(|| "—".to_string(), |c| format!("{c:.3}")),
                d.sla_misses,
                b.sla_misses,
                d.vs_oracle_landing,
                d.vs_oracle
            );
        }
        let _ = writeln!(
            s,
            "every final placement is charged for {} days after the trace",
            self.tail_days
        );
        if self.replay_days < 31.0 {
            // The advice names a flag the command that printed this takes: a trace file is
            // stretched, generated events are spread over more days.
            let how = if self.trace.is_some() {
                "--time-scale stretches the trace (e.g. 720 turns 12 h into 360 days)"
            } else {
                "--days spreads the generated events over more days (e.g. --days 360)"
            };
            let _ = writeln!(
                s,
                "note: {:.1} days replayed: rules that wait 30+ days never act; {how}",
                self.replay_days
            );
        }
        let _ = writeln!(s, "replayed in {:.1} s", self.secs);
        s
    }
}

/// The calibration of a policy's forecast, per horizon: learned against the prior on held-out
/// objects, and the reliability bands of the longest horizon measured.
fn forecast_table(policy: &str, f: &ForecastInfo) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{policy}: {} — {}", f.line(), f.why);
    if f.horizons.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "  {:>8} {:>9} {:>9} {:>13} {:>11}",
        "read in", "held out", "read", "Brier learned", "Brier prior"
    );
    for h in &f.horizons {
        let _ = writeln!(
            s,
            "  {:>8} {:>9} {:>8.1}% {:>13.4} {:>11.4}",
            crate::format::hours(h.hours),
            h.learned.samples,
            h.base_rate * 100.0,
            h.learned.brier,
            h.prior.brier
        );
    }
    if let Some(h) = f.horizons.last() {
        let _ = writeln!(
            s,
            "  reliability within {} (predicted → observed, samples): learned {} | prior {}",
            crate::format::hours(h.hours),
            bands(&h.learned.bands),
            bands(&h.prior.bands)
        );
    }
    s
}

fn bands(b: &[crate::engine::model::forecast::Band]) -> String {
    b.iter()
        .map(|b| format!("{:.2}→{:.2} ({})", b.predicted, b.observed, b.samples))
        .collect::<Vec<_>>()
        .join(", ")
}

fn best_rule_of(policies: &[PolicyResult]) -> Option<&PolicyResult> {
    policies
        .iter()
        .filter(|p| {
            let name = p.policy.as_str();
            !super::policy::PLANNERS.contains(&name)
                && !super::policy::ORACLES.contains(&name)
                && p.over_capacity.is_empty()
        })
        .min_by(|a, b| a.total_cost.total_cmp(&b.total_cost))
}
