//! `dim simulate`: produces access events to Kafka from the embedded workload generator (the seed's simulate.py, in Rust).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::record::Record;

use crate::config::Config;
use crate::engine::clock::wall_now_ms;
use crate::engine::events::codec;
use crate::engine::events::generator::{GenObject, Workload};
use crate::engine::events::kafka::{connect, ensure_topic};
use crate::engine::tiers::ObjectStore;

/// What to produce, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub events: u64,
    /// Events per second; 0 = as fast as possible.
    pub rate: f64,
    pub skew: f64,
    pub seed: u64,
    pub brokers: Vec<String>,
    pub topic: String,
}

/// Records per produce request.
const BATCH: usize = 2000;

/// Partition of a key: the same key always goes to the same partition, so its events stay in order.
fn partition_of(key: &str, partitions: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % partitions.max(1) as u64) as usize
}

/// A record carrying one JSON payload, keyed by the object key.
fn record(key: &str, payload: Vec<u8>) -> Record {
    Record {
        key: Some(key.as_bytes().to_vec()),
        value: Some(payload),
        headers: Default::default(),
        timestamp: rskafka::chrono::DateTime::from_timestamp_millis(wall_now_ms()).unwrap_or_default(),
    }
}

/// Partition clients for every partition of `topic` (created if missing), in partition order.
pub async fn partition_clients(
    brokers: &[String],
    topic: &str,
    partitions: u32,
    replication: u16,
) -> anyhow::Result<Vec<PartitionClient>> {
    let client = connect(brokers)
        .await
        .with_context(|| format!("connecting to Kafka at {} (is the broker up?)", brokers.join(",")))?;
    let parts = ensure_topic(&client, topic, partitions, replication).await?;
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        out.push(
            client
                .partition_client(topic, p, UnknownTopicHandling::Retry)
                .await
                .with_context(|| format!("partition {p} of {topic}"))?,
        );
    }
    Ok(out)
}

/// Produces `records` (object key, JSON payload), each to its key's partition, one request per
/// partition, all partitions concurrently.
pub async fn produce(
    clients: &[PartitionClient],
    records: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> anyhow::Result<()> {
    let mut batches: Vec<Vec<Record>> = vec![Vec::new(); clients.len()];
    for (key, payload) in records {
        batches[partition_of(&key, clients.len())].push(record(&key, payload));
    }
    let sends = clients
        .iter()
        .zip(batches)
        .filter(|(_, b)| !b.is_empty())
        .map(|(pc, b)| pc.produce(b, Compression::NoCompression));
    futures::future::try_join_all(sends)
        .await
        .context("producing to Kafka")?;
    Ok(())
}

/// Produces `events` events from the workload, stamped with the wall clock, at most `rate` per
/// second (0 = as fast as possible). Returns how many of each operation were sent.
pub async fn produce_workload(
    clients: &[PartitionClient],
    w: &mut Workload,
    events: u64,
    rate: f64,
) -> anyhow::Result<BTreeMap<&'static str, u64>> {
    let started = Instant::now();
    let mut sent = 0u64;
    let mut out = Vec::new();
    let mut by_op = BTreeMap::new();
    while sent < events {
        // Paced: never ahead of rate × elapsed.
        let allowed = if rate > 0.0 {
            ((started.elapsed().as_secs_f64() * rate) as u64 + 1).min(events)
        } else {
            events
        };
        let n = (allowed - sent).min(BATCH as u64);
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        out.clear();
        let now = wall_now_ms();
        while (out.len() as u64) < n {
            w.next(now, &mut out);
        }
        out.truncate(n as usize);
        for g in &out {
            *by_op.entry(g.event.op.as_str()).or_default() += 1;
        }
        produce(
            clients,
            out.iter().map(|g| (g.event.key.clone(), codec::encode(&g.event))),
        )
        .await?;
        sent += n;
    }
    Ok(by_op)
}

/// The objects already on the configured tiers, so events name real objects (after `dim seed`).
async fn existing_objects(cfg: &Config, data_dir: &std::path::Path) -> Vec<GenObject> {
    let Ok(tiers) = crate::tiers::build(cfg, data_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &cfg.tiers {
        let Some(store) = tiers.get(&t.name) else { continue };
        match store.list("").await {
            Ok(list) => out.extend(list.into_iter().map(|(key, m)| GenObject::listed(key, &m))),
            Err(e) => tracing::warn!(target: "dim::simulate", tier = %t.name, error = %e, "could not list the tier"),
        }
    }
    out
}

pub fn run(cfg: &Config, data_dir: &std::path::Path, opts: Options) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(simulate(cfg, data_dir, opts))
}

async fn simulate(cfg: &Config, data_dir: &std::path::Path, opts: Options) -> anyhow::Result<()> {
    let clients = partition_clients(
        &opts.brokers,
        &opts.topic,
        cfg.events.partitions,
        cfg.events.replication,
    )
    .await?;
    let objects = existing_objects(cfg, data_dir).await;
    let mut params = cfg.events.embedded.clone();
    params.skew = opts.skew;
    params.seed = opts.seed;
    params.max_objects = params.max_objects.max(objects.len());
    let mut w = Workload::new(&params);
    if objects.is_empty() {
        eprintln!(
            "no objects found on the configured tiers: events name {} synthetic keys (run `dim seed` first to target real objects)",
            params.seed_objects
        );
        w.seed_objects(params.seed_objects, params.seed_total_bytes, wall_now_ms());
    } else {
        eprintln!("events target the {} objects found on the tiers", objects.len());
        w.adopt(objects);
    }
    let started = Instant::now();
    let by_op = produce_workload(&clients, &mut w, opts.events, opts.rate).await?;
    let secs = started.elapsed().as_secs_f64();
    let sent: u64 = by_op.values().sum();
    let ops: Vec<String> = by_op.into_iter().map(|(op, n)| format!("{op} {n}")).collect();
    println!(
        "sent {sent} events to {} ({} partitions) in {secs:.2} s: {:.0} events/s ({})",
        opts.topic,
        clients.len(),
        sent as f64 / secs.max(1e-9),
        ops.join(", ")
    );
    Ok(())
}
