//! The figures a scenario expectation can name (`migrations.done`, `tier.aws-hot.hot_share`, …) and their values.

use serde::{Deserialize, Serialize};

use crate::audit::Audit;
use crate::migrate::task::TaskState;
use crate::placement::planner::PlanSummary;
use crate::snapshot::Snapshot;

/// Figures of the whole engine, by name, with what they mean (shown by `dim scenario figures`).
/// Counters (events, migrations, retries, a tier's ops and errors) count from the scenario's start.
pub const GLOBAL: &[(&str, &str)] = &[
    ("events.ingested", "events committed to the store"),
    ("events.rejected", "malformed events rejected"),
    ("events.per_sec", "ingest rate now, events per wall second"),
    ("objects", "objects the store knows"),
    ("objects.unplaced", "objects named by events but on no tier"),
    (
        "objects.lost",
        "placed objects missing from their tier (an audit that lists every tier)",
    ),
    ("migrations.done", "moves finished since start"),
    ("migrations.failed", "moves failed since start"),
    ("migrations.deferred", "deferrals since start, any reason"),
    (
        "migrations.deferred_growing",
        "deferrals because the object was being written (file_growing)",
    ),
    ("migrations.cancelled", "moves cancelled since start"),
    ("migrations.bytes_moved", "bytes moved since start"),
    ("migrations.queued", "tasks not finished (pending, deferred or running)"),
    ("migrations.in_flight", "tasks running now"),
    ("retries", "retried operations since start (throttling, 5xx, timeouts)"),
    (
        "cost.monthly_before",
        "$/month of the placement at the scenario's first plan",
    ),
    ("cost.monthly_now", "$/month of the placement at the last plan"),
    ("cost.monthly_after", "$/month once the last plan's moves are done"),
    (
        "cost.priced_now",
        "what the last plan minimises, with every object staying: $ over the planning horizon of the bill plus slow reads at sla.miss_cost",
    ),
    (
        "cost.priced_after",
        "the same with the last plan's moves and their one-time costs (a plan may raise the bill to serve hot reads faster)",
    ),
    (
        "cost.monthly_all_fast",
        "$/month if every object sat on the fastest tier (no tiering), at the last plan",
    ),
    ("cost.storage_now", "$/month of storage for what the tiers hold now"),
    ("plan.count", "plans made since the scenario started"),
    ("plan.moves", "moves the last plan decided"),
    ("plan.hot_objects", "objects predicted hot at the last plan"),
    ("plan.hot_bytes", "bytes of the objects predicted hot at the last plan"),
    (
        "plan.capacity_binding",
        "1 when a tier's capacity bound the last plan (or what cannot move already exceeds it)",
    ),
    (
        "plan.sla_violations",
        "hot objects on a tier slower than the SLA, at the last plan",
    ),
    (
        "plan.sla_violations_after",
        "the same once the last plan's moves are done",
    ),
    (
        "plan.reads_within_sla",
        "share of a month's forecast reads served within the SLA, at the last plan",
    ),
    (
        "plan.reads_within_sla_after",
        "the same once the last plan's moves are done",
    ),
    ("model.forest", "1 when the trained forest serves, 0 for the heuristic"),
    (
        "model.pr_auc",
        "PR-AUC of the last trained forest on its holdout (serving or not)",
    ),
    ("model.roc_auc", "ROC-AUC of the last trained forest on its holdout"),
    (
        "model.heuristic_pr_auc",
        "PR-AUC of the decayed-rate heuristic on the same holdout",
    ),
    (
        "model.serving_pr_auc",
        "PR-AUC on the holdout of whichever serves (the forest only when it beats the heuristic)",
    ),
    ("source.lag", "Kafka records not yet ingested"),
    (
        "source.connected",
        "1 when the event source runs (embedded) or is connected (Kafka)",
    ),
    ("workload.growing", "objects being written continuously now"),
    ("workload.flash_objects", "objects under a flash crowd now"),
];

/// Figures of one tier: `tier.NAME.FIELD`.
pub const PER_TIER: &[(&str, &str)] = &[
    ("objects", "objects on the tier"),
    ("bytes", "bytes on the tier"),
    ("capacity_bytes", "capacity the optimizer plans with"),
    ("fill", "bytes / capacity"),
    ("planned_bytes", "bytes on the tier once the last plan's moves are done"),
    ("ops", "operations through the tier since start"),
    ("errors", "failed operations (injected or real)"),
    ("hot_objects", "hot objects on the tier at the last plan"),
    ("hot_share", "share of all hot objects on the tier at the last plan"),
    ("cost", "$/month of storage for what it holds"),
];

