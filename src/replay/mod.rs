//! Trace replay and policy comparison: a real access trace through dim's placement and through
//! the rules users run today, each charged by the same cost meter, against the offline optimum.

pub mod chart;
pub mod cmd;
pub mod meter;
pub mod oracle;
pub mod planned;
pub mod policy;
pub mod report;
pub mod rules;
pub mod trace;
pub mod workload;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::Config;
use crate::engine::clock::Millis;
use oracle::Oracle;
use policy::{Policy, Run, coldest};
use report::{PolicyResult, Report};
use workload::Workload;

/// Every policy `--policies all` runs, in report order (the oracle last).
pub const POLICIES: [&str; 9] = [
    "dim",
    "heuristic-milp",
    "s3-intelligent-tiering",
    "fabricpool-auto",
    "age-lifecycle",
    "lru-hot-tier",
    "all-hot",
    "all-cold",
    "oracle",
];

/// Points of the cumulative-cost curves.
const CURVE_POINTS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no policy named {name:?}{hint}; the policies are: {}, or \"all\"", POLICIES.join(", "))]
    UnknownPolicy { name: String, hint: String },
    #[error("the trace has no usable events")]
    Empty,
}

/// The policy names of a `--policies` list ("all" or comma-separated names), in report order;
/// the oracle is always included (every cost is reported relative to it).
pub fn policy_names(list: &str) -> Result<Vec<&'static str>, ReplayError> {
    let mut want: Vec<&'static str> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name == "all" {
            want.extend(POLICIES);
            continue;
        }
        match POLICIES.iter().find(|p| **p == name) {
            Some(p) => want.push(p),
            None => {
                let hint = crate::config::closest(name, POLICIES)
                    .map(|c| format!(" (did you mean {c:?}?)"))
                    .unwrap_or_default();
                return Err(ReplayError::UnknownPolicy {
                    name: name.into(),
                    hint,
                });
            }
        }
    }
    want.push("oracle");
    Ok(POLICIES.iter().copied().filter(|p| want.contains(p)).collect())
}

fn build(name: &str, cfg: &Config, w: &Workload, oracle: &Oracle) -> Box<dyn Policy> {
    let (n_t, cold, objects) = (cfg.tiers.len(), coldest(&cfg.tiers), w.objects());
    let r = &cfg.replay;
    match name {
        "dim" => Box::new(planned::Planned::new("dim", true, cfg, &w.sizes)),
        "heuristic-milp" => Box::new(planned::Planned::new("heuristic-milp", false, cfg, &w.sizes)),
        "s3-intelligent-tiering" => Box::new(rules::Timed::intelligent_tiering(
            &r.intelligent_tiering_days,
            n_t,
            objects,
        )),
        "fabricpool-auto" => Box::new(rules::Timed::fabricpool(r.fabricpool_cooling_days, cold, objects)),
        "age-lifecycle" => Box::new(rules::Timed::lifecycle(&r.lifecycle_days, n_t, objects)),
        "lru-hot-tier" => Box::new(rules::Lru::new(
            (w.bytes() as f64 * r.lru_share) as u64,
            0,
            cold,
            &w.sizes,
        )),
        "all-hot" => Box::new(rules::Fixed {
            name: "all-hot",
            tier: 0,
        }),
        "all-cold" => Box::new(rules::Fixed {
            name: "all-cold",
            tier: cold,
        }),
        _ => Box::new(oracle.clone()),
    }
}

/// Replays `w` through the named policies (in parallel, one thread per core) and reports.
pub fn compare(cfg: &Config, w: &Workload, names: &[&str]) -> Result<Report, ReplayError> {
    if w.events.is_empty() {
        return Err(ReplayError::Empty);
    }
    let started = std::time::Instant::now();
    let oracle = Oracle::solve(w, &cfg.tiers);
    let points: Vec<Millis> = (1..=CURVE_POINTS)
        .map(|k| (w.end as f64 * k as f64 / CURVE_POINTS as f64) as Millis)
        .collect();
    let policies: Vec<Mutex<Option<Box<dyn Policy>>>> = names
        .iter()
        .map(|n| Mutex::new(Some(build(n, cfg, w, &oracle))))
        .collect();
    let runs: Vec<Mutex<Option<Run>>> = names.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(names.len());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= names.len() {
                        return;
                    }
                    let taken = policies[i].lock().unwrap_or_else(|p| p.into_inner()).take();
                    if let Some(mut p) = taken {
                        let run = policy::run(p.as_mut(), w, &cfg.tiers, cfg.sla.hot_latency_ms, &points);
                        *runs[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(run);
                    }
                }
            });
        }
    });
    let runs: Vec<(String, Run)> = names
        .iter()
        .zip(runs)
        .filter_map(|(n, r)| {
            r.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .map(|r| (n.to_string(), r))
        })
        .collect();
    let oracle_total = runs
        .iter()
        .find(|(n, _)| n == "oracle")
        .map_or(oracle.cost, |(_, r)| r.meter.costs.total());
    let results = runs
        .into_iter()
        .map(|(name, run)| PolicyResult::new(name, run, cfg, oracle_total))
        .collect();
    Ok(Report::new(
        cfg,
        w,
        results,
        oracle.cost,
        points.iter().map(|t| w.trace_hours(*t)).collect(),
        started.elapsed().as_secs_f64(),
    ))
}
