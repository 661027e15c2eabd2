//! `dim bench ingest --source kafka --nodes 1,2,3`: the topic consumed by N engine nodes sharing
//! one PostgreSQL store (partitions divided by their leases), against a bare rskafka fetch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use super::consumer::Consumer;
use super::median;
use crate::config::Config;
use crate::engine::clock::wall_now_ms;
use crate::engine::cluster::{self, Cluster, NodeInfo};
use crate::engine::store::Store;
use crate::engine::store::summary::summary;

/// The topic consumed by `nodes` nodes at once.
#[derive(Debug, Serialize)]
pub struct NodesRun {
    pub nodes: usize,
    /// Until every event is committed, from the nodes' start (joining and dividing the
    /// partitions included); median of the rounds, each into a fresh database.
    pub secs: f64,
    pub events_per_sec: f64,
    /// What each node committed in the median round, events/s over the same time.
    pub per_node_events_per_sec: Vec<f64>,
    /// events_per_sec / the bare fetch's records/s.
    pub ratio: f64,
}

/// The lease the bench's nodes run with: the shortest allowed, so the partitions are divided
/// within a fraction of a second of the nodes' start rather than a heartbeat or two later.
const BENCH_LEASE_MS: i64 = 2_000;

/// Runs the topic through `nodes` nodes sharing a new database on the server of `url`; returns
/// the seconds until all `events` were committed and what each node committed.
pub async fn consume(
    cfg: &Config,
    brokers: &[String],
    url: &str,
    topic: &str,
    events: u64,
    nodes: usize,
) -> anyhow::Result<(f64, Vec<u64>)> {
    let db = fresh_database(url).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut parts = Vec::new();
    for i in 0..nodes {
        parts.push(start_node(cfg, brokers, &db, topic, &format!("bench-{i}"), &stop).await?);
    }
    let deadline = Instant::now() + Duration::from_secs(900);
    while parts.iter().map(|p| p.consumer.committed()).sum::<u64>() < events {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the nodes did not consume the topic within 15 minutes"
        );
        anyhow::ensure!(parts.iter().all(|p| !p.consumer.is_finished()), "a node stopped early");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let each: Vec<u64> = parts
        .iter()
        .map(|p| p.consumer.stats.events.load(Ordering::Relaxed))
        .collect();
    stop.store(true, Ordering::Relaxed);
    let mut stores = Vec::new();
    for p in parts {
        p.beat.abort();
        p.consumer.join().await?;
        stores.push(p.store);
    }
    let total = {
        let store = stores[0].clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
            let s = summary(&*store.reader()?)?;
            Ok(s.events.ingested + s.events.rejected)
        })
        .await??
    };
    anyhow::ensure!(total == events, "the store counted {total} of {events} events");
    drop(stores);
    Ok((secs, each))
}

struct Node {
    store: Arc<Store>,
    consumer: Consumer,
    beat: tokio::task::JoinHandle<()>,
}

/// One node: its store session, its cluster membership and heartbeat, its Kafka source and ingest.
async fn start_node(
    cfg: &Config,
    brokers: &[String],
    db: &str,
    topic: &str,
    name: &str,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Node> {
    let (db2, name2) = (db.to_string(), name.to_string());
    let store = tokio::task::spawn_blocking(move || -> anyhow::Result<Arc<Store>> {
        let store = Store::connect(&db2)?;
        store.join(&name2)?;
        Ok(Arc::new(store))
    })
    .await??;
    let node = Arc::new(Cluster::new(name.to_string(), BENCH_LEASE_MS));
    let consumer = Consumer::start(cfg, brokers, topic, &store, stop, Some(node.clone()))?;
    let apply: cluster::Apply = Box::new(|_: &cluster::Orders| {});
    let beat = cluster::spawn(node, store.clone(), Box::new(NodeInfo::default), apply);
    Ok(Node { store, consumer, beat })
}

/// A new database on the server `url` names, for one round.
async fn fresh_database(url: &str) -> anyhow::Result<String> {
    let (url, name) = (url.to_string(), format!("dim_bench_{}", wall_now_ms()));
    tokio::task::spawn_blocking(move || {
        crate::engine::store::create_database(&url, &name)
            .context("creating the bench's database (the store.url user needs CREATEDB)")
    })
    .await?
}

/// Each node count's median round.
pub fn summarise(nodes: usize, rounds: &[(f64, Vec<u64>)], events: u64, raw_per_sec: f64) -> NodesRun {
    let secs = median(&rounds.iter().map(|r| r.0).collect::<Vec<_>>());
    let mid = rounds
        .iter()
        .min_by(|a, b| (a.0 - secs).abs().total_cmp(&(b.0 - secs).abs()))
        .map(|r| r.1.clone())
        .unwrap_or_default();
    let eps = events as f64 / secs;
    NodesRun {
        nodes,
        secs,
        events_per_sec: eps,
        per_node_events_per_sec: mid.iter().map(|&e| e as f64 / secs).collect(),
        ratio: eps / raw_per_sec,
    }
}
