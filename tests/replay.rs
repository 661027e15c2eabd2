//! Replay: the meter's exact costs on a hand-computed fixture, the oracle against brute force and
//! against every policy, and the `dim replay` command's report, JSON and chart.

use std::process::Command;

use data_in_motion::config::{Config, TierConfig};
use data_in_motion::engine::events::Op;
use data_in_motion::replay::meter::Meter;
use data_in_motion::replay::oracle::Oracle;
use data_in_motion::replay::trace::{self, Format, Trace, TraceEvent};
use data_in_motion::replay::workload::Workload;
use data_in_motion::replay::{POLICIES, compare, policy_names};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/replay");

fn fixture(name: &str, f: Format) -> Trace {
    let file = std::fs::File::open(format!("{FIXTURES}/{name}")).unwrap();
    trace::read(std::io::BufReader::new(file), f).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 + 1e-9 * a.abs().max(b.abs())
}

/// tiny.csv on the default tiers (hot: $0.023/GB-month, GET $0.0004/1k, PUT $0.005/1k, no
/// retrieval; archive: $0.004, GET $0.01/1k, PUT $0.02/1k, retrieval $0.03/GB; SLA 50 ms).
/// a (1 GB) PUT at 0, GET day 1, HEAD day 3, GET day 30; b (2 GB) PUT at 0, GET day 2, DELETE
/// day 15; the replay ends at day 30 = one month.
#[test]
fn all_hot_and_all_cold_cost_what_the_hand_computation_says() {
    let t = fixture("tiny.csv", Format::Csv);
    assert_eq!((t.events.len(), t.bad), (7, 1), "{:?}", t.first_bad);
    let cfg = Config::embedded_default().unwrap();
    let w = Workload::from_trace(&t, 1.0);
    let r = compare(&cfg, &w, &["all-hot", "all-cold", "oracle"]).unwrap();
    let hot = r.policy("all-hot").unwrap();
    // Storage: a 1 GB × 0.023 × 1 month + b 2 GB × 0.023 × ½ month.
    assert!(close(hot.storage_cost, 0.023 + 0.023), "{}", hot.storage_cost);
    // Two PUTs (0.005/1k), two GETs and a HEAD on a and a GET on b (0.0004/1k each).
    assert!(
        close(hot.request_cost, 2.0 * 0.005e-3 + 4.0 * 0.0004e-3),
        "{}",
        hot.request_cost
    );
    assert_eq!(
        (hot.retrieval_cost, hot.migration_cost, hot.sla_violations),
        (0.0, 0.0, 0)
    );
    assert!(close(hot.total_cost, 0.0460116), "{}", hot.total_cost);
    let cold = r.policy("all-cold").unwrap();
    assert!(
        close(cold.storage_cost, 0.004 + 2.0 * 0.004 * 0.5),
        "{}",
        cold.storage_cost
    );
    assert!(
        close(cold.request_cost, 2.0 * 0.02e-3 + 4.0 * 0.01e-3),
        "{}",
        cold.request_cost
    );
    // Retrieval: a read twice (2 × 1 GB) and b once (2 GB), 0.03/GB; HEAD retrieves nothing.
    assert!(close(cold.retrieval_cost, 4.0 * 0.03), "{}", cold.retrieval_cost);
    assert_eq!(cold.sla_violations, 4, "three GETs and a HEAD on a 150 ms tier");
    assert!(close(cold.total_cost, 0.12808), "{}", cold.total_cost);
    let oracle = r.policy("oracle").unwrap();
    assert!(oracle.total_cost <= hot.total_cost.min(cold.total_cost));
    assert!(
        close(oracle.total_cost, r.oracle.planned_cost),
        "the meter charges the oracle what its plan says"
    );
}

/// Random prices on three tiers; egress the same everywhere, so a direct move is always the
/// cheapest way between two tiers (the brute force below cannot chain moves at one instant).
fn random_tiers(rng: &mut StdRng) -> Vec<TierConfig> {
    let base = Config::embedded_default().unwrap().tiers;
    base.into_iter()
        .enumerate()
        .map(|(i, mut t)| {
            t.provider = format!("p{i}");
            t.storage_gb_month = rng.random_range(0.001..0.05);
            t.get_per_1k = rng.random_range(0.0..0.5);
            t.put_per_1k = rng.random_range(0.0..0.5);
            t.retrieval_gb = rng.random_range(0.0..0.05);
            t.egress_gb = 0.02;
            t
        })
        .collect()
}

