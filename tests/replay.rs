//! Replay: the meter's exact costs on a hand-computed fixture, the oracle against brute force and
//! against every policy, and the `dim replay` command's report, JSON and chart.

use std::process::Command;

use data_in_motion::config::{Config, TierConfig};
use data_in_motion::engine::events::Op;
use data_in_motion::engine::placement::billing::SlaPrice;
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
    let mut cfg = Config::embedded_default().unwrap();
    cfg.replay.tail_days = 0.0;
    let w = Workload::from_trace(&t, 1.0);
    let r = compare(&cfg, &w, &["all-hot", "all-cold", "oracle"]).unwrap();
    // A month's tail charges a's storage for one more month, and nothing else.
    cfg.replay.tail_days = 30.0;
    let tailed = compare(&cfg, &w, &["all-hot"]).unwrap();
    assert!(
        close(
            tailed.policy("all-hot").unwrap().total_cost - r.policy("all-hot").unwrap().total_cost,
            0.023
        ),
        "tail"
    );
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
    assert!(close(cold.bill, 0.12808), "{}", cold.bill);
    // The total adds the four slow reads at sla.miss_cost each.
    assert_eq!(cold.sla_misses, 4);
    assert!(
        close(cold.total_cost, 0.12808 + 4.0 * cfg.sla.miss_cost),
        "{}",
        cold.total_cost
    );
    let oracle = r.policy("oracle").unwrap();
    assert!(oracle.total_cost <= hot.total_cost.min(cold.total_cost));
    assert!(
        close(oracle.total_cost, r.oracle.planned_cost),
        "the meter charges the oracle what its plan says"
    );
}

const DAY: i64 = 86_400_000;

/// Random prices on three tiers of three providers, with minimum durations (whole days), minimum
/// billable sizes, overheads and sometimes a tier that must restore before reads. Egress and
/// request prices make a direct move always the cheapest way between two tiers (the brute
/// force below cannot chain moves at one instant).
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
            t.min_storage_days = f64::from(rng.random_range(0..4u8));
            t.min_billable_bytes = if rng.random_bool(0.3) { 8_000_000_000 } else { 0 };
            t.overhead_bytes = if rng.random_bool(0.3) { 500_000_000 } else { 0 };
            if i == 2 && rng.random_bool(0.4) {
                t.restore_hours = 4.0;
                t.restore_per_1k = rng.random_range(0.0..0.5);
                t.restore_gb = rng.random_range(0.0..0.05);
            }
            t
        })
        .collect()
}

/// The cheapest of every schedule for one object on a grid of whole days: the tier serving each
/// access and the tier it waits on in each day (moves at the day's start; at an access, after
/// it), written to `landing` first when given, frozen after the trace, priced by the meter.
fn brute_force(w: &Workload, tiers: &[TierConfig], sla: SlaPrice, tail: i64, landing: Option<usize>) -> f64 {
    let (n, n_t) = (w.events.len(), tiers.len());
    let days = (w.end / DAY) as usize + 1;
    let choices = n + days;
    let mut best = f64::INFINITY;
    for code in 0..n_t.pow(choices as u32) {
        let mut c = code;
        let mut pick = Vec::with_capacity(choices);
        for _ in 0..choices {
            pick.push(c % n_t);
            c /= n_t;
        }
        let (serve, wait) = pick.split_at(n);
        let mut m = Meter::priced(tiers, sla, w.sizes.clone());
        let mut k = 0;
        for (d, &wait_on) in wait.iter().enumerate() {
            let now = d as i64 * DAY;
            while k < n && w.events[k].ts == now {
                let e = w.events[k];
                if e.op != Op::Delete {
                    match (m.tier_of(0), landing) {
                        (None, Some(l)) if e.op != Op::Put && serve[k] != l => m.create(0, l, now),
                        (None, Some(l)) if e.op == Op::Put && serve[k] != l => break,
                        _ => {}
                    }
                    m.migrate(0, serve[k], now);
                }
                m.access(0, e.op, now, landing.unwrap_or(serve[k]));
                k += 1;
            }
            if k < n && w.events[k].ts == now {
                // A schedule that writes somewhere else than the landing tier: not allowed.
                m.costs.storage = f64::INFINITY;
                break;
            }
            m.migrate(0, wait_on, now);
        }
        m.finish(w.end + tail);
        best = best.min(m.costs.total());
    }
    best
}

