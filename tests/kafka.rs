//! The Kafka source against a real Kafka-protocol broker (tansu, started by scripts/test.sh):
//! exactly-once across `kill -9`, reconnection across a broker restart, and events produced by
//! an independent client (confluent-kafka / librdkafka).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{kafka_env, local_tier, tool_env};
use data_in_motion::cmd::simulate::{self, partition_clients};
use data_in_motion::config::{Config, SourceKind};
use data_in_motion::engine::clock::wall_now_ms;
use data_in_motion::engine::events::SourceState;
use data_in_motion::engine::store::open_reader;
use data_in_motion::engine::store::summary::summary;
use data_in_motion::engine::{Engine, EngineHandle, EngineOptions};

const DIM: &str = env!("CARGO_BIN_EXE_dim");

fn unique_topic(name: &str) -> String {
    format!("dim-test-{name}-{}-{}", std::process::id(), wall_now_ms())
}

/// What was produced: per-key reads and writes of the valid events, and how many were invalid.
#[derive(Default)]
struct Expected {
    reads: BTreeMap<String, i64>,
    writes: BTreeMap<String, i64>,
    valid: u64,
    invalid: u64,
}

/// Events `from..to`: every 10th is malformed (four kinds), the rest GET/HEAD/PUT on 500 keys.
fn payloads(from: u64, to: u64, exp: &mut Expected) -> Vec<(String, Vec<u8>)> {
    let now = wall_now_ms();
    (from..to)
        .map(|i| {
            let key = format!("eo/obj-{:04}.bin", (i * 7919) % 500);
            if i % 10 == 9 {
                exp.invalid += 1;
                let raw = match (i / 10) % 4 {
                    0 => b"{not json".to_vec(),
                    1 => br#"{"op": "GET", "ts": 1700000000000}"#.to_vec(),
                    2 => format!(r#"{{"key": "{key}", "op": "TELEPORT", "ts": {now}}}"#).into_bytes(),
                    _ => format!(r#"{{"key": "{key}", "op": "GET", "ts": "soon"}}"#).into_bytes(),
                };
                return (key, raw);
            }
            exp.valid += 1;
            let (op, size) = match i % 7 {
                0 => ("PUT", r#", "size": 2048"#),
                1 => ("HEAD", ""),
                _ => ("GET", ""),
            };
            let map = if op == "PUT" { &mut exp.writes } else { &mut exp.reads };
            *map.entry(key.clone()).or_default() += 1;
            let raw = format!(
                r#"{{"key": "{key}", "op": "{op}", "ts": {}{size}}}"#,
                now - 60_000 + (i % 1000) as i64
            );
            (key, raw.into_bytes())
        })
        .collect()
}

async fn produce(clients: &[rskafka::client::partition::PartitionClient], events: Vec<(String, Vec<u8>)>) {
    simulate::produce(clients, events).await.unwrap();
}

fn kafka_config(brokers: &str, topic: &str) -> Config {
    let mut cfg = common::config_with(vec![local_tier("disk", 5.0)]);
    cfg.events.source = SourceKind::Kafka;
    cfg.events.brokers = vec![brokers.to_string()];
    cfg.events.topic = topic.to_string();
    cfg.events.partitions = 3;
    cfg.clock.speed = 1.0;
    cfg
}

/// Events the store has counted (ingested + rejected); 0 before the store exists.
fn counted(db: &Path) -> u64 {
    open_reader(db)
        .ok()
        .and_then(|c| summary(&c).ok())
        .map_or(0, |s| s.events.ingested + s.events.rejected)
}

fn per_key(db: &Path) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
    let c = open_reader(db).unwrap();
    let mut stmt = c
        .as_sqlite()
        .unwrap()
        .prepare("SELECT key, reads, writes FROM objects")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })
        .unwrap();
    let (mut reads, mut writes) = (BTreeMap::new(), BTreeMap::new());
    for row in rows {
        let (k, rd, wr) = row.unwrap();
        if rd > 0 {
            reads.insert(k.clone(), rd);
        }
        if wr > 0 {
            writes.insert(k, wr);
        }
    }
    (reads, writes)
}