/// The cheapest of every schedule for one object: the tier serving each access, and the tiers it
/// waits on in each half of the gap after it, priced by the meter.
fn brute_force(w: &Workload, tiers: &[TierConfig]) -> f64 {
    let n = w.events.len();
    let n_t = tiers.len();
    let choices = 3 * n;
    let mut best = f64::INFINITY;
    for code in 0..n_t.pow(choices as u32) {
        let mut c = code;
        let mut pick = Vec::with_capacity(choices);
        for _ in 0..choices {
            pick.push(c % n_t);
            c /= n_t;
        }
        let mut m = Meter::new(tiers, 50.0, w.sizes.clone());
        for (i, e) in w.events.iter().enumerate() {
            let (serve, first_half, second_half) = (pick[3 * i], pick[3 * i + 1], pick[3 * i + 2]);
            m.migrate(0, serve, e.ts);
            m.access(0, e.op, e.ts, serve);
            m.migrate(0, first_half, e.ts);
            let next = w.events.get(i + 1).map_or(w.end, |n| n.ts);
            m.migrate(0, second_half, (e.ts + next) / 2);
        }
        m.finish(w.end);
        best = best.min(m.costs.total());
    }
    best
}

#[test]
fn the_oracle_equals_a_brute_force_optimum_on_tiny_traces() {
    let mut rng = StdRng::seed_from_u64(11);
    for case in 0..25 {
        let tiers = random_tiers(&mut rng);
        let n = rng.random_range(1..=3);
        let mut ts = 0;
        let mut events = Vec::new();
        for k in 0..n {
            ts += rng.random_range(0..40 * 86_400_000i64);
            let op = if k == 0 && rng.random_bool(0.5) {
                Op::Put
            } else {
                [Op::Get, Op::Head, Op::Put][rng.random_range(0..3)]
            };
            events.push(TraceEvent {
                ts_ms: ts,
                key: "x".into(),
                size: Some(rng.random_range(1..20_000_000_000u64)),
                op,
            });
        }
        let t = Trace {
            events,
            ..Trace::default()
        };
        let mut w = Workload::from_trace(&t, 1.0);
        // A tail after the last access, so waiting somewhere cheap matters there too.
        w.end += rng.random_range(0..60 * 86_400_000i64);
        let oracle = Oracle::solve(&w, &tiers);
        let brute = brute_force(&w, &tiers);
        assert!(
            close(oracle.cost, brute),
            "case {case}: oracle {} vs brute force {brute}",
            oracle.cost
        );
    }
}

/// A synthetic trace from the workload generator: many objects, PUTs, DELETEs, re-creations.
fn generated(events: usize, objects: usize, days: f64) -> Trace {
    let cfg = Config::embedded_default().unwrap();
    data_in_motion::bench::replay::synthetic(&cfg, events, objects, days)
}

#[test]
fn no_policy_beats_the_oracle_on_any_test_trace() {
    let mut cfg = Config::embedded_default().unwrap();
    cfg.replay.plan_every_secs = 12 * 3600;
    cfg.replay.retrain_every_secs = 10 * 86_400;
    let names = policy_names("all").unwrap();
    assert_eq!(names, POLICIES);
    let traces = [
        ("tiny.csv", Workload::from_trace(&fixture("tiny.csv", Format::Csv), 1.0)),
        (
            "web.log × 1",
            Workload::from_trace(&fixture("web.log", Format::Clf), 1.0),
        ),
        (
            "web.log × 720",
            Workload::from_trace(&fixture("web.log", Format::Clf), 720.0),
        ),
        ("generated", Workload::from_trace(&generated(30_000, 2_000, 40.0), 1.0)),
    ];
    let mut reports = Vec::new();
    for (name, w) in &traces {
        let r = compare(&cfg, w, &names).unwrap();
        let oracle = r.policy("oracle").unwrap().total_cost;
        assert!(
            close(oracle, r.oracle.planned_cost),
            "{name}: metered {oracle} vs planned {}",
            r.oracle.planned_cost
        );
        for p in &r.policies {
            assert!(
                p.total_cost >= oracle * (1.0 - 1e-9),
                "{name}: {} costs {} below the oracle's {oracle}",
                p.policy,
                p.total_cost
            );
            let parts = p.storage_cost + p.request_cost + p.retrieval_cost + p.migration_cost;
            assert!(close(parts, p.total_cost), "{name}: {} parts do not add up", p.policy);
        }
        reports.push(r);
    }
    // The generated trace has deletes and enough time for every rule to act.
    let r = &reports[3];
    for rule in [
        "s3-intelligent-tiering",
        "fabricpool-auto",
        "age-lifecycle",
        "lru-hot-tier",
    ] {
        assert!(r.policy(rule).unwrap().migrations > 0, "{rule} never moved anything");
    }
    let dim = r.policy("dim").unwrap();
    assert!(dim.notes.iter().any(|n| n.contains("plans")), "{:?}", dim.notes);
}