#[test]
fn both_oracles_equal_a_brute_force_optimum_on_tiny_traces_with_minimum_durations_and_priced_misses() {
    let mut rng = StdRng::seed_from_u64(11);
    for case in 0..40 {
        let tiers = random_tiers(&mut rng);
        let n = rng.random_range(1..=3);
        let size = rng.random_range(1..20_000_000_000u64);
        let mut ts = 0;
        let mut events = Vec::new();
        for k in 0..n {
            if k > 0 {
                ts += rng.random_range(0..3) * DAY;
            }
            let op = if k == 0 && rng.random_bool(0.5) {
                Op::Put
            } else if k == n - 1 && k > 0 && rng.random_bool(0.3) {
                Op::Delete
            } else {
                [Op::Get, Op::Head, Op::Put][rng.random_range(0..3)]
            };
            events.push(TraceEvent {
                ts_ms: ts,
                key: "x".into(),
                size: Some(size),
                op,
            });
        }
        let t = Trace {
            events,
            ..Trace::default()
        };
        let mut w = Workload::from_trace(&t, 1.0);
        // Days after the last access within the trace, so waiting somewhere cheap matters there too.
        w.end += rng.random_range(0..3) * DAY;
        let tail = rng.random_range(0..3) * DAY;
        // Half the cases price a slow read (the SLA is 50 ms: the second and third tiers miss it).
        let sla = SlaPrice {
            latency_ms: 50.0,
            miss_cost: if case % 2 == 0 { 0.0 } else { rng.random_range(0.0..0.5) },
        };
        let brute = brute_force(&w, &tiers, sla, tail, None);
        let oracle = Oracle::solve(&w, &tiers, sla, tail);
        assert!(
            close(oracle.cost, brute),
            "case {case}: oracle {} vs brute force {brute}",
            oracle.cost
        );
        let brute = brute_force(&w, &tiers, sla, tail, Some(0));
        let landing = Oracle::solve_landing(&w, &tiers, sla, tail, 0);
        assert!(
            close(landing.cost, brute),
            "case {case}: oracle-landing {} vs brute force {brute}",
            landing.cost
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
    // The forest trains on every trace now; fewer samples keep a debug build quick.
    cfg.replay.train_samples = 3_000;
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
        let landing = r.policy("oracle-landing").unwrap().total_cost;
        assert!(
            close(landing, r.oracle.landing_planned_cost),
            "{name}: oracle-landing metered {landing} vs planned {}",
            r.oracle.landing_planned_cost
        );
        assert!(
            oracle <= landing * (1.0 + 1e-9),
            "{name}: the free oracle is the lower bound"
        );
        for p in &r.policies {
            assert!(
                p.total_cost >= oracle * (1.0 - 1e-9),
                "{name}: {} costs {} below the oracle's {oracle}",
                p.policy,
                p.total_cost
            );
            // all-cold writes straight to the cold tier: a write-time placement, which only the
            // free oracle bounds.
            assert!(
                p.total_cost >= r.policy("oracle-landing").unwrap().total_cost * (1.0 - 1e-9)
                    || ["oracle", "all-cold"].contains(&p.policy.as_str()),
                "{name}: {} costs {} below oracle-landing",
                p.policy,
                p.total_cost
            );
            let parts = p.storage_cost + p.request_cost + p.retrieval_cost + p.migration_cost + p.min_duration_cost;
            assert!(
                close(parts, p.bill),
                "{name}: {} parts do not add up to the bill",
                p.policy
            );
            assert!(
                close(p.bill + p.sla_cost, p.total_cost) && close(p.sla_cost, p.sla_misses as f64 * cfg.sla.miss_cost),
                "{name}: {}: total = bill + misses × miss_cost",
                p.policy
            );
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
    let mut cfg = Config::embedded_default().unwrap();
    // Only the days the rules name: no tail after the read.
    cfg.replay.tail_days = 0.0;
    let r = compare(
        &cfg,
        &w,
        &["s3-intelligent-tiering", "fabricpool-auto", "age-lifecycle"],
    )
    .unwrap();
    let it = r.policy("s3-intelligent-tiering").unwrap();
    assert_eq!(it.migrations, 3, "down at 30 and 90 days, back up on the read");
    let month = 30.0;
    // Storage by tier, and the monitoring fee of one object (1 GB ≥ 128 KiB) for 100 days:
    // $0.0025 per 1,000 objects a month (the default tiers are not all AWS, so the rule runs on
    // them, with the fee).
    let fee = 0.0025 / 1000.0 * 100.0 / month;
    let storage = 0.023 * 30.0 / month + 0.01 * 60.0 / month + 0.004 * 10.0 / month + fee;
    assert!(close(it.storage_cost, storage), "{} vs {storage}", it.storage_cost);
    assert!(
        it.notes
            .iter()
            .any(|n| n.contains("configured tiers plus its per-object fee")),
        "{:?}",
        it.notes
    );
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
            ev(4, "big", 2250 * mb), // larger than the cache: written through, evicted at once
            ev(5, "b", 250 * mb),    // a miss: served cold, promoted, evicts a
        ],
        ..Trace::default()
    };
    let w = Workload::from_trace(&t, 1.0);
    let cfg = Config::embedded_default().unwrap();
    let r = compare(&cfg, &w, &["lru-hot-tier"]).unwrap();
    let lru = r.policy("lru-hot-tier").unwrap();
    // Every policy writes to the landing tier (the yardstick's rule), so big passes through the
    // cache tier: the fast tier held a and c (500 MB, the cache's most) and, for that moment, big.
    assert_eq!(lru.migrations, 4, "b evicted, big evicted, b promoted, a evicted");
    assert_eq!(lru.sla_violations, 1, "the miss on b is served from the cold tier");
    assert_eq!(lru.peak_bytes[0].1, 2750 * mb);
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
            "vs_oracle_landing",
            "min_duration_cost",
        ] {
            assert!(p[field].is_number(), "{} has no {field}: {p}", p["policy"]);
        }
        // capture is a number, or null where the best rule already is the landing optimum.
        assert!(p["capture"].is_number() || p["capture"].is_null(), "{p}");
    }
    let best = v["best_rule"].as_str().expect("a best rule");
    let of = |name: &str| policies.iter().find(|p| p["policy"] == name).unwrap();
    if let Some(c) = of(best)["capture"].as_f64() {
        assert!(c.abs() < 1e-9, "the best rule captures nothing: {c}");
        assert!((of("oracle-landing")["capture"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    }
    assert!(v["oracle"]["landing_planned_cost"].is_number());
    assert_eq!(v["tail_days"], 30.0);
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

/// A chart that cannot be written (its folder is missing) does not lose the report: the table
/// is printed, then the error says why in plain words and the command fails.
#[test]
fn a_chart_into_a_missing_folder_still_prints_the_report() {
    let out = dim()
        .args(["replay", &format!("{FIXTURES}/tiny.csv"), "--policies", "all-hot"])
        .args(["--chart", "/nonexistent/dim-charts/cost.png"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("all-hot") && table.contains("oracle-landing"), "{table}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the folder /nonexistent/dim-charts does not exist"),
        "{err}"
    );
    assert!(!err.contains("Os {") && !err.contains("IoError"), "{err}");
}

/// The advice under a short replay names a flag of the command that printed it.
#[test]
fn a_short_bench_replay_advises_a_flag_it_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dim()
        .args(["bench", "replay", "--events", "2000", "--objects", "200", "--days", "1"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--days spreads the generated events"), "{text}");
    assert!(
        !text.contains("--time-scale"),
        "bench replay takes no --time-scale: {text}"
    );
}

/// A rule that overflows a tier is marked and never the best rule; `--ignore-capacity` lifts
/// every capacity so each policy is priced alone.
#[test]
fn capacity_is_honest_and_can_be_ignored() {
    let mut cfg = Config::embedded_default().unwrap();
    cfg.replay.plan_every_secs = 12 * 3600;
    let w = Workload::from_trace(&generated(20_000, 1_500, 30.0), 1.0);
    cfg.tiers[0].capacity_gb = Some(w.bytes() as f64 / 1e9 / 4.0);
    let names = [
        "all-hot",
        "all-cold",
        "s3-intelligent-tiering",
        "oracle-landing",
        "oracle",
    ];
    let r = compare(&cfg, &w, &names).unwrap();
    let hot = r.policy("all-hot").unwrap();
    assert_eq!(hot.over_capacity, ["aws-hot"]);
    assert_ne!(
        r.best_rule().unwrap().policy,
        "all-hot",
        "an overflowing rule is not the best"
    );
    assert!(r.table().contains("all-hot !cap"));
    let lifted = data_in_motion::replay::without_capacity(&cfg);
    let r = compare(&lifted, &w, &names).unwrap();
    assert!(r.policies.iter().all(|p| p.over_capacity.is_empty()));
    let best = r.best_rule().unwrap();
    let cheapest_rule = ["all-hot", "all-cold", "s3-intelligent-tiering"]
        .iter()
        .map(|n| r.policy(n).unwrap().total_cost)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(best.total_cost, cheapest_rule);
}

/// Intelligent-Tiering never moves objects under 128 KiB; lifecycle transitions skip them.
#[test]
fn rules_leave_small_objects_where_they_are() {
    let cfg = Config::embedded_default().unwrap();
    let day = 86_400_000i64;
    let ev = |ts: i64, key: &str, size: u64, op: Op| TraceEvent {
        ts_ms: ts,
        key: key.into(),
        size: Some(size),
        op,
    };
    let t = Trace {
        events: vec![
            ev(0, "small", 100_000, Op::Put),
            ev(0, "large", 1_000_000, Op::Put),
            ev(200 * day, "small", 100_000, Op::Get),
            ev(200 * day, "large", 1_000_000, Op::Get),
        ],
        ..Trace::default()
    };
    let w = Workload::from_trace(&t, 1.0);
    let r = compare(&cfg, &w, &["s3-intelligent-tiering", "age-lifecycle"]).unwrap();
    // Only the large object moves: down twice, and back up at the read for Intelligent-Tiering.
    assert_eq!(r.policy("s3-intelligent-tiering").unwrap().migrations, 3);
    assert_eq!(r.policy("age-lifecycle").unwrap().migrations, 2);
}

/// On the shipped storage classes (minimum durations, minimum sizes, overheads, restores): the
/// meter charges both oracles what their plans say, and no policy beats either.
#[test]
fn no_policy_beats_the_oracles_on_storage_classes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/aws-classes.toml");
    let mut cfg = data_in_motion::config::load(Some(&path)).unwrap();
    cfg.replay.plan_every_secs = 12 * 3600;
    cfg.replay.retrain_every_secs = 10 * 86_400;
    // The forest trains on every trace now; fewer samples keep a debug build quick.
    cfg.replay.train_samples = 3_000;
    let cfg = data_in_motion::replay::without_capacity(&cfg);
    for (name, w) in [
        ("generated", Workload::from_trace(&generated(12_000, 800, 120.0), 1.0)),
        (
            "web.log × 720",
            Workload::from_trace(&fixture("web.log", Format::Clf), 720.0),
        ),
    ] {
        let r = compare(&cfg, &w, &policy_names("all").unwrap()).unwrap();
        let (oracle, landing) = (
            r.policy("oracle").unwrap().total_cost,
            r.policy("oracle-landing").unwrap().total_cost,
        );
        assert!(
            close(oracle, r.oracle.planned_cost),
            "{name}: {oracle} vs {}",
            r.oracle.planned_cost
        );
        assert!(
            close(landing, r.oracle.landing_planned_cost),
            "{name}: {landing} vs {}",
            r.oracle.landing_planned_cost
        );
        // A product metered on its own classes (S3 Intelligent-Tiering's access tiers here) is
        // not bounded by oracles that plan on the configured tiers.
        let bounded = || r.policies.iter().filter(|p| !p.own_classes);
        assert!(r.policy("s3-intelligent-tiering").unwrap().own_classes);
        // all-cold writes straight to the cold tier: a write-time placement, bounded by the free oracle.
        assert!(bounded().all(|p| p.total_cost >= oracle * (1.0 - 1e-9)));
        for p in bounded().filter(|p| !["oracle", "all-cold"].contains(&p.policy.as_str())) {
            assert!(
                p.total_cost >= landing * (1.0 - 1e-9),
                "{name}: {} costs {} below oracle-landing's {landing}",
                p.policy,
                p.total_cost
            );
        }
    }
}
