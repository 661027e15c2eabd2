//! The Kafka event source (rskafka): consumes the topic's partitions (on a cluster, those this
//! node holds) from the offsets stored in the store, reconnecting with backoff.
//!
//! Exactly-once into the store: a batch carries the offset after its last record, and ingest
//! commits that offset in the same transaction as the events' effects. Within one process the
//! consumer keeps its own position (batches may still sit in the ingest queue); across restarts
//! the stored offsets are the truth.

use crate::sync::lock;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use rskafka::BackoffConfig;
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::SourceShared;
pub use super::broker::BrokerError;
use super::broker::{CALL_DEADLINE, bounded};
use super::kafka_partition::Consumer;
use super::source::{PartitionView, SourceState};
use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::config::{EventsConfig, StartPolicy};
use crate::ingest::SourceBatch;
use crate::store::{Store, StoreError, stored_offset};

/// The offsets-table name of a topic: a different topic never inherits another's offsets.
pub fn source_name(topic: &str) -> String {
    format!("kafka:{topic}")
}

/// A client with bounded internal retries.
pub async fn connect(brokers: &[String]) -> Result<Client, KafkaError> {
    ClientBuilder::new(brokers.to_vec())
        .client_id("dim")
        .backoff_config(BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
            deadline: Some(CALL_DEADLINE),
        })
        .build()
        .await
}

/// The sorted partitions of `topic` as the brokers list them; None while it is missing.
async fn partitions_of(client: &Client, topic: &str) -> Result<Option<Vec<i32>>, BrokerError> {
    let topics = client
        .list_topics()
        .await
        .map_err(|e| BrokerError::failed("listing topics", e))?;
    Ok(topics
        .into_iter()
        .find(|t| t.name == topic)
        .map(|t| {
            let mut p: Vec<i32> = t.partitions.into_iter().collect();
            p.sort_unstable();
            p
        })
        .filter(|p| !p.is_empty()))
}