#[test]
fn time_based_rules_act_on_the_days_they_name() {
    // One object read at day 0, then at day 100: Intelligent-Tiering moves it down at day 30 and
    // 90 and back up at the read; FabricPool sends it to the cheapest tier at day 31 and back;
    // lifecycle moves it down at 30 and 90 days after creation and never back.
    let day = 86_400_000i64;
    let t = Trace {
        events: vec![
            TraceEvent {
                ts_ms: 0,
                key: "o".into(),
                size: Some(1_000_000_000),
                op: Op::Put,
            },
            TraceEvent {
                ts_ms: 100 * day,
                key: "o".into(),
                size: None,
                op: Op::Get,
            },
        ],
        ..Trace::default()
    };
    let w = Workload::from_trace(&t, 1.0);
    let cfg = Config::embedded_default().unwrap();
    let r = compare(
        &cfg,
        &w,
        &["s3-intelligent-tiering", "fabricpool-auto", "age-lifecycle"],
    )
    .unwrap();
    let it = r.policy("s3-intelligent-tiering").unwrap();
    assert_eq!(it.migrations, 3, "down at 30 and 90 days, back up on the read");
    let month = 30.0;
    let storage = 0.023 * 30.0 / month + 0.01 * 60.0 / month + 0.004 * 10.0 / month;
    assert!(close(it.storage_cost, storage), "{} vs {storage}", it.storage_cost);
    assert_eq!(
        it.sla_violations, 1,
        "the read is served from the archive tier before it moves back"
    );
    let fp = r.policy("fabricpool-auto").unwrap();
    assert_eq!(fp.migrations, 2);
    assert!(
        close(fp.storage_cost, 0.023 * 31.0 / month + 0.004 * 69.0 / month),
        "{}",
        fp.storage_cost
    );
    let lc = r.policy("age-lifecycle").unwrap();
    assert_eq!(lc.migrations, 2);
    assert_eq!(lc.sla_violations, 1);
}

#[test]
fn an_lru_hot_tier_evicts_the_least_recently_used() {
    // Cache = 20 % of 3 GB = 600 MB: two 250 MB objects fit, a third evicts the oldest.
    let mb = 1_000_000u64;
    let ev = |s: i64, k: &str, size: u64| TraceEvent {
        ts_ms: s * 1000,
        key: k.into(),
        size: Some(size),
        op: Op::Get,
    };
    let t = Trace {
        events: vec![
            ev(0, "a", 250 * mb),
            ev(1, "b", 250 * mb),
            ev(2, "a", 250 * mb),
            ev(3, "c", 250 * mb),    // evicts b (a was used later)
            ev(4, "big", 2250 * mb), // larger than the cache: lives on the cold tier
            ev(5, "b", 250 * mb),    // a miss: served cold, promoted, evicts a
        ],
        ..Trace::default()
    };
    let w = Workload::from_trace(&t, 1.0);
    let cfg = Config::embedded_default().unwrap();
    let r = compare(&cfg, &w, &["lru-hot-tier"]).unwrap();
    let lru = r.policy("lru-hot-tier").unwrap();
    assert_eq!(lru.migrations, 3, "b evicted, b promoted, a evicted");
    assert_eq!(
        lru.sla_violations, 2,
        "big and the miss on b are served from the cold tier"
    );
    assert_eq!(lru.peak_bytes[0].1, 500 * mb);
}

fn dim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dim"))
}

#[test]
fn dim_replay_reports_every_policy_in_json_and_draws_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("cost.png");
    let out = dim()
        .args([
            "replay",
            &format!("{FIXTURES}/web.log"),
            "--format",
            "clf",
            "--policies",
            "all",
            "--json",
            "--time-scale",
            "720",
            "--chart",
        ])
        .arg(&chart)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let policies = v["policies"].as_array().unwrap();
    let names: Vec<&str> = policies.iter().map(|p| p["policy"].as_str().unwrap()).collect();
    assert_eq!(names, POLICIES);
    for p in policies {
        for field in [
            "total_cost",
            "storage_cost",
            "request_cost",
            "retrieval_cost",
            "migration_cost",
            "migrations",
            "sla_violations",
            "vs_oracle",
        ] {
            assert!(p[field].is_number(), "{} has no {field}: {p}", p["policy"]);
        }
    }
    assert_eq!(v["time_scale"], 720.0);
    assert_eq!(v["trace"]["bad_lines"], 1);
    assert_eq!(v["trace"]["first_bad"][0]["line"], 8);
    assert_eq!(v["trace"]["failed_requests"], 1);
    assert_eq!(v["objects"], 4, "404s are not objects");
    assert_eq!(v["oracle"]["exact"], true);
    let png = std::fs::read(&chart).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "a chart with lines and labels, not an empty image: {} bytes",
        png.len()
    );

    let out = dim().args(["replay", &format!("{FIXTURES}/web.log")]).output().unwrap();
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    for p in POLICIES {
        assert!(table.contains(p), "{p} missing from\n{table}");
    }
    assert!(
        table.contains("line 8"),
        "bad lines are shown with their numbers:\n{table}"
    );
    assert!(
        table.contains("--time-scale"),
        "a 12-hour trace gets the hint:\n{table}"
    );
}

#[test]
fn dim_replay_refuses_bad_arguments_with_a_reason() {
    let out = dim()
        .args(["replay", &format!("{FIXTURES}/web.log"), "--policies", "dim,all-hto"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("all-hto") && err.contains("all-hot"), "{err}");
    let out = dim()
        .args(["replay", &format!("{FIXTURES}/tiny.csv"), "--format", "clf"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no usable events") && err.contains("--format"), "{err}");
    let out = dim().args(["replay", "/nonexistent/trace.log"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/trace.log"));
}
