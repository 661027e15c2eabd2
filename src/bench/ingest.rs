//! `dim bench ingest`: JSON payloads → codec → batched ingest → SQLite, measured end to end.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use crate::config::Config;
use crate::engine::clock::{Clock, Millis, ScaledClock};
use crate::engine::events::codec::{self, DecodeContext};
use crate::engine::events::generator::{Generated, Workload};
use crate::engine::ingest::{Ingestor, Item, ObjectRecord, SourceBatch};
use crate::engine::store::Store;
use crate::engine::store::summary::summary;

#[derive(Debug, Serialize)]
pub struct IngestBench {
    pub events: u64,
    pub objects: usize,
    pub secs: f64,
    pub events_per_sec: f64,
    pub batches: u64,
    pub rejected: u64,
    pub peak_rss_mib: Option<f64>,
}

/// Every this many payloads, one is deliberately malformed (the rejection path is part of ingest).
const MALFORMED_EVERY: u64 = 1000;
const CHUNK: usize = 5000;

pub fn run(cfg: &Config, events: u64, objects: usize, as_json: bool) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let dir = tempfile::tempdir().context("creating a scratch directory")?;
    let r = measure(&rt, cfg, dir.path(), events, objects)?;
    super::report(&r, as_json, |r| {
        format!(
            "ingested {} events over {} objects in {:.2} s: {:.0} events/s ({} batches, {} rejected), peak RSS {:.0} MiB",
            r.events,
            r.objects,
            r.secs,
            r.events_per_sec,
            r.batches,
            r.rejected,
            r.peak_rss_mib.unwrap_or(f64::NAN)
        )
    })?;
    Ok(())
}

pub fn measure(
    rt: &tokio::runtime::Runtime,
    cfg: &Config,
    dir: &std::path::Path,
    events: u64,
    objects: usize,
) -> anyhow::Result<IngestBench> {
    let store = Arc::new(Store::open(&dir.join("bench.db"), cfg.store.cache_mib)?);
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::real());
    // The population: registered up front, as seeding or inventory would (not timed).
    let mut workload = workload(cfg, objects);
    let landing = [cfg.landing_tier().name.clone()];
    register_population(&store, cfg, &mut workload, objects, &landing, clock.now_ms())?;
    let run = ingest_into(rt, cfg, &store, clock, &mut workload, events)?;
    Ok(IngestBench {
        events: run.events,
        objects,
        secs: run.secs,
        events_per_sec: run.per_sec(),
        batches: run.batches,
        rejected: run.rejected,
        peak_rss_mib: super::peak_rss_mib(),
    })
}

/// The embedded generator's workload over `objects` objects, none new.
pub(super) fn workload(cfg: &Config, objects: usize) -> Workload {
    let mut params = cfg.events.embedded.clone();
    params.max_objects = objects.max(1);
    params.new_object_fraction = 0.0;
    Workload::new(&params)
}

/// What one run of ingest did.
pub(super) struct IngestRun {
    pub(super) events: u64,
    pub(super) secs: f64,
    pub(super) batches: u64,
    pub(super) rejected: u64,
}

impl IngestRun {
    pub(super) fn per_sec(&self) -> f64 {
        self.events as f64 / self.secs.max(f64::MIN_POSITIVE)
    }
}

