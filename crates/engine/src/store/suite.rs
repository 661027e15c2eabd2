//! The store API's behaviour, one suite run on both backends: ingest batches (exactly-once
//! offsets, deletes, rejections), the task state machine and pointer switch, history and its
//! reads, summaries and listings.

use std::collections::BTreeMap;

use super::ingest::{Accesses, Batch, KeyEffect, ObjectRecord, RejectedRow, newest_rejected, write_batch};
use super::tasks::{self, Change, PlannedMove, Switch, TaskState};
use super::testing::on_both_backends;
use super::{
    SCHEMA_VERSION, Store, advance_engine_time, engine_time, get_setting, history, lifetimes, listing, objects,
    open_reader, placement, schema_version, set_pinned, set_setting, stored_offset, stored_offsets, summary, training,
};
use crate::clock::Millis;
use crate::tiers::Written;

on_both_backends!(
    migrations_apply_once_and_reopen,
    tier_totals_follow_inserts_moves_and_deletes,
    settings_offsets_and_engine_time,
    a_batch_lands_whole_with_its_offsets,
    accesses_add_up_and_deletes_count_lifetimes,
    rejections_are_counted_and_the_newest_kept,
    discoveries_never_move_a_pointer,
    a_move_runs_its_state_machine_and_switches_the_pointer,
    a_plan_queues_only_what_is_still_true,
    history_samples_and_is_read_back,
    listings_and_summaries_see_every_object,
);

const SRC: &str = "kafka:t";

fn rec(key: &str, tier: &str, size: u64) -> ObjectRecord {
    crate::store::testing::record(key, tier, size, 10)
}

fn reads(n: i64, at: Millis) -> Accesses {
    let mut a = Accesses {
        first_ts: at,
        last_ts: at,
        reads: n,
        ..Accesses::default()
    };
    for _ in 0..n {
        super::add_access(&mut a.h, &mut a.hour_sin, &mut a.hour_cos, at);
    }
    a
}

fn batch<'a>(
    registers: &'a [ObjectRecord],
    effects: &'a [KeyEffect<'a>],
    events: u64,
    offsets: &'a BTreeMap<(String, i32), i64>,
) -> Batch<'a> {
    Batch {
        registers,
        discovered: &[],
        effects,
        events,
        rejected: &[],
        rejected_keep: 10,
        offsets,
    }
}

fn a_batch_lands_whole_with_its_offsets(s: &Store) {
    let mut w = s.writer();
    let a = reads(2, 1_000);
    let effects = [KeyEffect {
        key: "a",
        deleted_at: None,
        accesses: Some(&a),
    }];
    let offsets = BTreeMap::from([((SRC.to_string(), 0), 2), ((SRC.to_string(), 5), 7)]);
    write_batch(&mut w, &batch(&[rec("a", "hot", 10)], &effects, 2, &offsets), 1_000).unwrap();
    assert_eq!(stored_offset(&w, SRC, 5).unwrap(), Some(7));
    // An offset never goes back, even when an older batch is written again.
    let older = BTreeMap::from([((SRC.to_string(), 5), 3)]);
    write_batch(&mut w, &batch(&[], &[], 0, &older), 1_100).unwrap();
    assert_eq!(
        stored_offsets(&w).unwrap(),
        vec![(SRC.to_string(), 0, 2), (SRC.to_string(), 5, 7)]
    );
    let sum = summary::summary(&w).unwrap();
    assert_eq!((sum.objects, sum.bytes, sum.events.ingested), (1, 10, 2));
    assert_eq!(super::engine_time(&w).unwrap(), Some(1_100));
    // A batch that fails part-way leaves nothing of itself: not its rows, not its offsets.
    let bad = [KeyEffect {
        key: "b",
        deleted_at: None,
        accesses: Some(&a),
    }];
    let later = BTreeMap::from([((SRC.to_string(), 0), 9)]);
    let clash = [rec("c", "hot", 1)];
    w.exec_batch(match w.dialect() {
        super::Dialect::Lite => {
            "CREATE TRIGGER no_c BEFORE INSERT ON objects WHEN new.key = 'c' BEGIN SELECT RAISE(ABORT, 'no c'); END"
        }
        super::Dialect::Pg => {
            "CREATE FUNCTION no_c() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no c'; END $$;
             CREATE TRIGGER no_c BEFORE INSERT ON objects FOR EACH ROW WHEN (NEW.key = 'c') EXECUTE FUNCTION no_c()"
        }
    })
    .unwrap();
    assert!(write_batch(&mut w, &batch(&clash, &bad, 2, &later), 1_200).is_err());
    assert_eq!(stored_offset(&w, SRC, 0).unwrap(), Some(2));
    assert_eq!(super::placement(&w, "b").unwrap(), None);
    assert_eq!(summary::summary(&w).unwrap().events.ingested, 2);
}

