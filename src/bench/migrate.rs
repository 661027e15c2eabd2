//! `dim bench migrate`: the real migrator moving N objects between two tiers, optionally against rclone.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::config::{Backend, Config, TierConfig};
use crate::engine::clock::wall_now_ms;
use crate::engine::ingest::ObjectRecord;
use crate::engine::migrate::task::TaskState;
use crate::engine::migrate::{Migrator, task};
use crate::engine::store::summary::summary;
use crate::engine::store::{Connection, Store};
use crate::engine::tiers::{Attributes, ObjectStore, Tiers};
use crate::s3::S3Tier;

pub struct Options {
    pub objects: usize,
    pub size: u64,
    pub src: Backend,
    pub dst: Backend,
    pub endpoint: Option<String>,
    pub region: String,
    pub compare_rclone: bool,
}

#[derive(Debug, Serialize)]
pub struct MigrateBench {
    pub objects: usize,
    pub size: u64,
    pub src: Backend,
    pub dst: Backend,
    pub workers: usize,
    pub secs: f64,
    pub objects_per_sec: f64,
    pub mib_per_sec: f64,
    pub retries: u64,
    pub peak_rss_mib: Option<f64>,
    /// `rclone copy` of the same objects (leaves the source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rclone_mib_per_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_vs_rclone: Option<f64>,
    /// `rclone move` of the same objects: copy, then delete the source — what dim does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rclone_move_mib_per_sec: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_vs_rclone_move: Option<f64>,
}

fn tier(name: &str, backend: Backend, bucket: &str, o: &Options) -> TierConfig {
    TierConfig {
        name: name.into(),
        provider: "bench".into(),
        backend,
        path: None,
        endpoint: o.endpoint.clone(),
        bucket: Some(bucket.into()),
        region: Some(o.region.clone()),
        access_key_env: None,
        secret_key_env: None,
        storage_gb_month: 0.0,
        get_per_1k: 0.0,
        put_per_1k: 0.0,
        retrieval_gb: 0.0,
        egress_gb: 0.0,
        latency_ms: 10.0,
        capacity_gb: Some(1000.0),
        ..TierConfig::default()
    }
}

pub fn run(cfg: &Config, o: Options, as_json: bool) -> anyhow::Result<()> {
    if (o.src == Backend::S3 || o.dst == Backend::S3) && o.endpoint.is_none() {
        bail!("an s3 tier needs --endpoint URL (and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)");
    }
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let r = rt.block_on(measure(cfg, &o))?;
    super::report(&r, as_json, |r| {
        let mut line = format!(
            "moved {} x {} B ({} -> {}) with {} workers in {:.2} s: {:.1} objects/s, {:.1} MiB/s, {} retries, peak RSS {:.0} MiB",
            r.objects,
            r.size,
            r.src,
            r.dst,
            r.workers,
            r.secs,
            r.objects_per_sec,
            r.mib_per_sec,
            r.retries,
            r.peak_rss_mib.unwrap_or(f64::NAN)
        );
        if let (Some(rc), Some(ratio)) = (r.rclone_move_mib_per_sec, r.ratio_vs_rclone_move) {
            line.push_str(&format!(
                "\nrclone move of the same objects: {rc:.1} MiB/s; dim / rclone move = {ratio:.2}"
            ));
        }
        if let (Some(rc), Some(ratio)) = (r.rclone_mib_per_sec, r.ratio_vs_rclone) {
            line.push_str(&format!(
                "\nrclone copy of the same objects: {rc:.1} MiB/s; dim / rclone copy = {ratio:.2}"
            ));
        }
        line
    })?;
    Ok(())
}

