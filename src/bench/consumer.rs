//! The engine's own path from a Kafka topic into a store, as the Kafka benches run it: its
//! source and ingest threads, one node's or one of a cluster's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use crate::config::{Config, StartPolicy};
use crate::engine::clock::{Clock, ScaledClock};
use crate::engine::cluster::Cluster;
use crate::engine::events::SourceShared;
use crate::engine::events::kafka::KafkaSource;
use crate::engine::ingest::{IngestStats, IngestThread, Ingestor};
use crate::engine::store::{Store, StoreError};

/// The engine's own consuming path: its Kafka source and ingest threads, committing into `store`
/// (as a node of `cluster` when given).
pub(super) struct Consumer {
    pub stats: Arc<IngestStats>,
    source: std::thread::JoinHandle<Result<(), StoreError>>,
    ingest: IngestThread,
}

impl Consumer {
    pub(super) fn start(
        cfg: &Config,
        brokers: &[String],
        topic: &str,
        store: &Arc<Store>,
        stop: &Arc<AtomicBool>,
        cluster: Option<Arc<Cluster>>,
    ) -> anyhow::Result<Self> {
        let clock: Arc<dyn Clock> = Arc::new(ScaledClock::real());
        let mut ev = cfg.events.clone();
        ev.brokers = brokers.to_vec();
        ev.topic = topic.to_string();
        ev.start = StartPolicy::Earliest;
        let mut ingestor = Ingestor::new(store.clone(), clock.clone(), ev.clone(), cfg.model.clone());
        ingestor.cluster = cluster.clone();
        let stats = ingestor.stats.clone();
        let rt = tokio::runtime::Handle::current();
        let (tx, ingest) = ingestor.spawn(rt.clone())?;
        let source = KafkaSource {
            cfg: ev,
            store: store.clone(),
            clock,
            tx,
            shared: Arc::new(SourceShared::new(crate::config::SourceKind::Kafka)),
            stop: stop.clone(),
            cluster,
        };
        let source = std::thread::spawn(move || source.run(rt));
        Ok(Self { stats, source, ingest })
    }

    /// Events and rejections committed so far.
    pub(super) fn committed(&self) -> u64 {
        self.stats.events.load(Ordering::Relaxed) + self.stats.rejected.load(Ordering::Relaxed)
    }

    pub(super) fn is_finished(&self) -> bool {
        self.ingest.is_finished() || self.source.is_finished()
    }

    /// Waits for both threads (after `stop`), failing if either failed.
    pub(super) async fn join(self) -> anyhow::Result<()> {
        let (source, ingest) = (self.source, self.ingest);
        let (s, i) = tokio::task::spawn_blocking(move || (source.join(), ingest.join()))
            .await
            .context("joining the engine threads")?;
        for r in [s, i] {
            r.map_err(|_| anyhow::anyhow!("an engine thread panicked"))?
                .context("the engine failed")?;
        }
        Ok(())
    }
}