fn accesses_add_up_and_deletes_count_lifetimes(s: &Store) {
    let mut w = s.writer();
    let none = BTreeMap::new();
    let (two, three) = (reads(2, 1_000), reads(3, 2_000));
    for a in [&two, &three] {
        let effects = [
            KeyEffect {
                key: "x",
                deleted_at: None,
                accesses: Some(a),
            },
            KeyEffect {
                key: "y",
                deleted_at: None,
                accesses: Some(a),
            },
        ];
        write_batch(&mut w, &batch(&[], &effects, 2, &none), a.last_ts).unwrap();
    }
    let x = objects::state_of(&w, "x").unwrap().unwrap();
    assert_eq!(
        (x.stats.reads, x.stats.first_seen, x.stats.last_access),
        (5, Some(1_000), Some(2_000))
    );
    let mut direct = reads(5, 1_000).h;
    direct[0] = super::log_add(two.h[0], three.h[0]);
    assert!((x.stats.h1.unwrap() - direct[0].unwrap()).abs() < 1e-9);
    assert_eq!(x.tier, None, "seen in events only: on no tier");
    // A PUT with a size after a DELETE starts the object again.
    let put = Accesses {
        first_ts: 5_000,
        last_ts: 5_000,
        writes: 1,
        size: Some(42),
        last_put: Some(5_000),
        ..Accesses::default()
    };
    let effects = [
        KeyEffect {
            key: "x",
            deleted_at: Some(4_000),
            accesses: Some(&put),
        },
        KeyEffect {
            key: "y",
            deleted_at: Some(4_500),
            accesses: None,
        },
    ];
    write_batch(&mut w, &batch(&[], &effects, 3, &none), 5_000).unwrap();
    assert_eq!(lifetimes(&w).unwrap(), ((3_000 + 3_500) as f64, 2));
    let x = objects::state_of(&w, "x").unwrap().unwrap();
    assert_eq!((x.stats.reads, x.stats.writes, x.stats.size), (0, 1, 42));
    assert_eq!(objects::state_of(&w, "y").unwrap(), None);
    assert_eq!(objects::unplaced_since(&w, 0, 10).unwrap(), vec!["x".to_string()]);
}

fn rejections_are_counted_and_the_newest_kept(s: &Store) {
    let mut w = s.writer();
    let raws: Vec<String> = (0..5).map(|i| format!("raw{i}")).collect();
    let rejected: Vec<RejectedRow<'_>> = raws
        .iter()
        .map(|raw| RejectedRow {
            source: SRC,
            reason: "bad_json",
            detail: "expected value",
            raw,
        })
        .collect();
    let none = BTreeMap::new();
    let b = Batch {
        rejected: &rejected,
        rejected_keep: 3,
        ..batch(&[], &[], 0, &none)
    };
    write_batch(&mut w, &b, 1).unwrap();
    let kept: Vec<String> = newest_rejected(&w, 10).unwrap().into_iter().map(|r| r.raw).collect();
    assert_eq!(kept, ["raw4", "raw3", "raw2"]);
    let sum = summary::summary(&w).unwrap();
    assert_eq!(sum.events.rejected, 5);
    assert_eq!(sum.events.rejected_by_reason.get("bad_json"), Some(&5));
}

