//! `dim bench ingest --source kafka`: the engine's Kafka consumption into SQLite against a bare rskafka consumer on the same topic.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use rskafka::client::partition::{OffsetAt, PartitionClient};
use serde::Serialize;

use super::consumer::Consumer;
use super::median;
use crate::cmd::simulate::{partition_clients, produce_workload};
use crate::config::Config;
use crate::engine::clock::wall_now_ms;
use crate::engine::events::generator::Workload;
use crate::engine::store::Store;
use crate::engine::store::summary::summary;

#[derive(Debug, Serialize)]
pub struct KafkaIngestBench {
    pub topic: String,
    pub partitions: usize,
    pub events: u64,
    /// Engine: Kafka source → codec → batched ingest → SQLite commit (offsets included); median of
    /// three runs, each into a fresh store.
    pub secs: f64,
    pub events_per_sec: f64,
    /// Bare rskafka consumer fetching every partition of the same topic, nothing else; median of
    /// four runs, before, between and after the engine's.
    pub raw_fetch_secs: f64,
    pub raw_fetch_per_sec: f64,
    /// events_per_sec / raw_fetch_per_sec.
    pub ratio: f64,
    pub produce_per_sec: f64,
    pub peak_rss_mib: Option<f64>,
    /// With --nodes: the topic consumed by that many nodes sharing one PostgreSQL store.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster: Vec<super::cluster::NodesRun>,
}

const FETCH_MAX_BYTES: i32 = 4 << 20;
/// Engine runs, each between two bare fetches of the same topic.
const ROUNDS: usize = 3;

pub fn run(
    cfg: &Config,
    brokers: &[String],
    events: u64,
    nodes: Option<&[usize]>,
    as_json: bool,
) -> anyhow::Result<()> {
    let nodes = nodes.unwrap_or_default();
    anyhow::ensure!(
        nodes.is_empty() || cfg.store.url.is_some(),
        "--nodes needs store.url in the config: a PostgreSQL server the bench may create a database on per round"
    );
    anyhow::ensure!(nodes.iter().all(|&n| n >= 1), "--nodes counts nodes: 1 or more each");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let r = rt.block_on(measure(cfg, brokers, events, nodes))?;
    super::report(&r, as_json, |r| {
        let mut cluster = String::new();
        for n in &r.cluster {
            cluster += &format!(
                "\n{} node(s) on PostgreSQL: {:.0} events/s ({:.2} s), ratio {:.2}; each {}",
                n.nodes,
                n.events_per_sec,
                n.secs,
                n.ratio,
                n.per_node_events_per_sec
                    .iter()
                    .map(|e| format!("{e:.0}/s"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        format!(
            "{} events from {} ({} partitions): engine into SQLite {:.0} events/s ({:.2} s), \
             bare rskafka fetch {:.0} records/s ({:.2} s): ratio {:.2}; produced at {:.0}/s, peak RSS {:.0} MiB{}",
            r.events,
            r.topic,
            r.partitions,
            r.events_per_sec,
            r.secs,
            r.raw_fetch_per_sec,
            r.raw_fetch_secs,
            r.ratio,
            r.produce_per_sec,
            r.peak_rss_mib.unwrap_or(f64::NAN),
            cluster
        )
    })
}

async fn measure(cfg: &Config, brokers: &[String], events: u64, nodes: &[usize]) -> anyhow::Result<KafkaIngestBench> {
    let topic = format!("dim-bench-{}", wall_now_ms());
    let clients = partition_clients(brokers, &topic, cfg.events.partitions, cfg.events.replication).await?;

    // Produce (not part of either measurement).
    let produced = Instant::now();
    let mut params = cfg.events.embedded.clone();
    params.max_objects = 100_000;
    params.new_object_fraction = 0.0;
    let mut w = Workload::new(&params);
    w.seed_objects(100_000, u64::MAX, wall_now_ms());
    produce_workload(&clients, &mut w, events, 0.0).await?;
    let produce_secs = produced.elapsed().as_secs_f64();

    // The broker's speed drifts from run to run; alternate the two readers and compare medians.
    let mut raws = vec![raw_fetch(&clients).await?];
    let mut engines = Vec::new();
    for _ in 0..ROUNDS {
        let (secs, ingested) = engine_consume(cfg, brokers, &topic, events).await?;
        anyhow::ensure!(ingested == events, "the engine ingested {ingested} of {events} events");
        engines.push(secs);
        raws.push(raw_fetch(&clients).await?);
    }
    let mut rounds: Vec<Vec<(f64, Vec<u64>)>> = vec![Vec::new(); nodes.len()];
    if let Some(url) = &cfg.store.url {
        for _ in 0..ROUNDS {
            for (i, &n) in nodes.iter().enumerate() {
                rounds[i].push(super::cluster::consume(cfg, brokers, url, &topic, events, n).await?);
                raws.push(raw_fetch(&clients).await?);
            }
        }
    }
    let (secs, raw) = (median(&engines), median(&raws));
    let eps = events as f64 / secs;
    let raw_eps = events as f64 / raw;
    let cluster = nodes
        .iter()
        .zip(&rounds)
        .map(|(&n, r)| super::cluster::summarise(n, r, events, raw_eps))
        .collect();
    if let Ok(client) = crate::engine::events::kafka::connect(brokers).await
        && let Ok(c) = client.controller_client()
    {
        let _ = c.delete_topic(topic.as_str(), 5_000).await;
    }
    Ok(KafkaIngestBench {
        topic,
        partitions: clients.len(),
        events,
        secs,
        events_per_sec: eps,
        raw_fetch_secs: raw,
        raw_fetch_per_sec: raw_eps,
        ratio: eps / raw_eps,
        produce_per_sec: events as f64 / produce_secs,
        peak_rss_mib: super::peak_rss_mib(),
        cluster,
    })
}

/// Seconds a bare consumer takes to fetch every record of every partition, partitions in parallel.
async fn raw_fetch(clients: &[PartitionClient]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let reads = clients.iter().map(|pc| async move {
        let end = pc.get_offset(OffsetAt::Latest).await?;
        let mut pos = pc.get_offset(OffsetAt::Earliest).await?;
        let mut n = 0u64;
        while pos < end {
            let (records, _) = pc.fetch_records(pos, 1..FETCH_MAX_BYTES, 500).await?;
            for r in records {
                if r.offset >= pos {
                    pos = r.offset + 1;
                    n += 1;
                }
            }
        }
        Ok::<u64, rskafka::client::error::Error>(n)
    });
    futures::future::try_join_all(reads).await.context("fetching")?;
    Ok(started.elapsed().as_secs_f64())
}

/// Seconds the engine's Kafka source and ingest take to commit `events` records from `topic`.
async fn engine_consume(cfg: &Config, brokers: &[String], topic: &str, events: u64) -> anyhow::Result<(f64, u64)> {
    let dir = tempfile::tempdir().context("creating a scratch directory")?;
    let store = Arc::new(Store::open(&dir.path().join("bench.db"), cfg.store.cache_mib)?);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let consumer = Consumer::start(cfg, brokers, topic, &store, &stop, None)?;
    // Committed = what the store counts; poll the in-memory counter, confirm in SQLite.
    let deadline = Instant::now() + Duration::from_secs(600);
    while consumer.committed() < events {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the engine did not consume the topic within 10 minutes"
        );
        anyhow::ensure!(!consumer.is_finished(), "the engine stopped early");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    consumer.join().await?;
    let s = summary(&*store.reader()?)?;
    Ok((secs, s.events.ingested + s.events.rejected))
}
