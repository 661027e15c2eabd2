//! The Prometheus collector: every gauge and counter read from the engine's latest snapshot at
//! scrape time (one source of truth with the dashboard).

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use tokio::sync::watch;

use crate::config::SourceKind;
use crate::engine::ErrorKind;
use crate::engine::MigratorStats;
use crate::engine::RejectReason;
use crate::engine::Snapshot;
use crate::engine::sync;

type Labels = Vec<(&'static str, String)>;

/// Reads every gauge and counter from the latest snapshot on each scrape.
#[derive(Debug)]
pub(super) struct SnapshotCollector {
    snapshots: watch::Receiver<Arc<Snapshot>>,
    migrator: Arc<MigratorStats>,
}

impl SnapshotCollector {
    pub(super) fn new(snapshots: watch::Receiver<Arc<Snapshot>>, migrator: Arc<MigratorStats>) -> SnapshotCollector {
        SnapshotCollector { snapshots, migrator }
    }
}

/// One metric family: its name, help and type, and its samples.
fn family<M: EncodeMetric>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: Vec<(Labels, M)>,
) -> Result<(), std::fmt::Error> {
    let Some(kind) = samples.first().map(|(_, m)| m.metric_type()) else {
        return Ok(());
    };
    let mut fam = enc.encode_descriptor(name, help, None, kind)?;
    for (labels, m) in samples {
        if labels.is_empty() {
            // A family of one unlabelled sample.
            return m.encode(fam);
        }
        m.encode(fam.encode_family(&labels)?)?;
    }
    Ok(())
}

fn gauge(v: f64) -> ConstGauge<f64> {
    ConstGauge::new(v)
}

fn counter(v: f64) -> ConstCounter<f64> {
    ConstCounter::new(v.max(0.0))
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.snapshots.borrow().clone();
        let e = &mut enc;
        encode_source(e, &s)?;
        encode_tiers(e, &s)?;
        encode_migrations(e, &s, &self.migrator)?;
        encode_model_and_plan(e, &s)
    }
}

/// Events ingested and rejected, whether the source is up, and its lag per partition.
fn encode_source(e: &mut DescriptorEncoder, s: &Snapshot) -> Result<(), std::fmt::Error> {
    family(
        e,
        "dim_events_ingested",
        "Events committed to the store",
        vec![(vec![], counter(s.store.events.ingested as f64))],
    )?;
    // Every reason, zero included: a series that appears only on the first rejection
    // would make rate() and alerts miss it.
    let rejected = RejectReason::ALL
        .iter()
        .map(|r| {
            let n = s.store.events.rejected_by_reason.get(r.label()).copied().unwrap_or(0);
            (vec![("reason", r.label().to_string())], counter(n as f64))
        })
        .collect();
    family(
        e,
        "dim_events_rejected",
        "Malformed events rejected, by reason",
        rejected,
    )?;
    family(
        e,
        "dim_source_up",
        "1 when the event source runs (embedded) or is connected (Kafka)",
        vec![(
            vec![("source", s.source.kind.to_string())],
            gauge(f64::from(u8::from(s.source.is_up()))),
        )],
    )?;
    // The embedded source is one partition consumed as it is generated: its lag is 0.
    let lag: Vec<(Labels, ConstGauge<f64>)> = if s.source.kind == SourceKind::Kafka {
        s.source
            .partitions
            .iter()
            .map(|p| (vec![("partition", p.partition.to_string())], gauge(p.lag as f64)))
            .collect()
    } else {
        vec![(vec![("partition", "0".to_string())], gauge(0.0))]
    };
    family(
        e,
        "dim_consumer_lag",
        "Records on the source not yet ingested, by partition",
        lag,
    )?;
    Ok(())
}

/// Per tier: objects, bytes, capacity, latency, operations, errors and monthly cost.
fn encode_tiers(e: &mut DescriptorEncoder, s: &Snapshot) -> Result<(), std::fmt::Error> {
    let per_tier = |f: &dyn Fn(&crate::engine::TierView) -> f64| -> Vec<(Labels, ConstGauge<f64>)> {
        s.tiers
            .iter()
            .map(|t| (vec![("tier", t.name.clone())], gauge(f(t))))
            .collect()
    };
    family(
        e,
        "dim_objects",
        "Objects on each tier",
        per_tier(&|t| t.objects as f64),
    )?;
    family(e, "dim_bytes", "Bytes on each tier", per_tier(&|t| t.bytes as f64))?;
    family(
        e,
        "dim_capacity_bytes",
        "Capacity the optimizer plans each tier with (tiers without a capacity are not listed)",
        s.tiers
            .iter()
            .filter_map(|t| {
                t.capacity_bytes
                    .map(|c| (vec![("tier", t.name.clone())], gauge(c as f64)))
            })
            .collect(),
    )?;
    family(
        e,
        "dim_tier_latency_seconds",
        "Measured latency of operations on each tier (moving average, injected chaos included)",
        per_tier(&|t| t.measured_latency_ms / 1000.0),
    )?;
    family(
        e,
        "dim_tier_operations",
        "Operations through each tier since start",
        s.tiers
            .iter()
            .map(|t| (vec![("tier", t.name.clone())], counter(t.ops as f64)))
            .collect(),
    )?;
    family(
        e,
        "dim_tier_errors",
        "Failed operations on each tier since start (injected or real)",
        s.tiers
            .iter()
            .map(|t| (vec![("tier", t.name.clone())], counter(t.errors as f64)))
            .collect(),
    )?;
    let mut cost: Vec<(Labels, ConstGauge<f64>)> = Vec::new();
    match &s.plan {
        Some(p) => {
            for (plan, by) in [
                ("current", &p.monthly_now_by_tier),
                ("planned", &p.monthly_after_by_tier),
            ] {
                cost.extend(
                    by.iter()
                        .map(|(t, v)| (vec![("tier", t.clone()), ("plan", plan.to_string())], gauge(*v))),
                );
            }
        }
        None => cost.extend(s.tiers.iter().map(|t| {
            (
                vec![("tier", t.name.clone()), ("plan", "current".to_string())],
                gauge(t.monthly_storage_cost),
            )
        })),
    }
    family(
        e,
        "dim_monthly_cost_dollars",
        "Monthly cost per tier: of the placement now (plan=current) and once the last plan's moves are done (plan=planned)",
        cost,
    )?;
    Ok(())
}

