//! Inventory against a real S3 server: objects put into a bucket by someone else are registered
//! with their sizes while ingest keeps running, and an object on two tiers is reported.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use common::hooked::{Hooked, Hooks};
use common::{local_tier, s3_env, s3_tier};
use data_in_motion::engine::clock::{ScaledClock, wall_now_ms};
use data_in_motion::engine::command::Command;
use data_in_motion::engine::inventory::{ScanState, Scanner};
use data_in_motion::engine::store::Store;
use data_in_motion::engine::tiers::chaos::{ChaosSettings, ChaosStore};
use data_in_motion::engine::tiers::local::LocalTier;
use data_in_motion::engine::tiers::{Attributes, Listing, ObjectStore, OpError};
use data_in_motion::engine::{Engine, EngineOptions};
use data_in_motion::s3::S3Tier;
use futures::StreamExt;

const N: usize = 5000;

#[ignore = "needs the test services (scripts/test.sh)"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_registers_a_foreign_bucket_while_ingest_runs() {
    let env = s3_env("inventory_registers_a_foreign_bucket_while_ingest_runs");
    let bucket = format!("dim-inv-{}-{}", std::process::id(), wall_now_ms());
    let tier_cfg = s3_tier(&env, "bucket", &bucket);
    S3Tier::new(&tier_cfg, &common::config_with(vec![]).migrator)
        .unwrap()
        .create_bucket()
        .await
        .unwrap();

    // Someone else's client fills the bucket: the plain SDK, not dim.
    let creds = Credentials::new(
        std::env::var("DIM_TEST_S3_ACCESS_KEY").unwrap(),
        std::env::var("DIM_TEST_S3_SECRET_KEY").unwrap(),
        None,
        None,
        "test",
    );
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(data_in_motion::s3::https_client())
            .region(Region::new(env.region.clone()))
            .endpoint_url(&env.endpoint)
            .credentials_provider(creds)
            .force_path_style(true)
            .build(),
    );
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for i in 0..N {
        want.insert(
            format!("foreign/{:02}/obj-{i:05}.dat", i % 50),
            100 + ((i * 37) % 5000) as i64,
        );
    }
    let puts = futures::stream::iter(want.clone())
        .map(|(key, size)| {
            let client = client.clone();
            let bucket = bucket.clone();
            async move {
                client
                    .put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .body(ByteStream::from(vec![7u8; size as usize]))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("{key}: {e:?}"))
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    assert!(puts.iter().all(Result::is_ok), "{:?}", puts.iter().find(|r| r.is_err()));

    // One object on both tiers: reported, placed on the first (faster) tier listing it.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config_with(vec![local_tier("disk", 5.0), tier_cfg.clone()]);
    cfg.events.embedded.seed_objects = 300;
    cfg.events.embedded.rate = 3000.0;
    let dup = "dup/both-places.bin";
    LocalTier::new("disk", dir.path().join("tiers/disk"))
        .unwrap()
        .put_bytes(dup, b"local copy")
        .unwrap();
    client
        .put_object()
        .bucket(&bucket)
        .key(dup)
        .body(ByteStream::from_static(b"bucket copy"))
        .send()
        .await
        .unwrap();

    // A first run on the local tier only seeds it; the second finds the bucket while the workload
    // (resumed at once) keeps ingesting.
    let mut local_only = cfg.clone();
    local_only.tiers.truncate(1);
    let first = Engine::start(local_only, EngineOptions::new(dir.path())).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while first.snapshots().borrow().store.events.ingested < 1000 {
        assert!(Instant::now() < deadline, "the workload did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.shutdown().await.unwrap();

    let h = Engine::start(cfg, data_in_motion::tiers::engine_options(dir.path())).unwrap();
    let started = Instant::now();
    let mut ingested_during_scan = Vec::new();
    loop {
        let s = h.build_snapshot().unwrap();
        if s.inventory.state == ScanState::Scanning {
            ingested_during_scan.push(s.store.events.ingested);
        }
        if s.inventory.state == ScanState::Done {
            break;
        }
        assert!(s.inventory.state != ScanState::Failed, "{:?}", s.inventory);
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "scan did not finish: {:?}",
            s.inventory
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = h.build_snapshot().unwrap();
    assert!(s.inventory.listed >= (N + 1) as u64, "{:?}", s.inventory);
    assert_eq!(s.inventory.duplicates, 1, "{:?}", s.inventory.duplicate_keys);
    assert_eq!(
        s.inventory.duplicate_keys,
        vec![(dup.to_string(), vec!["disk".to_string(), "bucket".to_string()])]
    );

    // Every object registered with its size, on the bucket's tier; the duplicate on the first.
    let c = data_in_motion::engine::store::open_reader(h.store().sqlite_path().unwrap()).unwrap();
    let got = bucket_objects(c.as_sqlite().unwrap());
    assert_eq!(got, want);
    let dup_tier: String = c
        .as_sqlite()
        .unwrap()
        .query_row("SELECT tier FROM objects WHERE key = ?1", [dup], |r| r.get(0))
        .unwrap();
    assert_eq!(dup_tier, "disk");

    let after = h.build_snapshot().unwrap().store.events.ingested;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let later = h.build_snapshot().unwrap().store.events.ingested;
    assert!(later > after, "ingest stopped: {after} then {later}");
    eprintln!(
        "scan: {} objects in {:.2} s, {} snapshots while scanning: {ingested_during_scan:?}",
        s.inventory.listed,
        s.inventory.secs,
        ingested_during_scan.len()
    );

    // A rescan finds the same and changes nothing. The bucket answers slowly this time (1.5 s per
    // operation), so the scan lasts long enough to see ingest commit while it runs.
    h.commands()
        .send(Command::Chaos {
            tier: "bucket".into(),
            settings: ChaosSettings {
                latency_ms: 1500,
                ..ChaosSettings::default()
            },
        })
        .await
        .unwrap();
    h.commands().send(Command::Rescan).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut during = Vec::new();
    let mut seen_scanning = false;
    loop {
        let s = h.build_snapshot().unwrap();
        match s.inventory.state {
            ScanState::Scanning => {
                seen_scanning = true;
                during.push(s.store.events.ingested);
            }
            ScanState::Done if seen_scanning => break,
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "the rescan did not finish: {:?}",
            s.inventory
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        during.last() > during.first(),
        "ingest stalled while the tiers were listed: {during:?}"
    );
    let n: i64 = c
        .as_sqlite()
        .unwrap()
        .query_row("SELECT count(*) FROM objects WHERE tier = 'bucket'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, N);
    h.shutdown().await.unwrap();
}

/// The bucket as the first run sees it: the real S3 tier, whose listing hands over `pages` pages
/// and then never returns, as a listing does when the process dies in the middle of it. Every
/// `start_after` a listing is asked for is recorded.
#[derive(Debug)]
struct DiesMidListing {
    pages: Option<usize>,
    asked: Arc<Mutex<Vec<Option<String>>>>,
}

#[async_trait]
impl Hooks for DiesMidListing {
    async fn list_pages(
        &self,
        inner: &dyn ObjectStore,
        prefix: &str,
        start_after: Option<&str>,
        on_page: &mut (dyn FnMut(Listing) + Send),
    ) -> Result<(), OpError> {
        self.asked.lock().unwrap().push(start_after.map(str::to_string));
        let Some(pages) = self.pages else {
            return inner.list_pages(prefix, start_after, on_page).await;
        };
        let mut handed = 0;
        inner
            .list_pages(prefix, start_after, &mut |page| {
                if handed < pages {
                    handed += 1;
                    on_page(page);
                }
            })
            .await?;
        std::future::pending().await
    }
}

/// Every object the store has on the tier named `bucket`, by key, with its size.
fn bucket_objects(c: &rusqlite::Connection) -> BTreeMap<String, i64> {
    let mut stmt = c
        .prepare("SELECT key, size FROM objects WHERE tier = 'bucket'")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A scanner over the one S3 tier `tier` of `dir`'s store.
fn scanner(dir: &std::path::Path, name: &str, tier: Arc<dyn ObjectStore>) -> Scanner {
    Scanner {
        tiers: HashMap::from([(name.to_string(), Arc::new(ChaosStore::new(tier)))]),
        order: vec![name.to_string()],
        clock: Arc::new(ScaledClock::real()),
        view: Arc::default(),
        store: Arc::new(Store::open(&dir.join("dim.db"), 8).unwrap()),
        stop: Arc::default(),
        running: Arc::default(),
    }
}

/// The process dies while a bucket of 4,500 objects is listed (its runtime dropped, tasks and all,
/// after the third page is registered); a restart on the same store resumes after the last key
/// registered: every object is registered once, none is missed, and the pages before the kill are
/// not listed again.
#[ignore = "needs the test services (scripts/test.sh)"]
#[test]
fn inventory_resumes_after_a_kill_mid_listing() {
    const OBJECTS: usize = 4500;
    const PAGES_BEFORE_KILL: usize = 3;
    let env = s3_env("inventory_resumes_after_a_kill_mid_listing");
    let bucket = format!("dim-resume-{}-{}", std::process::id(), wall_now_ms());
    let tier_cfg = s3_tier(&env, "bucket", &bucket);
    let migrator = common::config_with(vec![]).migrator;
    let dir = tempfile::tempdir().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let want: BTreeMap<String, i64> = (0..OBJECTS)
        .map(|i| (format!("r/{:02}/obj-{i:05}", i % 30), 1 + ((i * 53) % 900) as i64))
        .collect();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let killed_at = rt.block_on(async {
        let s3: Arc<dyn ObjectStore> = Arc::new(S3Tier::new(&tier_cfg, &migrator).unwrap());
        S3Tier::new(&tier_cfg, &migrator)
            .unwrap()
            .create_bucket()
            .await
            .unwrap();
        let puts = futures::stream::iter(want.clone())
            .map(|(key, size)| {
                let s3 = s3.clone();
                async move {
                    let body = vec![3u8; size as usize];
                    s3.put(
                        &key,
                        Box::new(std::io::Cursor::new(body)),
                        size as u64,
                        &Attributes::default(),
                    )
                    .await
                    .map(|_| ())
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await;
        assert!(puts.iter().all(Result::is_ok), "{:?}", puts.iter().find(|r| r.is_err()));

        let dying = DiesMidListing {
            pages: Some(PAGES_BEFORE_KILL),
            asked: asked.clone(),
        };
        let sc = scanner(dir.path(), "bucket", Hooked::new(s3, dying));
        assert!(sc.start());
        let deadline = Instant::now() + Duration::from_secs(60);
        while sc.view.lock().unwrap().listed < (PAGES_BEFORE_KILL * 1000) as u64 {
            assert!(Instant::now() < deadline, "{:?}", sc.view.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let v = sc.view.lock().unwrap().clone();
        assert_eq!(v.state, ScanState::Scanning);
        v.listed
    });
    // The kill: every task dropped where it stands, the listing still in flight.
    rt.shutdown_background();
    assert_eq!(killed_at, (PAGES_BEFORE_KILL * 1000) as u64);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let again = DiesMidListing {
            pages: None,
            asked: asked.clone(),
        };
        let s3 = Arc::new(S3Tier::new(&tier_cfg, &migrator).unwrap());
        let sc = scanner(dir.path(), "bucket", Hooked::new(s3, again));
        assert!(sc.start());
        let deadline = Instant::now() + Duration::from_secs(60);
        while sc.view.lock().unwrap().state != ScanState::Done {
            assert!(Instant::now() < deadline, "{:?}", sc.view.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let v = sc.view.lock().unwrap().clone();
        // Counted once: 3,000 before the kill and the 1,500 after, not 3,000 + 4,500.
        assert_eq!(v.listed, OBJECTS as u64, "{v:?}");
        assert_eq!(v.duplicates, 0);

        // The restart asked for the objects after the last key registered before the kill.
        let last_before_kill = want.keys().nth(PAGES_BEFORE_KILL * 1000 - 1).cloned();
        assert_eq!(*asked.lock().unwrap(), vec![None, last_before_kill]);

        let c = data_in_motion::engine::store::open_reader(sc.store.sqlite_path().unwrap()).unwrap();
        assert_eq!(bucket_objects(c.as_sqlite().unwrap()), want);
        // A rescan lists everything again, from the start.
        assert!(sc.rescan());
        let deadline = Instant::now() + Duration::from_secs(60);
        while sc.running.load(std::sync::atomic::Ordering::Acquire) {
            assert!(Instant::now() < deadline, "{:?}", sc.view.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(sc.view.lock().unwrap().listed, OBJECTS as u64);
        assert_eq!(asked.lock().unwrap().last(), Some(&None));
    });
}