/// Sends `events` of `workload`'s events through the engine's ingest into `store`, encoded and
/// decoded as a Kafka consumer would, and checks the store counted every one; timed.
pub(super) fn ingest_into(
    rt: &tokio::runtime::Runtime,
    cfg: &Config,
    store: &Arc<Store>,
    clock: Arc<dyn Clock>,
    workload: &mut Workload,
    events: u64,
) -> anyhow::Result<IngestRun> {
    let before = summary(&*store.reader()?)?.events;
    let ingestor = Ingestor::new(store.clone(), clock.clone(), cfg.events.clone(), cfg.model.clone());
    let stats = ingestor.stats.clone();
    let started = Instant::now();
    let (tx, ingest) = ingestor.spawn(rt.handle().clone())?;

    // The source side, like a Kafka consumer: payloads are decoded and validated, then handed over.
    let max_future_ms = (cfg.events.max_future_skew_secs * 1000) as i64;
    let mut payloads: Vec<Vec<u8>> = Vec::with_capacity(CHUNK);
    let mut gen_out = Vec::with_capacity(CHUNK);
    let mut seq: u64 = 0;
    while seq < events {
        let now = clock.now_ms();
        let items = next_items(workload, now, (seq, events), max_future_ms, &mut payloads, &mut gen_out);
        seq += items.len() as u64;
        let batch = SourceBatch {
            source: "bench".into(),
            items,
            offsets: vec![(0, seq as i64)],
            caught_up: false,
            generation: 0,
        };
        if tx.blocking_send(batch).is_err() {
            break;
        }
    }
    drop(tx);
    ingest
        .join()
        .map_err(|_| anyhow::anyhow!("the ingest thread panicked"))?
        .context("ingest failed")?;
    let secs = started.elapsed().as_secs_f64();

    let s = summary(&*store.reader()?)?.events;
    let (ingested, rejected) = (s.ingested - before.ingested, s.rejected - before.rejected);
    anyhow::ensure!(
        ingested + rejected == seq,
        "store counted {ingested} + {rejected} events but {seq} were sent"
    );
    Ok(IngestRun {
        events: seq,
        secs,
        batches: stats.batches.load(std::sync::atomic::Ordering::Relaxed),
        rejected,
    })
}

/// The events after the first `seq` of `events` the workload makes at `now` (about `CHUNK`),
/// encoded, one in `MALFORMED_EVERY` malformed, then decoded and validated as a Kafka consumer
/// would. `payloads` and `gen_out` are the caller's buffers, kept across chunks.
fn next_items(
    workload: &mut Workload,
    now: Millis,
    (seq, events): (u64, u64),
    max_future_ms: i64,
    payloads: &mut Vec<Vec<u8>>,
    gen_out: &mut Vec<Generated>,
) -> Vec<Item> {
    payloads.clear();
    gen_out.clear();
    while payloads.len() < CHUNK && seq + (payloads.len() as u64) < events {
        workload.next(now, gen_out);
        for g in gen_out.drain(..) {
            let n = seq + payloads.len() as u64;
            if n % MALFORMED_EVERY == MALFORMED_EVERY - 1 {
                payloads.push(br#"{"key": "", "op": "GET"}"#.to_vec());
            } else {
                payloads.push(codec::encode(&g.event));
            }
        }
    }
    let ctx = DecodeContext {
        now_ms: now,
        max_future_ms,
    };
    payloads
        .iter()
        .map(|raw| match codec::decode(raw, ctx) {
            Ok(e) => Item::Event(e),
            Err(r) => Item::Rejected(r),
        })
        .collect()
}

/// Registers the workload's first `objects` objects, the i-th on `tiers[i % tiers.len()]`.
pub(super) fn register_population(
    store: &Store,
    cfg: &Config,
    workload: &mut Workload,
    objects: usize,
    tiers: &[String],
    now: Millis,
) -> anyhow::Result<()> {
    let objs = workload.seed_objects(objects, u64::MAX, now);
    for (c, chunk) in objs.chunks(50_000).enumerate() {
        let records = chunk
            .iter()
            .enumerate()
            .map(|(k, o)| ObjectRecord {
                key: o.key.clone(),
                tier: tiers[(c * 50_000 + k) % tiers.len().max(1)].clone(),
                size: o.size,
                etag: None,
                last_modified: o.created_ms,
                created: o.created_ms,
            })
            .collect();
        super::register(store, records, now, cfg.events.rejected_keep)?;
    }
    Ok(())
}