fn discoveries_never_move_a_pointer(s: &Store) {
    let mut w = s.writer();
    let none = BTreeMap::new();
    write_batch(&mut w, &batch(&[rec("a", "hot", 10)], &[], 0, &none), 1).unwrap();
    let found = [rec("a", "cold", 99), rec("new", "cold", 5)];
    let b = Batch {
        discovered: &found,
        ..batch(&[], &[], 0, &none)
    };
    write_batch(&mut w, &b, 2).unwrap();
    assert_eq!(super::tier_of(&w, "a").unwrap().as_deref(), Some("hot"));
    assert_eq!(objects::state_of(&w, "a").unwrap().unwrap().stats.size, 10);
    assert_eq!(super::tier_of(&w, "new").unwrap().as_deref(), Some("cold"));
    let mut keys = objects::placed_keys(&w).unwrap();
    keys.sort();
    assert_eq!(
        keys,
        [("a".to_string(), "hot".to_string()), ("new".into(), "cold".into())]
    );
}

fn written(size: u64) -> Written {
    Written {
        size,
        etag: "dst-etag".into(),
        sha256: Some("ab".into()),
        attrs: Default::default(),
        version_id: None,
    }
}

fn a_move_runs_its_state_machine_and_switches_the_pointer(s: &Store) {
    let mut w = s.writer();
    let none = BTreeMap::new();
    write_batch(&mut w, &batch(&[rec("k", "hot", 10)], &[], 0, &none), 1).unwrap();
    let id = tasks::enqueue(&w, "k", "hot", "cold", 5).unwrap().unwrap();
    assert_eq!(
        tasks::enqueue(&w, "k", "hot", "cold", 6).unwrap(),
        None,
        "one unfinished task per object"
    );
    assert_eq!(tasks::claimable(&w, 10, 10).unwrap().len(), 1);
    let steps = [
        (TaskState::Pending, TaskState::Copying),
        (TaskState::Copying, TaskState::Verifying),
        (TaskState::Verifying, TaskState::Switching),
    ];
    for (from, to) in steps {
        assert!(tasks::transition(&w, id, from, to, &Change::default(), 7).unwrap());
    }
    // Compare-and-set: a transition from a state the task has left changes nothing.
    assert!(!tasks::transition(&w, id, TaskState::Pending, TaskState::Failed, &Change::default(), 8).unwrap());
    let t = tasks::get(&w, id).unwrap().unwrap();
    assert_eq!(
        tasks::switch_pointer(&mut w, &t, &written(10), 9, Some(100)).unwrap(),
        Switch::Switched
    );
    assert_eq!(super::tier_of(&w, "k").unwrap().as_deref(), Some("cold"));
    let t = tasks::get(&w, id).unwrap().unwrap();
    assert_eq!((t.state, t.not_before), (TaskState::Cleaning, Some(100)));
    assert!(!tasks::cancel(&w, id, 10).unwrap(), "cleaning cannot be cancelled");
    assert!(tasks::claimable(&w, 50, 10).unwrap().is_empty(), "not before its time");
    assert!(tasks::transition(&w, id, TaskState::Cleaning, TaskState::Done, &Change::default(), 11).unwrap());
    assert_eq!(tasks::forget_finished(&w, 12, 10).unwrap(), 1);
    // A task whose object moved meanwhile does not switch it back.
    let id = tasks::enqueue(&w, "k", "hot", "warm", 20).unwrap().unwrap();
    let t = tasks::get(&w, id).unwrap().unwrap();
    assert_eq!(
        tasks::switch_pointer(&mut w, &t, &written(10), 21, None).unwrap(),
        Switch::PointerMoved
    );
    assert!(tasks::cancel(&w, id, 22).unwrap());
    assert!(tasks::transition(&w, id, TaskState::Cancelled, TaskState::Failed, &Change::default(), 23).unwrap());
    assert_eq!(tasks::retry_failed(&w, 24).unwrap(), 1);
    assert_eq!(tasks::queued(&w, 10).unwrap(), [("k".to_string(), "hot".to_string())]);
    assert_eq!(tasks::of_key(&w, "k").unwrap().len(), 1);
    assert_eq!(tasks::newest(&w, Some(TaskState::Pending), 10).unwrap().len(), 1);
    assert_eq!(tasks::newest(&w, None, 10).unwrap().len(), 1);
    assert!(tasks::moving_keys(&w, 0).unwrap().contains("k"));
}