fn spawn_daemon(cfg_path: &Path, data_dir: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(DIM)
        .arg("--daemon")
        .arg("--config")
        .arg(cfg_path)
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

#[ignore = "needs the test services (scripts/test.sh)"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_across_two_kill_9() {
    let brokers = kafka_env("exactly_once_across_two_kill_9");
    const TOTAL: u64 = 100_000;
    let topic = unique_topic("eo");
    let clients = partition_clients(std::slice::from_ref(&brokers), &topic, 3, 1)
        .await
        .unwrap();
    assert_eq!(clients.len(), 3);

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let db = data_dir.join("dim.db");
    let mut cfg_text = format!(
        "[events]\nsource = \"kafka\"\nbrokers = [\"{brokers}\"]\ntopic = \"{topic}\"\npartitions = 3\n\
         # Small batches: more commits for the kills to land between.\nbatch_max_events = 2000\nbatch_max_ms = 50\n\n\
         [clock]\nspeed = 1.0\n"
    );
    cfg_text.push_str(&format!(
        "\n[[tiers]]\n{}",
        toml::to_string(&local_tier("disk", 5.0)).unwrap()
    ));
    let cfg_path = dir.path().join("dim.toml");
    std::fs::write(&cfg_path, cfg_text).unwrap();
    let log = dir.path().join("daemon.log");

    // The producer runs while the engine consumes (and is killed): 20 chunks over a few seconds.
    let mut exp = Expected::default();
    let chunks: Vec<Vec<(String, Vec<u8>)>> = (0..20).map(|c| payloads(c * 5000, (c + 1) * 5000, &mut exp)).collect();
    assert_eq!(exp.valid + exp.invalid, TOTAL);
    let producer = tokio::spawn(async move {
        for chunk in chunks {
            produce(&clients, chunk).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    });

    let mut daemon = spawn_daemon(&cfg_path, &data_dir, &log);
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut kills = Vec::new();
    for threshold in [15_000, 50_000] {
        let before = counted(&db);
        while counted(&db) < threshold.max(before + 1) {
            assert!(
                Instant::now() < deadline,
                "consumption stalled:\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
            assert!(
                daemon.try_wait().unwrap().is_none(),
                "the daemon exited:\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();
        kills.push(counted(&db));
        daemon = spawn_daemon(&cfg_path, &data_dir, &log);
    }
    producer.await.unwrap();
    while counted(&db) < TOTAL {
        assert!(
            Instant::now() < deadline,
            "only {} of {TOTAL} events counted:\n{}",
            counted(&db),
            std::fs::read_to_string(&log).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A little longer: nothing beyond what was produced may appear (no double counting).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    daemon.wait().unwrap();
    eprintln!("killed at {kills:?} events counted");
    assert!(
        kills[0] < TOTAL && kills[1] < TOTAL,
        "the kills landed after consumption: {kills:?}"
    );

    let c = open_reader(&db).unwrap();
    let s = summary(&c).unwrap();
    assert_eq!(s.events.ingested, exp.valid, "valid events ingested");
    assert_eq!(s.events.rejected, exp.invalid, "invalid events rejected");
    for reason in ["invalid_json", "missing_key", "unknown_op", "bad_ts"] {
        assert_eq!(
            s.events.rejected_by_reason.get(reason).copied(),
            Some(exp.invalid / 4),
            "{reason}"
        );
    }
    let (reads, writes) = per_key(&db);
    assert_eq!(reads, exp.reads, "per-object reads");
    assert_eq!(writes, exp.writes, "per-object writes");
    // The stored offsets cover every record of every partition, exactly.
    let committed: i64 = c
        .as_sqlite()
        .unwrap()
        .query_row(
            "SELECT sum(next_offset) FROM offsets WHERE source = ?1",
            [format!("kafka:{topic}")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(committed as u64, TOTAL);
}

/// A tansu broker of the test's own, which it can stop and start again.
struct Tansu {
    bin: String,
    dir: std::path::PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Tansu {
    fn start(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("tansu.log"))
            .unwrap();
        let child = Command::new(&self.bin)
            .arg("broker")
            .arg("--storage-engine")
            // tansu reads the path of a sqlite:// URL as relative to its working directory.
            .arg("sqlite://tansu.db")
            .current_dir(&self.dir)
            .args(["--listener-url", &url, "--advertised-listener-url", &url])
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    c.kill().unwrap();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn wait_for(
    h: &EngineHandle,
    what: &str,
    secs: u64,
    ok: impl Fn(&data_in_motion::engine::snapshot::Snapshot) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = h.snapshots().borrow().clone();
        if ok(&s) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; source {:?}, events {:?}",
            s.source,
            s.store.events
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[ignore = "needs the test services (scripts/test.sh)"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_a_broker_restart() {
    let bin = tool_env("DIM_TEST_TANSU_BIN", "reconnects_after_a_broker_restart");
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut tansu = Tansu {
        bin,
        dir: dir.path().to_path_buf(),
        port,
        child: None,
    };
    tansu.start();
    let brokers = tansu.brokers();
    let topic = unique_topic("restart");

    let h = Engine::start(
        kafka_config(&brokers, &topic),
        EngineOptions::new(dir.path().join("data")),
    )
    .unwrap();
    // The engine creates the topic itself.
    wait_for(&h, "connected", 30, |s| s.source.state == SourceState::Connected).await;
    let clients = partition_clients(std::slice::from_ref(&brokers), &topic, 3, 1)
        .await
        .unwrap();
    let mut exp = Expected::default();
    produce(&clients, payloads(0, 3000, &mut exp)).await;
    wait_for(&h, "the first 3000 events", 30, |s| {
        s.store.events.ingested + s.store.events.rejected == 3000
    })
    .await;
    let s = h.snapshots().borrow().clone();
    assert_eq!(s.source.kind, SourceKind::Kafka);
    assert_eq!(s.source.partitions.len(), 3);
    wait_for(&h, "zero lag", 10, |s| {
        s.source.lag == 0 && s.source.partitions.iter().all(|p| p.high_watermark > 0)
    })
    .await;

    tansu.stop();
    wait_for(&h, "reconnecting", 60, |s| s.source.state == SourceState::Reconnecting).await;
    let detail = h.snapshots().borrow().source.detail.clone();
    assert!(!detail.is_empty(), "the snapshot says why it reconnects");
    tokio::time::sleep(Duration::from_secs(2)).await;
    tansu.start();
    wait_for(&h, "connected again", 60, |s| s.source.state == SourceState::Connected).await;
    let clients = partition_clients(std::slice::from_ref(&brokers), &topic, 3, 1)
        .await
        .unwrap();
    produce(&clients, payloads(3000, 5000, &mut exp)).await;
    wait_for(&h, "all 5000 events after the restart", 60, |s| {
        s.store.events.ingested + s.store.events.rejected == 5000
    })
    .await;
    let last = h.shutdown().await.unwrap();
    assert_eq!(last.store.events.ingested, exp.valid);
    assert_eq!(last.store.events.rejected, exp.invalid);
}

#[ignore = "needs the test services (scripts/test.sh)"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_from_confluent_kafka_are_ingested_exactly() {
    let brokers = kafka_env("events_from_confluent_kafka_are_ingested_exactly");
    let python = tool_env("DIM_TEST_PYTHON", "events_from_confluent_kafka_are_ingested_exactly");
    let topic = unique_topic("confluent");
    partition_clients(std::slice::from_ref(&brokers), &topic, 3, 1)
        .await
        .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/confluent_produce.py");
    let out = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(&brokers)
        .arg(&topic)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let valid = sent["valid"].as_u64().unwrap();
    let invalid: BTreeMap<String, u64> = serde_json::from_value(sent["invalid"].clone()).unwrap();
    let total = valid + invalid.values().sum::<u64>();

    let dir = tempfile::tempdir().unwrap();
    let h = Engine::start(kafka_config(&brokers, &topic), EngineOptions::new(dir.path())).unwrap();
    wait_for(&h, "every record", 60, |s| {
        s.store.events.ingested + s.store.events.rejected >= total
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let store = h.store().clone();
    let last = h.shutdown().await.unwrap();
    assert_eq!(last.store.events.ingested, valid, "valid records ingested");
    assert_eq!(last.store.events.rejected_by_reason, invalid, "rejections by reason");

    let db = store.sqlite_path().unwrap().to_path_buf();
    let (reads, writes) = per_key(&db);
    let want_reads: BTreeMap<String, i64> = serde_json::from_value(sent["reads"].clone()).unwrap();
    let want_writes: BTreeMap<String, i64> = serde_json::from_value(sent["writes"].clone()).unwrap();
    assert_eq!(reads, want_reads);
    assert_eq!(writes, want_writes);
}

#[ignore = "needs the test services (scripts/test.sh)"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_named_by_a_put_is_placed_once_it_appears_on_a_tier() {
    let brokers = kafka_env("an_object_named_by_a_put_is_placed_once_it_appears_on_a_tier");
    let topic = unique_topic("appears");
    let clients = partition_clients(std::slice::from_ref(&brokers), &topic, 3, 1)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h = Engine::start(kafka_config(&brokers, &topic), EngineOptions::new(dir.path())).unwrap();
    let put = |key: &str| {
        let raw = format!(r#"{{"key": "{key}", "op": "PUT", "size": 5, "ts": {}}}"#, wall_now_ms());
        (key.to_string(), raw.into_bytes())
    };
    // Named before anyone wrote it: counted, on no tier.
    produce(&clients, vec![put("late/a.bin"), put("never/b.bin")]).await;
    wait_for(&h, "two unplaced objects", 30, |s| s.store.unplaced == 2).await;
    // Written to the disk tier by someone else, then named again by a PUT: placed there.
    data_in_motion::engine::tiers::local::LocalTier::new("disk", dir.path().join("tiers/disk"))
        .unwrap()
        .put_bytes("late/a.bin", b"hello")
        .unwrap();
    produce(&clients, vec![put("late/a.bin")]).await;
    wait_for(&h, "the written object placed", 30, |s| s.store.unplaced == 1).await;
    let c = open_reader(h.store().sqlite_path().unwrap()).unwrap();
    let (tier, size): (String, i64) = c
        .as_sqlite()
        .unwrap()
        .query_row("SELECT tier, size FROM objects WHERE key = 'late/a.bin'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((tier.as_str(), size), ("disk", 5));
    let never: Option<String> = c
        .as_sqlite()
        .unwrap()
        .query_row("SELECT tier FROM objects WHERE key = 'never/b.bin'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(never, None, "an object no tier holds stays unplaced");
    h.shutdown().await.unwrap();
}