/// The partitions of `topic`, creating it (with `partitions` and `replication`) if it is missing.
pub async fn ensure_topic(
    client: &Client,
    topic: &str,
    partitions: u32,
    replication: u16,
) -> Result<Vec<i32>, BrokerError> {
    if let Some(p) = partitions_of(client, topic).await? {
        return Ok(p);
    }
    let controller = client
        .controller_client()
        .map_err(|e| BrokerError::failed("finding the controller", e))?;
    match controller
        .create_topic(topic, partitions.max(1) as i32, replication.max(1) as i16, 5_000)
        .await
    {
        Ok(()) => tracing::info!(target: "dim::kafka", topic, partitions, replication, "created the topic"),
        Err(KafkaError::ServerError {
            protocol_error: ProtocolError::TopicAlreadyExists,
            ..
        }) => {}
        Err(e) => return Err(BrokerError::failed(format!("creating topic {topic}"), e)),
    }
    // Metadata follows creation after a moment.
    for _ in 0..50 {
        if let Some(p) = partitions_of(client, topic).await? {
            return Ok(p);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(BrokerError::TopicNotVisible {
        topic: topic.to_string(),
    })
}

pub struct KafkaSource {
    pub cfg: EventsConfig,
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub tx: mpsc::Sender<SourceBatch>,
    pub shared: Arc<SourceShared>,
    pub stop: Arc<AtomicBool>,
    /// On a cluster: the partitions this node holds; it consumes only those.
    pub cluster: Option<Arc<Cluster>>,
}

enum SessionEnd {
    Stopped,
    Lost(BrokerError),
    /// The partitions this node holds changed: a new session starts from the committed offsets.
    Rebalanced,
}

impl KafkaSource {
    /// Runs until stopped: connect, consume, and on any broker error reconnect with backoff.
    pub fn run(self, rt: tokio::runtime::Handle) -> Result<(), StoreError> {
        rt.block_on(self.run_async())
    }

    async fn run_async(self) -> Result<(), StoreError> {
        let source = source_name(&self.cfg.topic);
        let positions: Arc<Mutex<BTreeMap<i32, i64>>> = Arc::default();
        let backoff = || {
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(500))
                .with_max_delay(Duration::from_secs(10))
                .with_factor(2.0)
                .with_jitter()
                .without_max_times()
                .build()
        };
        let mut delays = backoff();
        let brokers = self.cfg.brokers.join(",");
        while !self.stop.load(Ordering::Relaxed) {
            let mut connected = false;
            match self.session(&source, &positions, &mut connected).await? {
                SessionEnd::Stopped => break,
                SessionEnd::Rebalanced => {
                    // What another node may have committed since is read from the store again.
                    lock(&positions).clear();
                }
                SessionEnd::Lost(why) => {
                    if connected {
                        delays = backoff();
                    }
                    let delay = delays.next().unwrap_or(Duration::from_secs(10));
                    tracing::warn!(
                        target: "dim::kafka",
                        brokers = %brokers,
                        error = %why,
                        "Kafka source lost its broker; reconnecting in {:.1}s",
                        delay.as_secs_f64()
                    );
                    self.shared
                        .set_state(SourceState::Reconnecting, format!("{why} (brokers {brokers})"));
                    let until = tokio::time::Instant::now() + delay;
                    while tokio::time::Instant::now() < until && !self.stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
        self.shared.set_state(SourceState::Stopped, String::new());
        Ok(())
    }

    /// Shows the session's partitions and says the source is connected.
    fn announce_connected(&self, parts: &[i32], positions: &Arc<Mutex<BTreeMap<i32, i64>>>) {
        let topic = &self.cfg.topic;
        *lock(&self.shared.partitions) = parts
            .iter()
            .map(|&p| PartitionView {
                partition: p,
                next_offset: lock(positions).get(&p).copied().unwrap_or(0),
                ..PartitionView::default()
            })
            .collect();
        self.shared.set_state(
            SourceState::Connected,
            format!(
                "{} · topic {topic} · {} partitions",
                self.cfg.brokers.join(","),
                parts.len()
            ),
        );
        tracing::info!(target: "dim::kafka", topic = %topic, partitions = parts.len(), "Kafka source connected");
    }

    /// Consumes every partition until stop or the first partition's error, which ends the
    /// session (the others are cancelled).
    async fn consume(
        &self,
        clients: Vec<Arc<PartitionClient>>,
        source: &str,
        positions: &Arc<Mutex<BTreeMap<i32, i64>>>,
        generation: u64,
    ) -> SessionEnd {
        let rebalanced = || self.cluster.as_ref().is_some_and(|c| c.generation() != generation);
        if clients.is_empty() && self.cluster.is_some() {
            // A node holding no partition waits for the cluster to give it some.
            while !self.stop.load(Ordering::Relaxed) && !rebalanced() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            return if rebalanced() {
                SessionEnd::Rebalanced
            } else {
                SessionEnd::Stopped
            };
        }
        // Partitions stop cooperatively (never mid-send), so a batch is either queued with its
        // position advanced, or neither.
        let cancel = Arc::new(AtomicBool::new(false));
        let mut set = JoinSet::new();
        for pc in clients {
            let c = Consumer {
                pc,
                source: source.to_string(),
                start: self.cfg.start,
                max_future_ms: self.cfg.max_future_skew_secs as i64 * 1000,
                clock: self.clock.clone(),
                tx: self.tx.clone(),
                shared: self.shared.clone(),
                positions: positions.clone(),
                stop: self.stop.clone(),
                cancel: cancel.clone(),
                cluster: self.cluster.clone(),
                generation,
            };
            set.spawn(c.run());
        }
        let mut end = SessionEnd::Stopped;
        while let Some(r) = set.join_next().await {
            let lost = match r {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e,
                Err(e) => BrokerError::from(e),
            };
            if matches!(end, SessionEnd::Stopped) && !self.stop.load(Ordering::Relaxed) {
                end = SessionEnd::Lost(lost);
            }
            cancel.store(true, Ordering::Relaxed);
        }
        if matches!(end, SessionEnd::Stopped) && rebalanced() {
            return SessionEnd::Rebalanced;
        }
        end
    }

    /// One connection: set up every partition, then consume them all until stop or an error.
    async fn session(
        &self,
        source: &str,
        positions: &Arc<Mutex<BTreeMap<i32, i64>>>,
        connected: &mut bool,
    ) -> Result<SessionEnd, StoreError> {
        let topic = &self.cfg.topic;
        if lock(&self.shared.state).state == SourceState::Starting {
            self.shared.set_state(
                SourceState::Connecting,
                format!("brokers {}", self.cfg.brokers.join(",")),
            );
        }
        let client = match bounded("connecting", connect(&self.cfg.brokers)).await {
            Ok(c) => c,
            Err(e) => return Ok(SessionEnd::Lost(e)),
        };
        let setup = ensure_topic(&client, topic, self.cfg.partitions, self.cfg.replication);
        let parts = match bounded("topic metadata", setup).await {
            Ok(p) => p,
            Err(e) => return Ok(SessionEnd::Lost(e)),
        };
        let (generation, parts) = self.held(source, &parts);
        let mut clients = Vec::with_capacity(parts.len());
        // Stored offsets are read once per process start, or per rebalance on a cluster (after
        // that the positions are known).
        let mut reader = None;
        for &p in &parts {
            let pc = client.partition_client(topic.as_str(), p, UnknownTopicHandling::Retry);
            let pc = match bounded(&format!("partition {p}"), pc).await {
                Ok(pc) => pc,
                Err(e) => return Ok(SessionEnd::Lost(e)),
            };
            let known = lock(positions).get(&p).copied();
            let start = match known {
                Some(o) => o,
                None => {
                    let reader = match &reader {
                        Some(r) => r,
                        None => reader.insert(self.store.reader()?),
                    };
                    match stored_offset(reader, source, p)? {
                        Some(o) => o,
                        None => match bounded(
                            &format!("partition {p} offsets"),
                            pc.get_offset(policy_at(self.cfg.start)),
                        )
                        .await
                        {
                            Ok(o) => o,
                            Err(e) => return Ok(SessionEnd::Lost(e)),
                        },
                    }
                }
            };
            lock(positions).insert(p, start);
            clients.push(Arc::new(pc));
        }
        *connected = true;
        self.announce_connected(&parts, positions);

        Ok(self.consume(clients, source, positions, generation).await)
    }

    /// Of the topic's partitions, those this node consumes (all of them, unless it is one node
    /// of a cluster), and the lease generation they belong to (0 off a cluster).
    fn held(&self, source: &str, parts: &[i32]) -> (u64, Vec<i32>) {
        match &self.cluster {
            None => (0, parts.to_vec()),
            Some(c) => {
                c.set_partitions(source, parts);
                let (generation, owned) = c.owned();
                (
                    generation,
                    parts.iter().copied().filter(|p| owned.contains(p)).collect(),
                )
            }
        }
    }
}

fn policy_at(p: StartPolicy) -> OffsetAt {
    match p {
        StartPolicy::Earliest => OffsetAt::Earliest,
        StartPolicy::Latest => OffsetAt::Latest,
    }
}