fn a_plan_queues_only_what_is_still_true(s: &Store) {
    let mut w = s.writer();
    let none = BTreeMap::new();
    let recs = [rec("a", "hot", 1), rec("b", "hot", 1), rec("c", "hot", 1)];
    write_batch(&mut w, &batch(&recs, &[], 0, &none), 1).unwrap();
    assert!(super::set_pinned(&w, "b", true).unwrap());
    let moves = [
        PlannedMove {
            key: "a",
            from: "hot",
            to: "cold",
        },
        PlannedMove {
            key: "b",
            from: "hot",
            to: "cold",
        },
        PlannedMove {
            key: "c",
            from: "warm",
            to: "cold",
        },
        PlannedMove {
            key: "gone",
            from: "hot",
            to: "cold",
        },
    ];
    let created = tasks::queue_plan(&mut w, &moves, 2, |n| format!("{{\"created\":{n}}}")).unwrap();
    assert_eq!(created, 1);
    assert_eq!(
        super::get_setting(&w, super::PLAN_LAST).unwrap().as_deref(),
        Some("{\"created\":1}")
    );
    assert_eq!(
        tasks::unfinished(&w).unwrap().get("a").map(String::as_str),
        Some("cold")
    );
}

fn history_samples_and_is_read_back(s: &Store) {
    let mut w = s.writer();
    let none = BTreeMap::new();
    let a = reads(1, 1_000);
    let effects = [KeyEffect {
        key: "h",
        deleted_at: None,
        accesses: Some(&a),
    }];
    write_batch(&mut w, &batch(&[rec("h", "hot", 3)], &effects, 1, &none), 1_000).unwrap();
    let mut m = dim_config::Config::embedded_default().unwrap().model;
    m.sample_every_secs = 1;
    m.sample_cold = 4;
    let mut sampler = history::Sampler::new(&m);
    assert_eq!(sampler.sample(&mut w, 2_000).unwrap(), 1);
    write_batch(&mut w, &batch(&[], &effects, 1, &none), 2_500).unwrap();
    assert!(sampler.sample(&mut w, 3_000).unwrap() >= 1);
    let id = training::labelled(&w, 10_000, 1_000, 10).unwrap()[0].object_id;
    assert_eq!(training::snapshots_of(&w, id).unwrap(), [(2_000, 1), (3_000, 2)]);
    assert_eq!(
        training::current_reads(&w, id).unwrap(),
        Some(("h".into(), Some(1_000), 2))
    );
    assert_eq!(training::random_states(&w, 10_000, 10).unwrap().len(), 2);
    let later = training::labelled(&w, 10_000, 1_000, 10).unwrap();
    assert_eq!(later.iter().map(|l| l.count_at_horizon).collect::<Vec<_>>(), [2, 2]);
}

