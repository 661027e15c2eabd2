//! Inventory against a real S3 server: objects put into a bucket by someone else are registered
//! with their sizes while ingest keeps running, and an object on two tiers is reported.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use common::{local_tier, s3_env, s3_tier};
use data_in_motion::engine::clock::wall_now_ms;
use data_in_motion::engine::command::Command;
use data_in_motion::engine::inventory::ScanState;
use data_in_motion::engine::tiers::chaos::ChaosSettings;
use data_in_motion::engine::tiers::local::LocalTier;
use data_in_motion::engine::tiers::s3::S3Tier;
use data_in_motion::engine::{Engine, EngineOptions};
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
    while first.snapshots.borrow().store.events.ingested < 1000 {
        assert!(Instant::now() < deadline, "the workload did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.shutdown().await.unwrap();

    let h = Engine::start(cfg, EngineOptions::new(dir.path())).unwrap();
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
    let c = data_in_motion::engine::store::open_reader(h.store.path()).unwrap();
    let mut stmt = c
        .prepare("SELECT key, size FROM objects WHERE tier = 'bucket'")
        .unwrap();
    let got: BTreeMap<String, i64> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, want);
    let dup_tier: String = c
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
    h.commands
        .send(Command::Chaos {
            tier: "bucket".into(),
            settings: ChaosSettings {
                latency_ms: 1500,
                ..ChaosSettings::default()
            },
        })
        .await
        .unwrap();
    h.commands.send(Command::Rescan).await.unwrap();
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
        .query_row("SELECT count(*) FROM objects WHERE tier = 'bucket'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, N);
    h.shutdown().await.unwrap();
}
