//! Batched ingest: per-key effects, decayed counters on engine time, offsets, bounds, history, and the engine on an accelerated clock.

use std::sync::Arc;
use std::time::Duration;

use data_in_motion::config::Config;
use data_in_motion::engine::clock::{Clock, ScaledClock};
use data_in_motion::engine::command::Command;
use data_in_motion::engine::events::codec::{RejectReason, Rejected};
use data_in_motion::engine::events::{AccessEvent, Op};
use data_in_motion::engine::ingest::{Item, ObjectRecord, Pending, SourceBatch, apply};
use data_in_motion::engine::store::history::Sampler;
use data_in_motion::engine::store::summary::{hottest, summary};
use data_in_motion::engine::store::{DECAY_TAUS_SECS, Store, decayed_count, stored_offset};
use data_in_motion::engine::{Engine, EngineOptions};

const T0: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;

fn ev(ts: i64, key: &str, op: Op, size: Option<u64>) -> Item {
    Item::Event(AccessEvent {
        ts,
        key: key.into(),
        op,
        size,
        client: None,
    })
}

fn batch(items: Vec<Item>, offset: i64) -> Pending {
    let mut p = Pending::default();
    p.add(SourceBatch {
        source: "test".into(),
        items,
        offsets: vec![(0, offset)],
        caught_up: false,
        generation: 0,
    });
    p
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("s.db"), 8).unwrap();
    (dir, s)
}