fn listings_and_summaries_see_every_object(s: &Store) {
    let mut w = s.writer();
    let none = BTreeMap::new();
    let (hot, warm) = (reads(5, 1_000), reads(1, 1_000));
    let effects = [
        KeyEffect {
            key: "a",
            deleted_at: None,
            accesses: Some(&hot),
        },
        KeyEffect {
            key: "b",
            deleted_at: None,
            accesses: Some(&warm),
        },
    ];
    let recs = [rec("a", "hot", 10), rec("b", "cold", 20), rec("c", "cold", 30)];
    write_batch(&mut w, &batch(&recs, &effects, 6, &none), 1_000).unwrap();
    let top: Vec<String> = summary::hottest(&w, 1, 1_000)
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(top, ["a"]);
    let mut on_cold = Vec::new();
    listing::each_object(&w, Some("cold"), 1_000, |o, _| on_cold.push(o.key)).unwrap();
    on_cold.sort();
    assert_eq!(on_cold, ["b", "c"]);
    let mut all = 0;
    listing::each_object(&w, None, 1_000, |_, _| all += 1).unwrap();
    assert_eq!(all, 3);
    let mut placed = 0;
    objects::for_each_placed(&w, |_| placed += 1).unwrap();
    assert_eq!(placed, 3);
    assert_eq!(objects::placed_sizes(&w).unwrap().len(), 3);
    assert!(objects::alive_ms(&w, 2_000).unwrap() > 0.0);
    let sum = summary::summary(&w).unwrap();
    assert_eq!(sum.tiers.get("cold").map(|t| (t.objects, t.bytes)), Some((2, 50)));
    super::models::save_model(&w, 5, "{}", Some("[]")).unwrap();
    super::models::save_model(&w, 6, "{\"v\":2}", None).unwrap();
    assert_eq!(super::models::last_model(&w).unwrap(), Some(("{\"v\":2}".into(), None)));
}

fn migrations_apply_once_and_reopen(s: &Store) {
    assert_eq!(schema_version(&s.writer()).unwrap(), SCHEMA_VERSION);
    let again = Store::open_at(s.location(), 4).unwrap();
    assert_eq!(schema_version(&again.writer()).unwrap(), SCHEMA_VERSION);
    assert_eq!(schema_version(&again.reader().unwrap()).unwrap(), SCHEMA_VERSION);
}

fn tier_totals_follow_inserts_moves_and_deletes(s: &Store) {
    let w = s.writer();
    w.exec_batch(
        "INSERT INTO objects(key, tier, size, created) VALUES ('a', 'hot', 10, 0), ('b', 'hot', 5, 0), ('c', NULL, 7, 0);
         UPDATE objects SET tier = 'cold' WHERE key = 'a';
         UPDATE objects SET size = 8 WHERE key = 'b';
         DELETE FROM objects WHERE key = 'c';",
    )
    .unwrap();
    let get = |t: &str| -> (i64, i64) {
        w.row(
            "SELECT CAST(sum(objects) AS BIGINT), CAST(sum(bytes) AS BIGINT) FROM tier_totals WHERE tier = ?1",
            &[&t],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
        .unwrap()
    };
    assert_eq!(get("hot"), (1, 8));
    assert_eq!(get("cold"), (1, 10));
    assert_eq!(get(""), (0, 0));
    assert_eq!(placement(&w, "a").unwrap(), Some(Some("cold".into())));
    assert_eq!(placement(&w, "zz").unwrap(), None);
    assert!(set_pinned(&w, "a", true).unwrap());
    assert!(!set_pinned(&w, "zz", true).unwrap());
}

fn settings_offsets_and_engine_time(s: &Store) {
    let w = s.writer();
    assert_eq!(engine_time(&w).unwrap(), None);
    advance_engine_time(&w, 5_000).unwrap();
    advance_engine_time(&w, 4_000).unwrap();
    assert_eq!(
        engine_time(&w).unwrap(),
        Some(5_000),
        "engine time never runs backwards"
    );
    set_setting(&w, "x", "1").unwrap();
    set_setting(&w, "x", "2").unwrap();
    assert_eq!(get_setting(&w, "x").unwrap().as_deref(), Some("2"));
    assert_eq!(stored_offset(&w, "k", 3).unwrap(), None);
    assert_eq!(lifetimes(&w).unwrap(), (0.0, 0));
}

#[test]
fn reader_refuses_a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_reader(&dir.path().join("nope.db")).unwrap_err();
    assert!(e.to_string().contains("dim --daemon"), "{e}");
}