/// What a scenario keeps track of while it plays (figures no single snapshot holds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Engine time the scenario started.
    pub start_ms: i64,
    pub monthly_before: Option<f64>,
    pub plans: u64,
    pub last_plan_at: Option<i64>,
    /// The snapshot at the start: counters are reported relative to it.
    #[serde(skip)]
    pub base: Option<std::sync::Arc<Snapshot>>,
}

impl Track {
    /// Notes a plan made since the scenario started.
    pub fn observe(&mut self, s: &Snapshot) {
        if let Some(p) = &s.plan
            && p.at >= self.start_ms
            && self.last_plan_at != Some(p.at)
        {
            self.last_plan_at = Some(p.at);
            self.plans += 1;
            self.monthly_before.get_or_insert(p.monthly_now);
        }
    }
}

/// A figure, resolved against the scenario's tiers.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Global(&'static str),
    Tier { tier: String, field: &'static str },
}

impl Figure {
    /// `name` as a figure, or what is wrong with it and the closest valid name.
    pub fn parse(name: &str, tiers: &[String]) -> Result<Self, (String, String)> {
        if let Some((n, _)) = GLOBAL.iter().find(|(n, _)| *n == name) {
            return Ok(Figure::Global(n));
        }
        if let Some(rest) = name.strip_prefix("tier.") {
            let Some((tier, field)) = rest.rsplit_once('.') else {
                return Err((
                    format!("`{name}` names no figure of a tier"),
                    "write tier.NAME.FIELD, e.g. tier.aws-hot.hot_share".into(),
                ));
            };
            if !tiers.iter().any(|t| t == tier) {
                return Err((
                    format!("unknown tier `{tier}` in `{name}`"),
                    suggest(tier, tiers.iter().map(String::as_str), "tiers"),
                ));
            }
            return match PER_TIER.iter().find(|(f, _)| *f == field) {
                Some((f, _)) => Ok(Figure::Tier {
                    tier: tier.to_string(),
                    field: f,
                }),
                None => Err((
                    format!("unknown tier figure `{field}` in `{name}`"),
                    suggest(field, PER_TIER.iter().map(|(f, _)| *f), "tier figures"),
                )),
            };
        }
        let mut all: Vec<String> = GLOBAL.iter().map(|(n, _)| n.to_string()).collect();
        for t in tiers {
            all.extend(PER_TIER.iter().map(|(f, _)| format!("tier.{t}.{f}")));
        }
        Err((
            format!("unknown figure `{name}`"),
            suggest(name, all.iter().map(String::as_str), "figures"),
        ))
    }

    /// True for figures only measured at the end (the audit lists every tier).
    pub fn end_only(&self) -> bool {
        matches!(self, Figure::Global("objects.lost"))
    }

    /// The figure's value now; None when there is nothing to measure yet (e.g. no plan ran).
    pub fn value(&self, s: &Snapshot, track: &Track, audit: Option<&Audit>) -> Option<f64> {
        let v = self.raw(s, track, audit)?;
        // A counter counts from the scenario's start, whatever ran on this data directory before.
        match (&track.base, self.is_counter()) {
            (Some(base), true) => Some((v - self.raw(base, track, audit).unwrap_or(0.0)).max(0.0)),
            _ => Some(v),
        }
    }

    fn is_counter(&self) -> bool {
        match self {
            Figure::Global(n) => {
                n.starts_with("events.") && *n != "events.per_sec"
                    || (n.starts_with("migrations.") && !matches!(*n, "migrations.queued" | "migrations.in_flight"))
                    || *n == "retries"
            }
            Figure::Tier { field, .. } => matches!(*field, "ops" | "errors"),
        }
    }

    fn raw(&self, s: &Snapshot, track: &Track, audit: Option<&Audit>) -> Option<f64> {
        let plan = s.plan.as_ref().filter(|p| p.at >= track.start_ms);
        match self {
            Figure::Global(name) => global(name, s, track, audit, plan),
            Figure::Tier { tier, field } => tier_figure(tier, field, s, plan),
        }
    }
}

fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str> + Clone, what: &str) -> String {
    match crate::config::closest(word, candidates.clone()) {
        Some(c) => format!("did you mean `{c}`? (`dim scenario figures` lists them all)"),
        None => {
            let list: Vec<&str> = candidates.into_iter().take(12).collect();
            format!(
                "{what}: {}{}",
                list.join(", "),
                if list.len() == 12 { ", …" } else { "" }
            )
        }
    }
}