/// Moves by result, bytes moved, retries by tier and error, tasks by state.
fn encode_migrations(e: &mut DescriptorEncoder, s: &Snapshot, migrator: &MigratorStats) -> Result<(), std::fmt::Error> {
    let m = &s.migrations;
    family(
        e,
        "dim_migrations",
        "Moves finished since start, by result",
        [
            ("done", m.done),
            ("failed", m.failed_total),
            ("deferred", m.deferred_total),
            ("cancelled", m.cancelled),
        ]
        .into_iter()
        .map(|(r, n)| (vec![("result", r.to_string())], counter(n as f64)))
        .collect(),
    )?;
    family(
        e,
        "dim_migration_bytes",
        "Bytes moved since start",
        vec![(vec![], counter(m.bytes_moved as f64))],
    )?;
    let by = sync::lock(&migrator.retries_by).clone();
    let mut retries = Vec::new();
    for t in &s.tiers {
        for kind in ErrorKind::RETRYABLE {
            let n = by
                .get(&(t.name.clone(), kind.label().to_string()))
                .copied()
                .unwrap_or(0);
            retries.push((
                vec![("tier", t.name.clone()), ("error", kind.label().to_string())],
                counter(n as f64),
            ));
        }
    }
    family(
        e,
        "dim_migration_retries",
        "Retried operations since start, by tier and error",
        retries,
    )?;
    family(
        e,
        "dim_tasks",
        "Migration tasks in the store, by state",
        s.store
            .tasks
            .iter()
            .map(|(st, n)| (vec![("state", st.to_string())], gauge(*n as f64)))
            .collect(),
    )?;
    Ok(())
}

/// The model's holdout PR-AUC, which serves and when it was trained; chaos; the last plan.
fn encode_model_and_plan(e: &mut DescriptorEncoder, s: &Snapshot) -> Result<(), std::fmt::Error> {
    let mut auc = Vec::new();
    if let Some(h) = &s.model.holdout {
        auc.push((vec![("model", "forest".to_string())], gauge(h.pr_auc)));
    }
    if let Some(h) = &s.model.heuristic_holdout {
        auc.push((vec![("model", "heuristic".to_string())], gauge(h.pr_auc)));
    }
    family(
        e,
        "dim_model_pr_auc",
        "PR-AUC on the time-based holdout of the last training, by model",
        auc,
    )?;
    family(
        e,
        "dim_model_forest_serving",
        "1 when the trained forest serves p_hot, 0 when the heuristic does",
        vec![(vec![], gauge(f64::from(u8::from(s.model.serving == "forest"))))],
    )?;
    if let Some(at) = s.model.trained_at {
        family(
            e,
            "dim_model_trained_timestamp_seconds",
            "Engine time of the last training, seconds since the epoch",
            vec![(vec![], gauge(at as f64 / 1000.0))],
        )?;
    }
    let mut chaos = Vec::new();
    for t in &s.tiers {
        let c = &t.chaos;
        for (kind, on) in [
            ("latency", c.latency_ms > 0),
            ("errors", c.error_rate > 0.0),
            ("outage", c.outage),
            ("bandwidth", c.bandwidth_bps.is_some()),
        ] {
            chaos.push((
                vec![("tier", t.name.clone()), ("kind", kind.to_string())],
                gauge(f64::from(u8::from(on))),
            ));
        }
    }
    family(
        e,
        "dim_chaos_active",
        "1 while a kind of fault is injected on a tier",
        chaos,
    )?;
    if let Some(p) = &s.plan {
        family(
            e,
            "dim_plan_moves",
            "Moves the last plan decided",
            vec![(vec![], gauge(p.moves as f64))],
        )?;
        family(
            e,
            "dim_plan_hot_objects",
            "Objects predicted hot at the last plan",
            vec![(vec![], gauge(p.hot_objects as f64))],
        )?;
        family(
            e,
            "dim_plan_sla_violations",
            "Hot objects on a tier slower than the SLA once the last plan's moves are done",
            vec![(vec![], gauge(p.sla_violations_after as f64))],
        )?;
    }
    Ok(())
}
