//! The generator's own checks: seeding, determinism, skew, churn, ageing, flash crowds, growth.

use super::*;
use crate::config::Config;
use std::collections::HashMap;

fn params() -> EmbeddedConfig {
    Config::embedded_default().unwrap().events.embedded
}

const T0: Millis = 1_800_000_000_000;

#[test]
fn seeding_respects_count_and_budget() {
    let mut w = Workload::new(&params());
    let objs = w.seed_objects(2000, 200_000_000, T0);
    assert_eq!(objs.len(), 2000);
    assert!(objs.iter().map(|o| o.size).sum::<u64>() <= 200_000_000);
    assert!(objs.iter().all(|o| o.created_ms <= T0 && o.size >= 1));
    let distinct: std::collections::HashSet<_> = objs.iter().map(|o| &o.key).collect();
    assert_eq!(distinct.len(), 2000);
}

#[test]
fn same_seed_same_workload() {
    let run = || {
        let mut w = Workload::new(&params());
        w.seed_objects(500, 10_000_000, T0);
        let mut out = Vec::new();
        for i in 0..2000 {
            w.next(T0 + i * 100, &mut out);
        }
        out
    };
    assert_eq!(run(), run());
}

#[test]
fn popularity_is_skewed() {
    let mut p = params();
    p.max_objects = 600;
    p.put_fraction = 0.0;
    let mut w = Workload::new(&p);
    w.seed_objects(600, 10_000_000, T0);
    let mut out = Vec::new();
    for i in 0..50_000 {
        w.next(T0 + i * 1000, &mut out);
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for g in &out {
        *counts.entry(g.event.key.as_str()).or_default() += 1;
    }
    let mut v: Vec<usize> = counts.values().copied().collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    let top10: usize = v.iter().take(10).sum();
    // Zipf(1.1) over 600 slots gives the top 10 ranks ~45 % of the Zipf-chosen accesses, which
    // are ~70 % of all here; uniform access would give them 10/600 = 1.7 %.
    assert!(top10 as f64 > 0.2 * out.len() as f64, "top10 {top10} of {}", out.len());
}

#[test]
fn churn_keeps_the_population_bounded() {
    let mut p = params();
    p.max_objects = 600;
    p.put_fraction = 0.2;
    p.new_object_fraction = 0.5;
    let mut w = Workload::new(&p);
    w.seed_objects(500, 10_000_000, T0);
    let mut out = Vec::new();
    for i in 0..50_000 {
        w.next(T0 + i * 1000, &mut out);
    }
    assert_eq!(w.len(), 600);
    let creates = out
        .iter()
        .filter(|g| matches!(g.effect, Some(Effect::Create { .. })))
        .count();
    let deletes = out
        .iter()
        .filter(|g| matches!(g.effect, Some(Effect::Delete { .. })))
        .count();
    assert_eq!(500 + creates - deletes, 600);
    assert!(out.iter().any(|g| matches!(g.effect, Some(Effect::Overwrite { .. }))));
    // Every DELETE retires the oldest object: deleted keys are never accessed again.
    let mut deleted = std::collections::HashSet::new();
    for g in &out {
        if g.event.op == Op::Delete {
            deleted.insert(g.event.key.clone());
        } else {
            assert!(!deleted.contains(&g.event.key), "{} accessed after delete", g.event.key);
        }
    }
}

#[test]
fn new_objects_are_hot_then_cool() {
    let mut p = params();
    p.put_fraction = 0.0;
    p.recent_share = 0.5;
    p.office_share = 0.0;
    p.flash_share = 0.0;
    let mut w = Workload::new(&p);
    w.seed_objects(1000, 10_000_000, T0);
    // The newest seeded object is far more popular than the median-aged one on average.
    let mut out = Vec::new();
    for i in 0..100_000 {
        w.next(T0 + i, &mut out);
    }
    let newest = w.by_age.back().map(|x| x.1).unwrap();
    let newest_key = w.slots[newest].as_ref().unwrap().key.clone();
    let hits = out.iter().filter(|g| g.event.key == newest_key).count();
    assert!(hits > 100, "newest object got {hits} of 100000 accesses");
}

#[test]
fn flash_crowd_targets_a_cold_object() {
    let mut p = params();
    p.flash_share = 0.5;
    let mut w = Workload::new(&p);
    w.seed_objects(1000, 10_000_000, T0);
    let key = w.flash_crowd(T0, 1).pop().unwrap();
    let mut out = Vec::new();
    for i in 0..1000 {
        w.next(T0 + i, &mut out);
    }
    let hits = out.iter().filter(|g| g.event.key == key).count();
    assert!(hits > 400, "flash target got {hits}");
}

#[test]
fn a_flash_crowd_on_several_objects_shares_the_attention() {
    let mut p = params();
    p.flash_share = 0.6;
    let mut w = Workload::new(&p);
    w.seed_objects(1000, 10_000_000, T0);
    let keys = w.flash_crowd(T0, 3);
    assert_eq!(keys.len(), 3);
    assert_eq!(w.flash_objects(), 3);
    let mut out = Vec::new();
    for i in 0..3000 {
        w.next(T0 + i, &mut out);
    }
    for k in &keys {
        let hits = out.iter().filter(|g| &g.event.key == k).count();
        assert!(hits > 400, "{k} got {hits} of ~600 expected");
    }
}

#[test]
fn bursts_create_objects_and_growth_grows_one() {
    let mut w = Workload::new(&params());
    w.seed_objects(100, 10_000_000, T0);
    let before = w.len();
    let mut out = Vec::new();
    w.put_burst(T0, 20, &mut out);
    assert_eq!(w.len(), before + 20);
    assert_eq!(
        out.iter()
            .filter(|g| matches!(g.effect, Some(Effect::Create { .. })))
            .count(),
        20
    );
    let key = w.cold_keys(1).pop().unwrap();
    let a = w.grow(T0, &key, 1000).unwrap();
    let b = w.grow(T0, &key, 1000).unwrap();
    assert_eq!(b.event.size.unwrap(), a.event.size.unwrap() + 1000);
    assert!(matches!(b.effect, Some(Effect::Overwrite { .. })));
    assert!(w.grow(T0, "no/such.key", 10).is_none());
}

#[test]
fn diurnal_rate_swings() {
    let w = Workload::new(&params());
    let day = T0 - T0.rem_euclid(DAY_MS);
    let afternoon = w.rate_at(day + 15 * HOUR_MS);
    let night = w.rate_at(day + 3 * HOUR_MS);
    assert!(afternoon > 1.4 * night);
}

#[test]
fn key_ids_roundtrip() {
    assert_eq!(id_of_key(&key_for(42, 100)), Some(42));
    assert_eq!(id_of_key(&key_for(1234567, 10_000_000)), Some(1234567));
}
