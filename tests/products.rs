//! The rules as users meet them, priced by hand: the break-even idle timer per tier pair, GCS
//! Autoclass's return to Standard and management fee, Azure's auto-tier to Hot from Cool only,
//! and the product price sets they run on.

use data_in_motion::config::{Config, load_str};
use data_in_motion::engine::events::Op;
use data_in_motion::engine::placement::billing::SlaPrice;
use data_in_motion::replay::break_even::break_even_steps;
use data_in_motion::replay::compare;
use data_in_motion::replay::trace::{Trace, TraceEvent};
use data_in_motion::replay::workload::Workload;

const DAY: i64 = 86_400_000;
const GB: u64 = 1_000_000_000;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 + 1e-9 * a.abs().max(b.abs())
}

/// A config whose tiers are the catalog classes named, fastest first.
fn tiers_of(classes: &[&str]) -> Config {
    let tiers: String = classes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!("[[tiers]]\nname = \"t{i}\"\nbackend = \"local\"\ncapacity_gb = 1000\nclass = \"{c}\"\n\n")
        })
        .collect();
    let mut cfg = load_str(None, &tiers).unwrap();
    cfg.replay.tail_days = 0.0;
    cfg
}

fn ev(day: i64, key: &str, size: u64, op: Op) -> TraceEvent {
    TraceEvent {
        ts_ms: day * DAY,
        key: key.into(),
        size: Some(size),
        op,
    }
}

/// S3 Standard → Standard-IA for 1 GB: the idle time whose saving (0.023 − 0.0125 $/GB-month)
/// pays the copy into IA, IA's 30-day minimum, the copy back with its retrieval, and one read
/// there (GET, retrieval, a slow read if IA missed the SLA: it does not, 25 ms < 50 ms).
#[test]
fn the_idle_timer_waits_exactly_the_break_even_time() {
    let cfg = tiers_of(&["aws:s3-standard", "aws:s3-standard-ia"]);
    let sla = SlaPrice::of(&cfg.sla);
    let steps = break_even_steps(&cfg.tiers, sla, 0, GB);
    let month_ms = 30.0 * DAY as f64;
    let once = 0.01 / 1000.0 // copy into IA
        + 0.0125 * 1.0 // IA's 30-day minimum: a month of 1 GB
        + (0.01 + 0.005 / 1000.0) // back: retrieval out of IA and the copy into Standard
        + 0.001 / 1000.0 + 0.01; // one GET on IA and its retrieval
    let wait_ms = once / ((0.023 - 0.0125) / month_ms);
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].1, 1);
    assert!((steps[0].0 as f64 - wait_ms).abs() < 2.0, "{} vs {wait_ms}", steps[0].0);
    // With a slow-read price on a tier that misses the SLA, the wait grows by that price over the saving.
    let mut slow = cfg.clone();
    slow.tiers[1].latency_ms = 100.0;
    let priced = SlaPrice {
        latency_ms: 50.0,
        miss_cost: 0.05,
    };
    let later = break_even_steps(&slow.tiers, priced, 0, GB);
    let extra = 0.05 / ((0.023 - 0.0125) / month_ms);
    assert!((later[0].0 as f64 - wait_ms - extra).abs() < 2.0);
    // Replayed: written at day 0, read at day 200; moved down at the break-even time, back at the read.
    let t = Trace {
        events: vec![ev(0, "o", GB, Op::Put), ev(200, "o", GB, Op::Get)],
        ..Trace::default()
    };
    let r = compare(&cfg, &Workload::from_trace(&t, 1.0), &["ski-rental"]).unwrap();
    let p = r.policy("ski-rental").unwrap();
    assert_eq!(p.migrations, 2, "down once idle long enough, back at the read");
    let down_days = steps[0].0 as f64 / DAY as f64;
    let storage = 0.023 * down_days / 30.0 + 0.0125 * (200.0 - down_days) / 30.0;
    assert!(close(p.storage_cost, storage), "{} vs {storage}", p.storage_cost);
}

