//! What a replay reports: per policy its cost and parts, moves and SLA violations, relative to the
//! oracle; as a table for people and JSON for machines.

use std::fmt::Write as _;

use serde::Serialize;

use super::policy::Run;
use super::trace::BadLine;
use super::workload::Workload;
use crate::config::Config;

#[derive(Debug, Clone, Serialize)]
pub struct PolicyResult {
    pub policy: String,
    pub total_cost: f64,
    pub storage_cost: f64,
    pub request_cost: f64,
    pub retrieval_cost: f64,
    pub migration_cost: f64,
    pub migrations: u64,
    pub bytes_moved: u64,
    /// Reads (GET, HEAD) served from a tier slower than the SLA.
    pub sla_violations: u64,
    /// Total cost over the oracle's.
    pub vs_oracle: f64,
    /// Most bytes each tier held at once.
    pub peak_bytes: Vec<(String, u64)>,
    /// Tiers whose capacity (config) the policy exceeded at some point.
    pub over_capacity: Vec<String>,
    /// Cumulative cost at each of the report's `curve_hours`.
    pub cumulative_cost: Vec<f64>,
    pub secs: f64,
    pub notes: Vec<String>,
}

impl PolicyResult {
    pub fn new(policy: String, run: Run, cfg: &Config, oracle_total: f64) -> Self {
        let m = &run.meter;
        let total = m.costs.total();
        let over_capacity = cfg
            .tiers
            .iter()
            .zip(&m.peak)
            .filter(|(t, peak)| **peak > t.capacity_bytes())
            .map(|(t, _)| t.name.clone())
            .collect();
        Self {
            policy,
            total_cost: total,
            storage_cost: m.costs.storage,
            request_cost: m.costs.requests,
            retrieval_cost: m.costs.retrieval,
            migration_cost: m.costs.migration,
            migrations: m.migrations,
            bytes_moved: m.bytes_moved,
            sla_violations: m.sla_violations,
            vs_oracle: if oracle_total > 0.0 { total / oracle_total } else { 1.0 },
            peak_bytes: cfg
                .tiers
                .iter()
                .map(|t| t.name.clone())
                .zip(m.peak.iter().copied())
                .collect(),
            over_capacity,
            cumulative_cost: run.curve,
            secs: run.secs,
            notes: run.notes,
        }
    }
}

/// The trace as read (filled in by the command; absent for generated traces).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TraceInfo {
    pub path: String,
    pub format: String,
    pub lines: usize,
    pub bad_lines: usize,
    pub first_bad: Vec<BadLine>,
    /// Requests that failed (4xx/5xx), skipped.
    pub failed_requests: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct OracleInfo {
    /// No tier's capacity binds: the oracle is the optimum, not only a lower bound.
    pub exact: bool,
    pub over_capacity: Vec<String>,
    /// Its cost by the dynamic programme's arithmetic (equals its metered `total_cost`).
    pub planned_cost: f64,
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
    pub policies: Vec<PolicyResult>,
    pub oracle: OracleInfo,
    /// Trace time (hours) of each point of the policies' `cumulative_cost`.
    pub curve_hours: Vec<f64>,
    pub secs: f64,
}

impl Report {
    pub fn new(
        cfg: &Config,
        w: &Workload,
        policies: Vec<PolicyResult>,
        planned_cost: f64,
        curve_hours: Vec<f64>,
        secs: f64,
    ) -> Self {
        let over_capacity = policies
            .iter()
            .find(|p| p.policy == "oracle")
            .map(|p| p.over_capacity.clone())
            .unwrap_or_default();
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
            policies,
            oracle: OracleInfo {
                exact: over_capacity.is_empty(),
                over_capacity,
                planned_cost,
            },
            curve_hours,
            secs,
        }
    }

    pub fn policy(&self, name: &str) -> Option<&PolicyResult> {
        self.policies.iter().find(|p| p.policy == name)
    }

    /// The cheapest rule-based policy (not dim, heuristic-milp or the oracle).
    pub fn best_rule(&self) -> Option<&PolicyResult> {
        self.policies
            .iter()
            .filter(|p| !matches!(p.policy.as_str(), "dim" | "heuristic-milp" | "oracle"))
            .min_by(|a, b| a.total_cost.total_cmp(&b.total_cost))
    }

    /// The table for people.
    pub fn table(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.trace {
            let _ = writeln!(
                s,
                "trace {} ({}): {} lines, {} events, {} bad lines, {} failed requests skipped",
                t.path, t.format, t.lines, self.events, t.bad_lines, t.failed_requests
            );
            for b in &t.first_bad {
                let _ = writeln!(s, "  line {}: {} — {}", b.line, b.reason, b.text);
            }
        }
        let _ = writeln!(
            s,
            "{} objects, {}; trace spans {:.1} h × time scale {} = {:.1} days replayed; tiers {}; SLA {} ms",
            self.objects,
            bytesize::ByteSize(self.bytes),
            self.trace_hours,
            self.time_scale,
            self.replay_days,
            self.tiers.join(" → "),
            self.sla_latency_ms
        );
        let _ = writeln!(
            s,
            "\n{:<24} {:>12} {:>12} {:>12} {:>12} {:>12} {:>7} {:>10} {:>8} {:>8}",
            "policy",
            "total $",
            "storage",
            "requests",
            "retrieval",
            "migrations",
            "moves",
            "moved",
            "SLA miss",
            "×oracle"
        );
        for p in &self.policies {
            let _ = writeln!(
                s,
                "{:<24} {:>12} {:>12} {:>12} {:>12} {:>12} {:>7} {:>10} {:>8} {:>8.3}",
                p.policy,
                money(p.total_cost),
                money(p.storage_cost),
                money(p.request_cost),
                money(p.retrieval_cost),
                money(p.migration_cost),
                p.migrations,
                bytesize::ByteSize(p.bytes_moved).to_string(),
                p.sla_violations,
                p.vs_oracle
            );
        }
        s.push('\n');
        for p in &self.policies {
            for n in &p.notes {
                let _ = writeln!(s, "{}: {n}", p.policy);
            }
            if !p.over_capacity.is_empty() && p.policy != "oracle" {
                let _ = writeln!(
                    s,
                    "{}: exceeded the capacity of {}",
                    p.policy,
                    p.over_capacity.join(", ")
                );
            }
        }
        if self.oracle.exact {
            let _ = writeln!(s, "oracle: exact (no tier's capacity binds)");
        } else {
            let _ = writeln!(
                s,
                "oracle: capacity binds on {} — the oracle ignores capacity, so it is a lower bound, not a reachable optimum",
                self.oracle.over_capacity.join(", ")
            );
        }
        if let (Some(d), Some(b)) = (self.policy("dim"), self.best_rule()) {
            let _ = writeln!(
                s,
                "dim: {:.3}× the best rule ({}), {} SLA misses against its {}; {:.3}× the oracle",
                d.total_cost / b.total_cost.max(f64::MIN_POSITIVE),
                b.policy,
                d.sla_violations,
                b.sla_violations,
                d.vs_oracle
            );
        }
        if self.replay_days < 31.0 {
            let _ = writeln!(
                s,
                "note: {:.1} days replayed: rules that wait 30+ days never act; --time-scale stretches the trace (e.g. 720 turns 12 h into 360 days)",
                self.replay_days
            );
        }
        let _ = writeln!(s, "replayed in {:.1} s", self.secs);
        s
    }
}

/// Dollars with the digits that matter for small and large sums.
pub fn money(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.2}")
    } else if x.abs() >= 1.0 {
        format!("{x:.4}")
    } else {
        format!("{x:.7}")
    }
}
