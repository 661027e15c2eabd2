//! Trace replay and policy comparison: a real access trace through dim's placement and through
//! the rules users run today, each charged by the same cost meter, against the offline optimum.

// In the crate, not Cargo.toml: a `[lints]` table would reach the integration tests too, where
// `unwrap()` is the assertion.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(unreachable_pub)]

/// Our crates under the names the modules use (`crate::config::…`, `crate::engine::…`).
use dim_config as config;
use dim_engine as engine;
use dim_engine::format;

pub mod break_even;
pub mod chart;
pub mod cloudfront;
pub mod history;
pub mod inventory;
pub mod labelled;
pub mod log_line;
pub mod meter;
pub mod oracle;
pub mod planned;
pub mod policy;
pub mod products;
pub mod report;
pub mod rules;
pub mod s3_log;
pub mod trace;
pub mod trace_info;
pub mod workload;

use crate::engine::sync;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::Config;
use crate::engine::clock::Millis;
use crate::engine::placement::billing::SlaPrice;
use oracle::Oracle;
use policy::{ORACLES, Policy, Run, coldest};
use report::{PolicyResult, Report};
use workload::Workload;

/// Every policy `--policies all` runs, in report order (the two bounds last).
pub const POLICIES: [&str; 13] = [
    "dim",
    "heuristic-milp",
    "ski-rental",
    "s3-intelligent-tiering",
    "gcs-autoclass",
    "azure-last-access",
    "fabricpool-auto",
    "age-lifecycle",
    "lru-hot-tier",
    "all-hot",
    "all-cold",
    "oracle-landing",
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
/// both oracles are always included (capture and every ratio are relative to them).
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
    want.extend(ORACLES);
    Ok(POLICIES.iter().copied().filter(|p| want.contains(p)).collect())
}

fn build(name: &str, cfg: &Config, w: &Workload, oracles: &[Oracle; 2]) -> Box<dyn Policy> {
    let (n_t, cold, objects) = (cfg.tiers.len(), coldest(&cfg.tiers), w.objects());
    let r = &cfg.replay;
    let rules = rules::RuleLimits::new(cfg);
    match name {
        "dim" => Box::new(planned::Planned::new("dim", true, cfg, &w.sizes, &w.keys)),
        "heuristic-milp" => Box::new(planned::Planned::new("heuristic-milp", false, cfg, &w.sizes, &w.keys)),
        "ski-rental" => Box::new(rules::Timed::ski_rental(
            &cfg.tiers,
            SlaPrice::of(&cfg.sla),
            0,
            &w.sizes,
        )),
        "s3-intelligent-tiering" => Box::new(rules::Timed::intelligent_tiering(
            &r.intelligent_tiering_days,
            products::intelligent_tiering(cfg),
            &w.sizes,
            &rules,
        )),
        "gcs-autoclass" => Box::new(rules::Timed::autoclass(products::autoclass(cfg), &w.sizes)),
        "azure-last-access" => Box::new(rules::Timed::azure_last_access(products::azure(cfg), objects)),
        "fabricpool-auto" => Box::new(rules::Timed::fabricpool(r.fabricpool_cooling_days, cold, objects)),
        "age-lifecycle" => Box::new(rules::Timed::lifecycle(&r.lifecycle_days, n_t, &w.sizes, &rules)),
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
        "oracle-landing" => Box::new(oracles[0].clone()),
        _ => Box::new(oracles[1].clone()),
    }
}

/// The engine time after the trace during which every final placement is still charged.
pub fn tail_ms(cfg: &Config) -> Millis {
    (cfg.replay.tail_days * 86_400_000.0) as Millis
}

/// `cfg` with every tier's capacity lifted (`--ignore-capacity`): policies are priced as if
/// the tiers could hold any trace.
pub fn without_capacity(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    for t in &mut c.tiers {
        t.capacity_gb = None;
    }
    c
}

/// Replays `w` through the named policies (in parallel, one thread per core) and reports.
pub fn compare(cfg: &Config, w: &Workload, names: &[&str]) -> Result<Report, ReplayError> {
    if w.events.is_empty() {
        return Err(ReplayError::Empty);
    }
    let started = std::time::Instant::now();
    let tail = tail_ms(cfg);
    let landing = cfg
        .tiers
        .iter()
        .position(|t| t.name == cfg.landing_tier().name)
        .unwrap_or(0);
    // The two bounds are independent: one thread each.
    let sla = SlaPrice::of(&cfg.sla);
    let oracles = std::thread::scope(|s| {
        let free = s.spawn(|| Oracle::solve(w, &cfg.tiers, sla, tail));
        let landing = Oracle::solve_landing(w, &cfg.tiers, sla, tail, landing);
        let free = free.join().unwrap_or_else(|_| Oracle::solve(w, &cfg.tiers, sla, tail));
        [landing, free]
    });
    let span = (w.end + tail) as f64;
    let points: Vec<Millis> = (1..=CURVE_POINTS)
        .map(|k| (span * k as f64 / CURVE_POINTS as f64) as Millis)
        .collect();
    let policies: Vec<Mutex<Option<Box<dyn Policy>>>> = names
        .iter()
        .map(|n| Mutex::new(Some(build(n, cfg, w, &oracles))))
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
                    let taken = sync::lock(&policies[i]).take();
                    if let Some(mut p) = taken {
                        let run = policy::run(p.as_mut(), w, &cfg.tiers, sla, tail, &points);
                        *sync::lock(&runs[i]) = Some(run);
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
        .map_or(oracles[1].cost, |(_, r)| r.meter.costs.total());
    let results = runs
        .into_iter()
        .map(|(name, run)| PolicyResult::new(name, run, oracle_total))
        .collect();
    Ok(Report::new(
        cfg,
        w,
        results,
        [oracles[0].cost, oracles[1].cost],
        points.iter().map(|t| w.trace_hours(*t)).collect(),
        started.elapsed().as_secs_f64(),
    ))
}
