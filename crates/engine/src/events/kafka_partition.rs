//! One Kafka partition's fetch loop: records decoded into batches for ingest, the position
//! kept in memory, a gap past the broker's retention skipped per `events.start`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{OffsetAt, PartitionClient};
use tokio::sync::mpsc;

use super::SourceShared;
use super::broker::{BrokerError, CALL_TIMEOUT, bounded};
use super::codec::{self, DecodeContext};
use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::config::StartPolicy;
use crate::ingest::{Item, SourceBatch};
use crate::sync::lock;

/// Longest a fetch waits on the broker for new records (also how fast a stop is noticed).
const FETCH_WAIT_MS: i32 = 500;
const FETCH_MAX_BYTES: i32 = 4 << 20;

/// One partition's fetch loop.
pub(super) struct Consumer {
    pub(super) pc: Arc<PartitionClient>,
    pub(super) source: String,
    pub(super) start: StartPolicy,
    pub(super) max_future_ms: i64,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) tx: mpsc::Sender<SourceBatch>,
    pub(super) shared: Arc<SourceShared>,
    pub(super) positions: Arc<Mutex<BTreeMap<i32, i64>>>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) cluster: Option<Arc<Cluster>>,
    pub(super) generation: u64,
}

impl Consumer {
    pub(super) async fn run(self) -> Result<(), BrokerError> {
        let p = self.pc.partition();
        loop {
            let rebalanced = self.cluster.as_ref().is_some_and(|c| c.generation() != self.generation);
            if self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed) || rebalanced {
                return Ok(());
            }
            let pos = lock(&self.positions).get(&p).copied().unwrap_or(0);
            let fetch = self.pc.fetch_records(pos, 1..FETCH_MAX_BYTES, FETCH_WAIT_MS);
            let (records, hwm) = match tokio::time::timeout(CALL_TIMEOUT, fetch).await {
                Ok(Ok(r)) => r,
                Ok(Err(KafkaError::ServerError {
                    protocol_error: ProtocolError::OffsetOutOfRange,
                    ..
                })) => {
                    self.skip_gap(p, pos).await?;
                    continue;
                }
                Ok(Err(e)) => return Err(BrokerError::failed(format!("partition {p}"), e)),
                Err(_) => {
                    return Err(BrokerError::NoAnswer {
                        what: format!("partition {p}"),
                        secs: CALL_TIMEOUT.as_secs(),
                    });
                }
            };
            let mut items = Vec::with_capacity(records.len());
            let mut next = pos;
            let ctx = DecodeContext {
                now_ms: self.clock.now_ms(),
                max_future_ms: self.max_future_ms,
            };
            for r in records {
                // A compressed batch starts before the offset asked for.
                if r.offset < pos {
                    continue;
                }
                next = r.offset + 1;
                let raw = r.record.value.unwrap_or_default();
                items.push(match codec::decode(&raw, ctx) {
                    Ok(e) => Item::Event(e),
                    Err(rej) => Item::Rejected(rej),
                });
            }
            if next > pos {
                let batch = SourceBatch {
                    source: self.source.clone(),
                    items,
                    offsets: vec![(p, next)],
                    caught_up: next >= hwm,
                    generation: self.generation,
                };
                if self.tx.send(batch).await.is_err() {
                    // Ingest has stopped: the engine is shutting down.
                    return Ok(());
                }
                lock(&self.positions).insert(p, next);
            }
            self.set_view(p, next, hwm);
        }
    }

    /// The broker no longer holds `pos` (retention, or a recreated topic): continue per the start policy.
    async fn skip_gap(&self, p: i32, pos: i64) -> Result<(), BrokerError> {
        let earliest = bounded("earliest offset", self.pc.get_offset(OffsetAt::Earliest)).await?;
        let latest = bounded("latest offset", self.pc.get_offset(OffsetAt::Latest)).await?;
        let to = match self.start {
            StartPolicy::Earliest => earliest,
            StartPolicy::Latest => latest,
        };
        tracing::warn!(
            target: "dim::kafka",
            partition = p,
            from = pos,
            to,
            broker_earliest = earliest,
            broker_latest = latest,
            "offset {pos} is no longer on the broker (retention deleted records before they were ingested); \
             continuing at {to} per events.start, {} records skipped",
            (to - pos).max(0)
        );
        lock(&self.positions).insert(p, to);
        Ok(())
    }

    fn set_view(&self, p: i32, next: i64, hwm: i64) {
        let mut parts = lock(&self.shared.partitions);
        if let Some(v) = parts.iter_mut().find(|v| v.partition == p) {
            v.next_offset = next;
            v.high_watermark = hwm;
            v.lag = (hwm - next).max(0) as u64;
        }
    }
}
