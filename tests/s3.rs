//! The S3 backend and the migrator against a real S3 server (Garage, started by scripts/test.sh).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{capture_logs, content, local_tier, s3_env, s3_tier, sha256};
use data_in_motion::engine::clock::wall_now_ms;
use data_in_motion::engine::migrate::backoff::Policy;
use data_in_motion::engine::migrate::mover::{MoveCtx, Outcome};
use data_in_motion::engine::migrate::task;
use data_in_motion::engine::store::Store;
use data_in_motion::engine::tiers::{Attributes, ErrorKind, ObjectStore, Reader, Version};
use data_in_motion::s3::S3Tier;
use tokio::io::AsyncReadExt;

fn body(data: &[u8]) -> Reader {
    Box::new(std::io::Cursor::new(data.to_vec()))
}

async fn read_all(store: &dyn ObjectStore, key: &str) -> Vec<u8> {
    let (_, mut r) = store.get(key, None).await.unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).await.unwrap();
    v
}

fn unique(prefix: &str) -> String {
    format!("{prefix}/{}-{}", std::process::id(), wall_now_ms())
}

#[ignore = "needs the test services (scripts/test.sh)"]
#[tokio::test]
async fn s3_backend_operations() {
    let env = s3_env("s3_backend_operations");
    // Parts of 5 MiB, so 12 MiB go in three.
    let mut m = common::config_with(vec![]).migrator;
    m.multipart_threshold_bytes = 5 << 20;
    let hot = S3Tier::new(&s3_tier(&env, "hot", "dim-hot"), &m).unwrap();
    let cool = S3Tier::new(&s3_tier(&env, "cool", "dim-cool"), &m).unwrap();
    let p = unique("ops");

    // Single part: Content-MD5 checked by the server, ETag compared with our MD5.
    let small = content(1, 100_000);
    let w = hot
        .put(
            &format!("{p}/small"),
            body(&small),
            small.len() as u64,
            &Attributes::default(),
        )
        .await
        .unwrap();
    assert_eq!(w.size, 100_000);
    assert_eq!(w.sha256.as_deref(), Some(sha256(&small).as_str()));
    let head = hot.head(&format!("{p}/small")).await.unwrap().unwrap();
    assert_eq!((head.size, head.etag.clone()), (100_000, w.etag.clone()));
    assert!(hot.verify(&format!("{p}/small"), &w).await.unwrap());
    assert_eq!(read_all(&hot, &format!("{p}/small")).await, small);

    // Multipart above the threshold, every part's ETag checked.
    let big = content(2, 12 << 20);
    let w = hot
        .put(
            &format!("{p}/big"),
            body(&big),
            big.len() as u64,
            &Attributes::default(),
        )
        .await
        .unwrap();
    assert!(w.etag.ends_with("-3"), "multipart ETag {}", w.etag);
    assert_eq!(w.sha256.as_deref(), Some(sha256(&big).as_str()));
    assert!(hot.verify(&format!("{p}/big"), &w).await.unwrap());
    assert_eq!(sha256(&read_all(&hot, &format!("{p}/big")).await), sha256(&big));

    // Conditional GET and server-side copy.
    let e = hot
        .get(
            &format!("{p}/small"),
            Some(Version {
                etag: "0123",
                version_id: None,
            }),
        )
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::PreconditionFailed, "{e}");
    let src = hot.copy_source().unwrap();
    assert_eq!(src.domain, cool.copy_source().unwrap().domain);
    let e = cool
        .copy_from(
            &src,
            &format!("{p}/small"),
            Version {
                etag: "0123",
                version_id: None,
            },
            100_000,
            &Attributes::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PreconditionFailed, "{e}");
    let cw = cool
        .copy_from(
            &src,
            &format!("{p}/small"),
            Version {
                etag: &head.etag,
                version_id: None,
            },
            100_000,
            &Attributes::default(),
        )
        .await
        .unwrap();
    assert_eq!(cw.size, 100_000);
    assert!(cool.verify(&format!("{p}/small"), &cw).await.unwrap());
    assert_eq!(read_all(&cool, &format!("{p}/small")).await, small);

    // Listing with a prefix, deleting (twice: idempotent), missing objects.
    let listed: Vec<String> = hot
        .list(&format!("{p}/"))
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(listed, vec![format!("{p}/big"), format!("{p}/small")]);
    hot.delete(&format!("{p}/small"), None).await.unwrap();
    hot.delete(&format!("{p}/small"), None).await.unwrap();
    assert!(hot.head(&format!("{p}/small")).await.unwrap().is_none());
    let e = hot.get(&format!("{p}/small"), None).await.err().unwrap();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[ignore = "needs the test services (scripts/test.sh)"]