/// Autoclass on GCS's own classes: 1 GB read at day 100 sits in Standard 30 days, Nearline 60,
/// Coldline 10, then comes back to Standard; no retrieval fee, no charge for the moves,
/// operations at Standard's rates, and the management fee for 100 days. 100 kB stays in
/// Standard without a fee.
#[test]
fn autoclass_returns_to_standard_on_a_read_and_charges_its_fee() {
    let cfg = tiers_of(&[
        "gcp:gcs-standard",
        "gcp:gcs-nearline",
        "gcp:gcs-coldline",
        "gcp:gcs-archive",
    ]);
    let t = Trace {
        events: vec![
            ev(0, "big", GB, Op::Put),
            ev(0, "small", 100_000, Op::Put),
            ev(100, "big", GB, Op::Get),
            ev(100, "small", 100_000, Op::Get),
        ],
        ..Trace::default()
    };
    let r = compare(&cfg, &Workload::from_trace(&t, 1.0), &["gcs-autoclass"]).unwrap();
    let p = r.policy("gcs-autoclass").unwrap();
    assert!(
        p.own_classes && p.notes.iter().any(|n| n.contains("own classes")),
        "{:?}",
        p.notes
    );
    assert_eq!(p.migrations, 3, "Nearline at 30, Coldline at 90, Standard at the read");
    let fee = 0.0025 / 1000.0 * 100.0 / 30.0;
    let storage = 0.02 * 30.0 / 30.0 + 0.01 * 60.0 / 30.0 + 0.004 * 10.0 / 30.0 + fee + 0.0001 * 0.02 * 100.0 / 30.0;
    assert!(close(p.storage_cost, storage), "{} vs {storage}", p.storage_cost);
    assert_eq!(
        (p.retrieval_cost, p.migration_cost, p.min_duration_cost),
        (0.0, 0.0, 0.0)
    );
    assert!(
        close(p.request_cost, 2.0 * 0.005 / 1000.0 + 2.0 * 0.0004 / 1000.0),
        "{}",
        p.request_cost
    );
}

/// Azure lifecycle on last access: a blob read while Cool comes back to Hot; one read while Cold
/// stays there (auto-tier to Hot acts on Cool only).
#[test]
fn azure_brings_back_from_cool_only() {
    let cfg = tiers_of(&["azure:blob-hot", "azure:blob-cool", "azure:blob-cold"]);
    let t = Trace {
        events: vec![
            ev(0, "cool", GB, Op::Put),
            ev(0, "cold", GB, Op::Put),
            ev(40, "cool", GB, Op::Get),
            ev(100, "cold", GB, Op::Get),
        ],
        ..Trace::default()
    };
    let r = compare(&cfg, &Workload::from_trace(&t, 1.0), &["azure-last-access"]).unwrap();
    let p = r.policy("azure-last-access").unwrap();
    assert!(p.own_classes);
    // "cool": down at 30, back at 40, down again at 70 (30 days after the read), cold at 130 is
    // after the end (day 100). "cold": down at 30 and 90, read at 100 and stays.
    assert_eq!(p.migrations, 5);
    // Storage: "cool" Hot 30 + Cool 10 + Hot 30 + Cool 30; "cold" Hot 30 + Cool 60 + Cold 10.
    let storage = (0.0184 * 60.0 + 0.01 * 40.0) / 30.0 + (0.0184 * 30.0 + 0.01 * 60.0 + 0.0036 * 10.0) / 30.0;
    // "cool" left Cool after 10 of its 30 days: 20 days more.
    let min_days = 0.01 * 20.0 / 30.0;
    assert!(close(p.storage_cost, storage), "{} vs {storage}", p.storage_cost);
    assert!(
        close(p.min_duration_cost, min_days),
        "{} vs {min_days}",
        p.min_duration_cost
    );
    // Both reads pay their tier's retrieval: Cool 0.01, Cold 0.03 per GB.
    assert!(close(p.retrieval_cost, 0.01 + 0.03), "{}", p.retrieval_cost);
}
