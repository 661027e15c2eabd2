//! Helpers shared by integration tests: fixtures, log capture, and the test services' addresses.

#![allow(dead_code)]

pub mod hooked;

use std::io::Write;
use std::sync::{Arc, Mutex};

use data_in_motion::config::{Backend, Config, TierConfig};

/// The S3 server started by scripts/test.sh. The tests that use it are `#[ignore]`d (a plain
/// `cargo test` lists them as not run); the script runs them with `--include-ignored`, where a
/// missing server is a failure, never a skip.
pub struct S3Env {
    pub endpoint: String,
    pub region: String,
}

pub fn s3_env(test: &str) -> S3Env {
    S3Env {
        endpoint: tool_env("DIM_TEST_S3_ENDPOINT", test),
        region: std::env::var("DIM_TEST_S3_REGION").unwrap_or_else(|_| "garage".into()),
    }
}

/// The Kafka-protocol broker started by scripts/test.sh.
pub fn kafka_env(test: &str) -> String {
    tool_env("DIM_TEST_KAFKA_BROKERS", test)
}

/// A test service or tool that scripts/test.sh provides through `var`: a test that asked for it
/// fails without it.
pub fn tool_env(var: &str, test: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{test}: {var} is not set; run ./scripts/test.sh, which starts the test services and sets it")
    })
}

pub fn s3_tier(env: &S3Env, name: &str, bucket: &str) -> TierConfig {
    TierConfig {
        name: name.into(),
        provider: "garage".into(),
        backend: Backend::S3,
        path: None,
        endpoint: Some(env.endpoint.clone()),
        bucket: Some(bucket.into()),
        region: Some(env.region.clone()),
        access_key_env: Some("DIM_TEST_S3_ACCESS_KEY".into()),
        secret_key_env: Some("DIM_TEST_S3_SECRET_KEY".into()),
        storage_gb_month: 0.02,
        get_per_1k: 0.0004,
        put_per_1k: 0.005,
        retrieval_gb: 0.0,
        egress_gb: 0.0,
        latency_ms: 20.0,
        capacity_gb: Some(10.0),
        ..TierConfig::default()
    }
}

pub fn local_tier(name: &str, latency_ms: f64) -> TierConfig {
    TierConfig {
        name: name.into(),
        provider: "local".into(),
        backend: Backend::Local,
        path: None,
        endpoint: None,
        bucket: None,
        region: None,
        access_key_env: None,
        secret_key_env: None,
        storage_gb_month: 0.01,
        get_per_1k: 0.0,
        put_per_1k: 0.0,
        retrieval_gb: 0.0,
        egress_gb: 0.0,
        latency_ms,
        capacity_gb: Some(10.0),
        ..TierConfig::default()
    }
}

pub fn config_with(tiers: Vec<TierConfig>) -> Config {
    let mut c = Config::embedded_default().unwrap();
    c.tiers = tiers;
    c.events.embedded.landing_tier = String::new();
    c
}

/// Captures everything logged while the guard lives (this thread's dispatcher).
#[derive(Clone, Default)]
pub struct LogBuf(pub Arc<Mutex<Vec<u8>>>);

impl LogBuf {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuf {
    type Writer = LogBuf;
    fn make_writer(&'a self) -> LogBuf {
        self.clone()
    }
}

/// Installs a capturing subscriber at `level` for every target (SDK internals included).
pub fn capture_logs(level: &str) -> (LogBuf, tracing::subscriber::DefaultGuard) {
    let buf = LogBuf::default();
    let sub = tracing_subscriber::fmt()
        .with_env_filter(data_in_motion::logging::without_request_dumps(
            tracing_subscriber::EnvFilter::new(level),
        ))
        .with_ansi(false)
        .with_writer(buf.clone())
        .finish();
    (buf.clone(), tracing::subscriber::set_default(sub))
}

/// Deterministic bytes for test objects.
pub fn content(seed: u64, size: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers objects on tiers in the store, as seeding or inventory would.
pub fn register(store: &data_in_motion::engine::store::Store, objects: &[(&str, &str, u64)]) {
    use data_in_motion::engine::ingest::{Item, ObjectRecord, Pending, SourceBatch, apply};
    let now = data_in_motion::engine::clock::wall_now_ms();
    let mut p = Pending::default();
    p.add(SourceBatch {
        source: "test".into(),
        items: objects
            .iter()
            .map(|(key, tier, size)| {
                Item::Register(ObjectRecord {
                    key: key.to_string(),
                    tier: tier.to_string(),
                    size: *size,
                    etag: None,
                    last_modified: now,
                    created: now,
                })
            })
            .collect(),
        offsets: vec![],
        caught_up: false,
        generation: 0,
    });
    apply(&mut store.writer(), &p, now, 10).unwrap();
}

/// The `dim` binary under test.
pub const DIM: &str = env!("CARGO_BIN_EXE_dim");

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `dim status --json` for a data directory.
pub fn status(dir: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new(DIM)
        .args(["status", "--json", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Collects a child's stdout line by line in the background (what a daemon logs).
pub fn collect_stdout(child: &mut std::process::Child) -> Arc<Mutex<String>> {
    use std::io::BufRead;
    let log = Arc::new(Mutex::new(String::new()));
    let out = child.stdout.take().expect("stdout is piped");
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    log
}

/// A new, empty database on the PostgreSQL server scripts/test.sh started: its URL.
pub fn pg_database(test: &str) -> String {
    let admin = tool_env("DIM_TEST_PG_URL", test);
    let name = format!(
        "dim_it_{}_{}",
        std::process::id(),
        data_in_motion::engine::clock::wall_now_ms()
    );
    data_in_motion::engine::store::create_database(&admin, &name).expect("create a test database")
}