/// A figure of the whole engine (events, objects, migrations, model, source, workload), or of
/// the last plan made since the scenario started (`plan`).
fn global(name: &str, s: &Snapshot, track: &Track, audit: Option<&Audit>, plan: Option<&PlanSummary>) -> Option<f64> {
    let m = &s.migrations;
    let model = s.model.holdout.as_ref();
    Some(match name {
        "events.ingested" => s.store.events.ingested as f64,
        "events.rejected" => s.store.events.rejected as f64,
        "events.per_sec" => s.events_per_sec,
        "objects" => s.store.objects as f64,
        "objects.unplaced" => s.store.unplaced as f64,
        "objects.lost" => audit?.lost as f64,
        "migrations.done" => m.done as f64,
        "migrations.failed" => m.failed_total as f64,
        "migrations.deferred" => m.deferred_total as f64,
        "migrations.deferred_growing" => m.deferred_growing as f64,
        "migrations.cancelled" => m.cancelled as f64,
        "migrations.bytes_moved" => m.bytes_moved as f64,
        "migrations.queued" => TaskState::ALL
            .iter()
            .filter(|st| !st.is_terminal())
            .map(|st| s.store.tasks.get(st).copied().unwrap_or(0))
            .sum::<u64>() as f64,
        "migrations.in_flight" => m.in_flight.len() as f64,
        "retries" => m.retries as f64,
        "cost.monthly_before" => track.monthly_before?,
        "cost.storage_now" => s.monthly_storage_cost,
        "plan.count" => track.plans as f64,
        "model.forest" => f64::from(u8::from(s.model.serving == "forest")),
        "model.pr_auc" => model?.pr_auc,
        "model.roc_auc" => model?.roc_auc,
        "model.heuristic_pr_auc" => s.model.heuristic_holdout.as_ref()?.pr_auc,
        "model.serving_pr_auc" => match s.model.serving.as_str() {
            "forest" => model?.pr_auc,
            _ => s.model.heuristic_holdout.as_ref()?.pr_auc,
        },
        "source.lag" => s.source.lag as f64,
        "source.connected" => f64::from(u8::from(s.source.is_up())),
        "workload.growing" => s.workload.as_ref().map_or(0, |w| w.growing.len()) as f64,
        "workload.flash_objects" => s.workload.as_ref().map_or(0, |w| w.flash_objects) as f64,
        _ => return plan_figure(name, plan?),
    })
}

/// A figure of plan `p`: its costs, moves, hot objects and the SLA.
fn plan_figure(name: &str, p: &PlanSummary) -> Option<f64> {
    Some(match name {
        "cost.monthly_now" => p.monthly_now,
        "cost.monthly_after" => p.monthly_after,
        "cost.priced_now" => p.objective_now,
        "cost.priced_after" => p.objective_after,
        "cost.monthly_all_fast" => p.monthly_all_fast,
        "plan.moves" => p.moves as f64,
        "plan.hot_objects" => p.hot_objects as f64,
        "plan.hot_bytes" => p.hot_bytes as f64,
        "plan.capacity_binding" => f64::from(u8::from(p.binding.iter().any(|b| b.starts_with("capacity:")))),
        "plan.sla_violations" => p.sla_violations_now as f64,
        "plan.sla_violations_after" => p.sla_violations_after as f64,
        "plan.reads_within_sla" => within_sla(p.slow_reads_month_now, p.reads_month),
        "plan.reads_within_sla_after" => within_sla(p.slow_reads_month_after, p.reads_month),
        _ => return None,
    })
}

/// A figure of tier `tier` (`tier.NAME.FIELD`), some of them from the last plan.
fn tier_figure(tier: &str, field: &str, s: &Snapshot, plan: Option<&PlanSummary>) -> Option<f64> {
    let t = s.tiers.iter().find(|t| t.name == tier)?;
    let hot = |p: &PlanSummary| p.hot_by_tier.iter().find(|(n, _)| n == tier).map_or(0, |(_, h)| *h);
    Some(match field {
        "objects" => t.objects as f64,
        "bytes" => t.bytes as f64,
        "capacity_bytes" => t.capacity_bytes.map_or(f64::INFINITY, |c| c as f64),
        "fill" => t.capacity_bytes.map_or(0.0, |c| t.bytes as f64 / c.max(1) as f64),
        "ops" => t.ops as f64,
        "errors" => t.errors as f64,
        "hot_objects" => hot(plan?) as f64,
        "hot_share" => {
            let p = plan?;
            if p.hot_objects == 0 {
                return None;
            }
            hot(p) as f64 / p.hot_objects as f64
        }
        "cost" => t.monthly_storage_cost,
        "planned_bytes" => plan?
            .bytes_after_by_tier
            .iter()
            .find(|(n, _)| n == tier)
            .map_or(0, |(_, b)| *b) as f64,
        _ => return None,
    })
}

/// The share of `reads` that are not `slow` (1 when no read is expected: none misses the SLA).
fn within_sla(slow: f64, reads: f64) -> f64 {
    if reads > 0.0 { 1.0 - slow / reads } else { 1.0 }
}