async fn fill(tiers: &Tiers, tier: &str, keys: &[String], size: u64, workers: usize) -> anyhow::Result<()> {
    let t = tiers[tier].clone();
    let sem = Arc::new(tokio::sync::Semaphore::new(workers.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for k in keys {
        let (t, k, permit) = (t.clone(), k.clone(), sem.clone().acquire_owned().await?);
        set.spawn(async move {
            // A busy server may shed load (503) while the set-up writes: try again a few times.
            let mut attempt = 0;
            let r = loop {
                attempt += 1;
                let r = t
                    .put(&k, Box::new(Pattern::new(&k, size)), size, &Attributes::default())
                    .await;
                match r {
                    Err(e) if e.kind.retryable() && attempt < 5 => {
                        tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                    }
                    r => break r,
                }
            };
            drop(permit);
            r
        });
    }
    while let Some(r) = set.join_next().await {
        r?.context("writing a benchmark object")?;
    }
    Ok(())
}

async fn measure(cfg: &Config, o: &Options) -> anyhow::Result<MigrateBench> {
    let dir = tempfile::tempdir().context("creating a scratch directory")?;
    let stamp = format!("{}-{}", std::process::id(), wall_now_ms());
    let (src_bucket, dst_bucket) = (format!("dim-bench-{stamp}-src"), format!("dim-bench-{stamp}-dst"));
    let mut bench_cfg = cfg.clone();
    bench_cfg.tiers = vec![tier("src", o.src, &src_bucket, o), tier("dst", o.dst, &dst_bucket, o)];
    let tiers = crate::tiers::build(&bench_cfg, dir.path()).context("building the tiers")?;
    let mut buckets = Vec::new();
    for t in &bench_cfg.tiers {
        if t.backend == Backend::S3 {
            let s3 = S3Tier::new(t, &cfg.migrator)?;
            s3.create_bucket().await.context("creating a benchmark bucket")?;
            buckets.push(s3);
        }
    }
    let result = async {
        let keys: Vec<String> = (0..o.objects).map(|i| format!("bench/{i:06}.bin")).collect();
        let workers = cfg.migrator.workers;
        fill(&tiers, "src", &keys, o.size, workers).await?;
        let store = Arc::new(Store::open(&dir.path().join("bench.db"), cfg.store.cache_mib)?);
        register_and_queue(&store, &keys, o.size)?;
        let mut mcfg = cfg.migrator.clone();
        // Objects were just written: this measures moving them, not waiting out the growing window.
        mcfg.growing_window_secs = 0;
        let started = Instant::now();
        let m = Migrator::start(mcfg, store.clone(), tiers.clone());
        // One connection for the polling: opening one per look took ~2 % of the process CPU (perf).
        let reader = store.reader()?;
        wait_until_moved(&reader, o.objects as u64).await?;
        let secs = started.elapsed().as_secs_f64();
        m.shutdown().await;
        let mib = (o.objects as u64 * o.size) as f64 / (1 << 20) as f64;
        let mut r = MigrateBench {
            objects: o.objects,
            size: o.size,
            src: o.src,
            dst: o.dst,
            workers,
            secs,
            objects_per_sec: o.objects as f64 / secs,
            mib_per_sec: mib / secs,
            retries: m.stats().retries.load(Ordering::Relaxed),
            peak_rss_mib: super::peak_rss_mib(),
            rclone_mib_per_sec: None,
            ratio_vs_rclone: None,
            rclone_move_mib_per_sec: None,
            ratio_vs_rclone_move: None,
        };
        if o.compare_rclone {
            let rc = rclone(cfg, o, "move", &keys, &stamp, workers).await?;
            r.rclone_move_mib_per_sec = Some(mib / rc);
            r.ratio_vs_rclone_move = Some(r.mib_per_sec / (mib / rc));
            let rc = rclone(cfg, o, "copy", &keys, &stamp, workers).await?;
            r.rclone_mib_per_sec = Some(mib / rc);
            r.ratio_vs_rclone = Some(r.mib_per_sec / (mib / rc));
        }
        Ok(r)
    }
    .await;
    for b in &buckets {
        if let Err(e) = b.delete_bucket().await {
            tracing::warn!(bucket = b.bucket(), error = %e, "could not remove a benchmark bucket");
        }
    }
    result
}

/// Registers `keys` on the source tier as ingest would and queues a move of each to `dst`.
fn register_and_queue(store: &Store, keys: &[String], size: u64) -> anyhow::Result<()> {
    let records = keys
        .iter()
        .map(|k| ObjectRecord {
            key: k.clone(),
            tier: "src".into(),
            size,
            etag: None,
            last_modified: 0,
            created: 0,
        })
        .collect();
    super::register(store, records, wall_now_ms(), 10)?;
    for k in keys {
        task::enqueue(&store.writer(), k, "src", "dst", wall_now_ms())?;
    }
    Ok(())
}

/// Waits until `objects` tasks have finished; an error unless every one of them is done.
async fn wait_until_moved(reader: &Connection, objects: u64) -> anyhow::Result<()> {
    loop {
        let s = summary(reader)?;
        let finished = s.tasks[&TaskState::Done] + s.tasks[&TaskState::Failed] + s.tasks[&TaskState::Cancelled];
        if finished >= objects {
            if s.tasks[&TaskState::Done] != objects {
                let per_state: Vec<String> = s.tasks.iter().map(|(st, n)| format!("{st} {n}")).collect();
                bail!("not every move succeeded: {}", per_state.join(", "));
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Generated object content, streamed: setting up large objects costs no memory of its own.
struct Pattern {
    state: u64,
    left: u64,
}

impl Pattern {
    fn new(key: &str, size: u64) -> Self {
        let seed = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Self {
            state: seed | 1,
            left: size,
        }
    }
}

impl tokio::io::AsyncRead for Pattern {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.left) as usize;
        let mut chunk = vec![0u8; n];
        for b in chunk.chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            b.copy_from_slice(&self.state.to_le_bytes()[..b.len()]);
        }
        buf.put_slice(&chunk);
        self.left -= n as u64;
        std::task::Poll::Ready(Ok(()))
    }
}

/// Times `rclone copy` or `rclone move` (`verb`) of the same objects between two fresh buckets on
/// the same endpoint.
async fn rclone(
    cfg: &Config,
    o: &Options,
    verb: &str,
    keys: &[String],
    stamp: &str,
    workers: usize,
) -> anyhow::Result<f64> {
    let endpoint = o.endpoint.clone().unwrap_or_default();
    let mk = |suffix: &str| {
        let t = tier(
            suffix,
            Backend::S3,
            &format!("dim-bench-{stamp}-rclone-{verb}-{suffix}"),
            o,
        );
        S3Tier::new(&t, &cfg.migrator)
    };
    let (a, b) = (mk("a")?, mk("b")?);
    a.create_bucket().await?;
    b.create_bucket().await?;
    let result = async {
        let ta: Arc<dyn ObjectStore> = Arc::new(mk("a")?);
        let mut t = Tiers::new();
        t.insert("a".into(), Arc::new(crate::engine::tiers::chaos::ChaosStore::new(ta)));
        fill(&t, "a", keys, o.size, workers).await?;
        let ak = std::env::var("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID")?;
        let sk = std::env::var("AWS_SECRET_ACCESS_KEY").context("AWS_SECRET_ACCESS_KEY")?;
        let started = Instant::now();
        let status = tokio::process::Command::new("rclone")
            .args([verb, &format!("bench:{}", a.bucket()), &format!("bench:{}", b.bucket())])
            .args(["--transfers", &workers.to_string(), "--checkers", &workers.to_string()])
            .env_remove("AWS_CA_BUNDLE")
            .env("RCLONE_CONFIG_BENCH_TYPE", "s3")
            .env("RCLONE_CONFIG_BENCH_PROVIDER", "Other")
            .env("RCLONE_CONFIG_BENCH_ENDPOINT", &endpoint)
            .env("RCLONE_CONFIG_BENCH_REGION", &o.region)
            .env("RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE", "true")
            .env("RCLONE_CONFIG_BENCH_ACCESS_KEY_ID", ak)
            .env("RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY", sk)
            .status()
            .await
            .context("running rclone (apt-get install rclone)")?;
        let secs = started.elapsed().as_secs_f64();
        if !status.success() {
            bail!("rclone failed: {status}");
        }
        let copied = b.list("").await?.len();
        if copied != keys.len() {
            bail!("rclone {verb} copied {copied} of {} objects", keys.len());
        }
        let left = a.list("").await?.len();
        if verb == "move" && left != 0 {
            bail!("rclone move left {left} objects on the source");
        }
        Ok(secs)
    }
    .await;
    let _ = a.delete_bucket().await;
    let _ = b.delete_bucket().await;
    result
}