fn stats(s: &Store, key: &str) -> (i64, i64, Option<f64>, Option<f64>, Option<i64>, Option<i64>) {
    s.reader()
        .unwrap()
        .as_sqlite()
        .unwrap()
        .query_row(
            "SELECT reads, writes, h1, h24, first_seen, last_access FROM objects WHERE key = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap()
}

#[test]
fn decayed_counts_follow_engine_time_exactly() {
    let (_d, s) = store();
    // 10 accesses at T0, 5 more one hour later, in two separate batches.
    let first: Vec<Item> = (0..10).map(|_| ev(T0, "a", Op::Get, None)).collect();
    apply(&mut s.writer(), &batch(first, 10), T0, 100).unwrap();
    let second: Vec<Item> = (0..5).map(|_| ev(T0 + HOUR, "a", Op::Get, None)).collect();
    apply(&mut s.writer(), &batch(second, 15), T0 + HOUR, 100).unwrap();

    let (reads, _, h1, h24, first_seen, last_access) = stats(&s, "a");
    assert_eq!(reads, 15);
    assert_eq!((first_seen, last_access), (Some(T0), Some(T0 + HOUR)));
    let e = std::f64::consts::E;
    // With tau = 1 h: at T0 + 1 h the first ten have decayed by e.
    let at = |h: Option<f64>, t: i64, tau: f64| decayed_count(h, t, tau);
    assert!((at(h1, T0 + HOUR, DECAY_TAUS_SECS[0]) - (10.0 / e + 5.0)).abs() < 1e-6);
    // Three more engine hours later, everything has decayed by e^3 more.
    let later = (10.0 / e + 5.0) / e.powi(3);
    assert!((at(h1, T0 + 4 * HOUR, DECAY_TAUS_SECS[0]) - later).abs() < 1e-6);
    // The day window barely moves over one hour.
    let day = 10.0 * (-1.0f64 / 24.0).exp() + 5.0;
    assert!((at(h24, T0 + HOUR, DECAY_TAUS_SECS[1]) - day).abs() < 1e-6);
    // Same counts whether events arrive in one batch or many.
    let (_d2, s2) = store();
    let mut all: Vec<Item> = (0..10).map(|_| ev(T0, "a", Op::Get, None)).collect();
    all.extend((0..5).map(|_| ev(T0 + HOUR, "a", Op::Get, None)));
    apply(&mut s2.writer(), &batch(all, 15), T0 + HOUR, 100).unwrap();
    let (_, _, h1b, ..) = stats(&s2, "a");
    assert!((h1.unwrap() - h1b.unwrap()).abs() < 1e-9);
}

#[test]
fn hottest_ranks_by_current_decayed_rate() {
    let (_d, s) = store();
    // "old" had 20 accesses 5 hours ago, "new" 3 accesses just now: now "new" is hotter.
    let mut items: Vec<Item> = (0..20).map(|_| ev(T0 - 5 * HOUR, "old", Op::Get, None)).collect();
    items.extend((0..3).map(|_| ev(T0, "new", Op::Get, None)));
    apply(&mut s.writer(), &batch(items, 23), T0, 100).unwrap();
    let top = hottest(&s.reader().unwrap(), 10, T0).unwrap();
    assert_eq!(top[0].key, "new");
    assert_eq!(top[1].key, "old");
    assert!((top[0].recent_1h - 3.0).abs() < 1e-9);
    assert!((top[1].recent_1h - 20.0 * (-5.0f64).exp()).abs() < 1e-9);
}

#[test]
fn puts_deletes_and_registrations_apply_in_order() {
    let (_d, s) = store();
    let reg = Item::Register(ObjectRecord {
        key: "r".into(),
        tier: "aws-hot".into(),
        size: 100,
        etag: None,
        last_modified: T0,
        created: T0,
    });
    let items = vec![
        reg,
        ev(T0, "r", Op::Get, None),
        ev(T0 + 1, "r", Op::Put, Some(150)),
        ev(T0, "gone", Op::Get, None),
        ev(T0 + 1, "gone", Op::Delete, None),
        ev(T0, "reborn", Op::Put, Some(10)),
        ev(T0 + 1, "reborn", Op::Delete, None),
        ev(T0 + 2, "reborn", Op::Put, Some(20)),
    ];
    apply(&mut s.writer(), &batch(items, 8), T0, 100).unwrap();
    let conn = s.reader().unwrap();
    let (tier, size, reads, writes, lm): (Option<String>, i64, i64, i64, Option<i64>) = conn
        .as_sqlite()
        .unwrap()
        .query_row(
            "SELECT tier, size, reads, writes, last_modified FROM objects WHERE key = 'r'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (tier.as_deref(), size, reads, writes, lm),
        (Some("aws-hot"), 150, 1, 1, Some(T0 + 1))
    );
    let first_seen: Option<i64> = conn
        .as_sqlite()
        .unwrap()
        .query_row("SELECT first_seen FROM objects WHERE key = 'r'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(first_seen, Some(T0), "a registered object is as old as its creation");
    let gone: i64 = conn
        .as_sqlite()
        .unwrap()
        .query_row("SELECT count(*) FROM objects WHERE key = 'gone'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(gone, 0, "DELETE removes the object");
    let (size, writes): (i64, i64) = conn
        .as_sqlite()
        .unwrap()
        .query_row("SELECT size, writes FROM objects WHERE key = 'reborn'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((size, writes), (20, 1), "only what follows the DELETE counts");
    let sum = summary(&conn).unwrap();
    assert_eq!(sum.events.ingested, 7);
    assert_eq!(sum.tiers["aws-hot"].bytes, 150);
    assert_eq!(sum.unplaced, 1, "an object seen only in events is on no tier");
    assert_eq!(stored_offset(&conn, "test", 0).unwrap(), Some(8));
}

#[test]
fn offsets_never_move_backwards() {
    let (_d, s) = store();
    apply(&mut s.writer(), &batch(vec![], 100), T0, 10).unwrap();
    apply(&mut s.writer(), &batch(vec![], 40), T0, 10).unwrap();
    assert_eq!(stored_offset(&s.reader().unwrap(), "test", 0).unwrap(), Some(100));
}

#[test]
fn rejected_events_keep_only_the_newest() {
    let (_d, s) = store();
    for round in 0..3 {
        let items: Vec<Item> = (0..20)
            .map(|i| {
                Item::Rejected(Rejected {
                    reason: RejectReason::BadSize,
                    detail: "size must be a whole number".into(),
                    raw: format!("payload-{round}-{i}"),
                })
            })
            .collect();
        apply(&mut s.writer(), &batch(items, 0), T0, 25).unwrap();
    }
    let conn = s.reader().unwrap();
    let (n, newest): (i64, String) = conn
        .as_sqlite()
        .unwrap()
        .query_row("SELECT count(*), max(raw) FROM rejected_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(n, 25);
    assert_eq!(newest, "payload-2-9");
    let oldest: String = conn
        .as_sqlite()
        .unwrap()
        .query_row("SELECT raw FROM rejected_events ORDER BY id LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(oldest, "payload-1-15");
    assert_eq!(
        summary(&conn).unwrap().events.rejected,
        60,
        "the counter counts all of them"
    );
}

#[test]
fn history_samples_touched_objects_and_respects_retention() {
    let (_d, s) = store();
    let mut model = Config::embedded_default().unwrap().model;
    model.sample_every_secs = 3600;
    model.sample_cold = 0;
    model.history_retention_secs = 3 * 3600;
    let mut sampler = Sampler::new(&model);
    apply(
        &mut s.writer(),
        &batch(vec![ev(T0, "a", Op::Get, None), ev(T0, "b", Op::Get, None)], 2),
        T0,
        10,
    )
    .unwrap();
    assert!(sampler.due(T0));
    assert_eq!(sampler.sample(&mut s.writer(), T0 + 1).unwrap(), 2);
    assert!(!sampler.due(T0 + HOUR / 2));
    apply(
        &mut s.writer(),
        &batch(vec![ev(T0 + HOUR, "a", Op::Get, None)], 3),
        T0 + HOUR,
        10,
    )
    .unwrap();
    assert_eq!(
        sampler.sample(&mut s.writer(), T0 + HOUR + 1).unwrap(),
        1,
        "only what changed"
    );
    let conn = s.reader().unwrap();
    let reads: Vec<i64> = conn
        .as_sqlite()
        .unwrap()
        .prepare("SELECT reads FROM history WHERE object_id = (SELECT id FROM objects WHERE key = 'a') ORDER BY ts")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(reads, vec![1, 2], "cumulative counts per snapshot");
    sampler.sample(&mut s.writer(), T0 + 5 * HOUR).unwrap();
    let left: i64 = conn
        .as_sqlite()
        .unwrap()
        .query_row("SELECT count(*) FROM history", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0, "snapshots older than the retention are dropped");
}

fn fast_config() -> Config {
    let mut c = Config::embedded_default().unwrap();
    let e = &mut c.events.embedded;
    e.seed_objects = 50;
    e.seed_total_bytes = 500_000;
    e.max_objects = 100;
    e.rate = 5000.0;
    e.put_fraction = 0.0;
    e.flash_share = 0.0;
    c.events.batch_max_ms = 20;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_decays_counts_on_an_accelerated_clock() {
    let dir = tempfile::tempdir().unwrap();
    // Ten engine hours per wall second.
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::new(T0, 36_000.0));
    let mut opts = EngineOptions::new(dir.path());
    opts.clock = Some(clock.clone());
    opts.snapshot_every = Duration::from_millis(50);
    let engine = Engine::start(fast_config(), opts).unwrap();
    let mut snaps = engine.snapshots().clone();
    // Wait until events flow, then stop the workload.
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            snaps.changed().await.unwrap();
            if snaps.borrow().store.events.ingested > 2000 {
                break;
            }
        }
    })
    .await
    .expect("events flowed");
    engine
        .commands()
        .send(Command::SetEventRate { per_sec: 0.0 })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let conn = engine.store().reader().unwrap();
    let t1 = clock.now_ms();
    let before = hottest(&conn, 1, t1).unwrap().remove(0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t2 = clock.now_ms();
    let after = hottest(&conn, 1, t2).unwrap().remove(0);
    assert_eq!(before.key, after.key);
    assert_eq!(before.reads, after.reads, "no new events after rate 0");
    // Half a wall second is about five engine hours: the 1 h count falls by e^-(t2 - t1)/1h.
    let expected = before.recent_1h * (-((t2 - t1) as f64) / HOUR as f64).exp();
    assert!((t2 - t1) >= 4 * HOUR, "engine time ran accelerated: {} ms", t2 - t1);
    assert!((after.recent_1h - expected).abs() <= 1e-9 * before.recent_1h.max(1.0));
    assert!(after.recent_1h < before.recent_1h / 50.0);
    let last = engine.shutdown().await.unwrap();
    assert!(last.store.events.ingested > 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_objects_offsets_and_engine_time() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = fast_config();
    let first = {
        let engine = Engine::start(cfg.clone(), EngineOptions::new(dir.path())).unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        engine.shutdown().await.unwrap()
    };
    assert!(first.store.events.ingested > 0);
    let conn = data_in_motion::engine::store::open_reader(&dir.path().join("dim.db")).unwrap();
    let off = stored_offset(&conn, "embedded", 0).unwrap().unwrap();
    assert_eq!(
        off as u64, first.store.events.ingested,
        "embedded offset = events committed"
    );
    drop(conn);

    let engine = Engine::start(cfg, EngineOptions::new(dir.path())).unwrap();
    assert!(
        engine.clock().now_ms() >= first.now_ms,
        "engine time does not run backwards across a restart"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let second = engine.shutdown().await.unwrap();
    assert_eq!(second.store.objects, first.store.objects, "no re-seeding on restart");
    assert!(second.store.events.ingested > first.store.events.ingested);
}