#[tokio::test]
async fn migrations_between_local_and_s3_in_every_direction() {
    let env = s3_env("migrations_between_local_and_s3_in_every_direction");
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config_with(vec![
        s3_tier(&env, "s3a", "dim-hot"),
        s3_tier(&env, "s3b", "dim-archive"),
        local_tier("disk", 5.0),
    ]);
    let tiers = data_in_motion::tiers::build(&cfg, dir.path()).unwrap();
    let store = Arc::new(Store::open(&dir.path().join("dim.db"), 8).unwrap());
    let ctx = MoveCtx::new(
        store.clone(),
        tiers.clone(),
        Policy::from_config(&cfg.migrator),
        // Objects written by this test are fresh: no growing window here.
        Duration::ZERO,
        Arc::new(|_, _| {}),
    );
    let p = unique("mv");
    let cases = [
        ("disk", "s3a", 12usize << 20), // streamed, multipart upload
        ("s3a", "disk", 3 << 20),       // streamed download
        ("s3a", "s3b", 700_000),        // server-side copy, conditional on the ETag
    ];
    for (i, (from, to, size)) in cases.into_iter().enumerate() {
        let key = format!("{p}/{i}.bin");
        let data = content(i as u64 + 10, size);
        tiers[from]
            .put(&key, body(&data), size as u64, &Attributes::default())
            .await
            .unwrap();
        common::register(&store, &[(&key, from, size as u64)]);
        let id = task::enqueue(&store.writer(), &key, from, to, wall_now_ms())
            .unwrap()
            .unwrap();
        let t = task::get(&store.writer(), id).unwrap().unwrap();
        assert_eq!(
            ctx.run(t, Default::default(), Default::default()).await.unwrap(),
            Outcome::Done,
            "{from} -> {to}"
        );
        let pointer: String = store
            .writer()
            .as_sqlite()
            .unwrap()
            .query_row("SELECT tier FROM objects WHERE key = ?1", [&key], |r| r.get(0))
            .unwrap();
        assert_eq!(pointer, to);
        assert_eq!(
            sha256(&read_all(tiers[to].as_ref(), &key).await),
            sha256(&data),
            "{from} -> {to}"
        );
        assert!(
            tiers[from].head(&key).await.unwrap().is_none(),
            "source deleted after {from} -> {to}"
        );
    }
}

#[ignore = "needs the test services (scripts/test.sh)"]
#[tokio::test]
async fn secrets_never_reach_logs_or_debug_output() {
    let env = s3_env("secrets_never_reach_logs_or_debug_output");
    let secret = "SeCrEt-dim-test-0123456789abcdef-do-not-log";
    // Safety: set before any thread of this test reads the environment; unique variable names.
    unsafe {
        std::env::set_var("DIM_SECRET_TEST_AK", "GKdeadbeefdeadbeefdeadbeef");
        std::env::set_var("DIM_SECRET_TEST_SK", secret);
    }
    let (logs, _g) = capture_logs("trace");
    let mut t = s3_tier(&env, "leaky", "dim-hot");
    t.access_key_env = Some("DIM_SECRET_TEST_AK".into());
    t.secret_key_env = Some("DIM_SECRET_TEST_SK".into());
    let tier = S3Tier::new(&t, &common::config_with(vec![]).migrator).unwrap();
    // Unknown key: the server answers 403 with its own message.
    let e = tier.head("x").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden, "{e}");
    let mut t2 = t.clone();
    t2.endpoint = Some("http://127.0.0.1:9".into());
    let unreachable = S3Tier::new(&t2, &common::config_with(vec![]).migrator).unwrap();
    let e2 = unreachable
        .put("y", body(b"abc"), 3, &Attributes::default())
        .await
        .unwrap_err();
    assert!(e2.kind.retryable(), "{e2}");
    let printed = format!("{tier:?} {unreachable:?} {e} {e2} {e:?} {e2:?}");
    tracing::info!(error = %e, error2 = %e2, "logged errors");
    let text = logs.text();
    assert!(text.len() > 1000, "trace logs were captured ({} bytes)", text.len());
    assert!(!text.contains(secret), "the secret key is in the logs");
    assert!(!printed.contains(secret), "the secret key is in Debug/Display output");
}
