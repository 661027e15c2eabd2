//! `dim bench replay`: N events from the workload generator through every policy, timed.

use serde::Serialize;

use crate::config::Config;
use crate::engine::events::generator::Workload as Generator;
use crate::replay::trace::{Trace, TraceEvent};
use crate::replay::workload::Workload;

#[derive(Debug, Serialize)]
struct Figures {
    events: usize,
    objects: usize,
    replay_days: f64,
    policies: usize,
    /// Wall time of the whole comparison (oracle, all policies in parallel, report).
    secs: f64,
    events_per_sec: f64,
    /// Per policy: its own replay time, total cost, cost over the oracle's and capture.
    per_policy: Vec<(String, f64, f64, f64, Option<f64>)>,
    dim_notes: Vec<String>,
    peak_rss_mib: Option<f64>,
}

/// A trace of `events` accesses to a population of `objects` from the embedded generator, spread
/// evenly over `days` of engine time.
pub fn synthetic(cfg: &Config, events: usize, objects: usize, days: f64) -> Trace {
    let mut p = cfg.events.embedded.clone();
    p.max_objects = objects;
    let mut g = Generator::new(&p);
    g.seed_objects(objects * 3 / 4, u64::MAX, 0);
    let span_ms = days * 86_400_000.0;
    let mut out = Vec::new();
    let mut t = Trace::default();
    t.events.reserve(events);
    let mut k = 0usize;
    while t.events.len() < events {
        let now = (span_ms * k as f64 / events as f64) as i64;
        k += 1;
        out.clear();
        g.next(now, &mut out);
        t.events.extend(out.iter().map(|e| TraceEvent {
            ts_ms: e.event.ts,
            key: e.event.key.clone(),
            size: e.event.size,
            op: e.event.op,
        }));
    }
    t.events.truncate(events);
    t.lines = events;
    t
}

pub fn run(
    cfg: &Config,
    events: usize,
    objects: usize,
    days: f64,
    ignore_capacity: bool,
    as_json: bool,
) -> anyhow::Result<()> {
    let t = synthetic(cfg, events, objects, days);
    let w = Workload::from_trace(&t, 1.0);
    let names = crate::replay::policy_names("all")?;
    let lifted = crate::replay::without_capacity(cfg);
    let cfg = if ignore_capacity { &lifted } else { cfg };
    let mut r = crate::replay::compare(cfg, &w, &names)?;
    r.ignore_capacity = ignore_capacity;
    let f = Figures {
        events: w.events.len(),
        objects: w.objects(),
        replay_days: r.replay_days,
        policies: r.policies.len(),
        secs: r.secs,
        events_per_sec: w.events.len() as f64 / r.secs.max(1e-9),
        per_policy: r
            .policies
            .iter()
            .map(|p| (p.policy.clone(), p.secs, p.total_cost, p.vs_oracle, p.capture))
            .collect(),
        dim_notes: r.policy("dim").map(|p| p.notes.clone()).unwrap_or_default(),
        peak_rss_mib: super::peak_rss_mib(),
    };
    if !as_json {
        print!("{}", r.table());
    }
    super::report(&f, as_json, |f| {
        format!(
            "{} events through {} policies in {:.1} s; peak RSS {:.0} MiB",
            f.events,
            f.policies,
            f.secs,
            f.peak_rss_mib.unwrap_or(f64::NAN)
        )
    })
}
