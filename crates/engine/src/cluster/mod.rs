//! This engine as one node of several on a PostgreSQL store: its heartbeat, its share of the
//! topic's partitions (leases renewed in the store), its task claims, and whether it is the
//! one node that plans and trains. Nothing here coordinates by itself: the store's rows and
//! locks are the truth, and this module only keeps the node's copy of them.

mod orders;
mod report;
mod view;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::{Millis, wall_now_ms};
use crate::store::{Connection, Store, StoreError, cluster as rows, tasks};
use crate::sync::lock;
pub use orders::{Apply, Orders, applier};
pub use report::node_report;
pub use view::{ClusterView, NodeInfo, NodeView};

use crate::config::Config;

/// One node's state in the cluster, shared by its event source, ingest, migrator and planner.
#[derive(Debug)]
pub struct Cluster {
    pub node: String,
    pub started_ms: Millis,
    /// How long a claim (partition, task, node) outlives its last renewal.
    pub lease_ms: Millis,
    /// The Kafka source's name in the store and the topic's partitions, once it has seen them.
    source: std::sync::Mutex<Option<(String, Vec<i32>)>>,
    owned: std::sync::Mutex<BTreeSet<i32>>,
    /// The known partitions have their lease rows.
    leases_made: AtomicBool,
    /// Bumped whenever the partitions this node may commit change (a lease taken or let go, a
    /// batch refused by the store's fence): the source starts over from the committed offsets
    /// and ingest drops what it holds of the older generation.
    generation: AtomicU64,
    leader: AtomicBool,
    view: std::sync::Mutex<ClusterView>,
    /// The cluster's orders as this node last applied them.
    orders: std::sync::Mutex<Option<Orders>>,
}

impl Cluster {
    /// A node named `node` (unique among the cluster's nodes) whose claims last `lease_ms`.
    pub fn new(node: String, lease_ms: Millis) -> Self {
        Self {
            node,
            started_ms: wall_now_ms(),
            lease_ms: lease_ms.max(1_000),
            source: std::sync::Mutex::default(),
            owned: std::sync::Mutex::default(),
            leases_made: AtomicBool::new(false),
            generation: AtomicU64::new(1),
            leader: AtomicBool::new(false),
            view: std::sync::Mutex::default(),
            orders: std::sync::Mutex::default(),
        }
    }

    /// On a PostgreSQL store this engine is a node of the cluster sharing it: named by
    /// `store.node` (or host, process and start time), its writes fenced by its leases.
    pub fn join(cfg: &Config, store: &Store) -> Result<Option<Cluster>, StoreError> {
        let node = cfg.store.node.clone().unwrap_or_else(Cluster::default_node_name);
        if !store.join(&node)? {
            return Ok(None);
        }
        let lease_ms = (cfg.store.lease_secs as i64).saturating_mul(1000);
        tracing::info!(target: "dim::cluster", node = %node, lease_secs = cfg.store.lease_secs, "joined the cluster on the PostgreSQL store");
        if cfg.events.source == crate::config::SourceKind::Embedded {
            // Each node's generator invents its own objects under the same keys: fine for one
            // node trying PostgreSQL, wrong for several sharing one store.
            tracing::warn!(target: "dim::cluster", node = %node,
                "the embedded workload runs on every node that starts it: feed several nodes from one Kafka topic (events.source = \"kafka\")");
        }
        Ok(Some(Cluster::new(node, lease_ms)))
    }

    /// A node name for this process: host, process id and start time.
    pub fn default_node_name() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".into());
        format!("{host}-{}-{:x}", std::process::id(), wall_now_ms() & 0xfff_ffff)
    }

    /// The Kafka source tells which partitions its topic has (what the nodes share).
    pub fn set_partitions(&self, source: &str, partitions: &[i32]) {
        let known = Some((source.to_string(), partitions.to_vec()));
        let mut s = lock(&self.source);
        if *s != known {
            *s = known;
            // Their lease rows are made (once) at the next heartbeat.
            self.leases_made.store(false, Ordering::Relaxed);
        }
    }

    /// The partitions this node holds and the generation they belong to.
    pub fn owned(&self) -> (u64, BTreeSet<i32>) {
        let owned = lock(&self.owned);
        (self.generation.load(Ordering::Acquire), owned.clone())
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A batch was refused (lease lost) or could not be committed: everything in flight is
    /// dropped, and the source resumes from the offsets the store committed.
    pub fn start_over(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Relaxed)
    }

    pub fn view(&self) -> ClusterView {
        lock(&self.view).clone()
    }

    /// How often claims are renewed: five times per lease, so a slow beat or two loses nothing.
    pub fn beat_every(&self) -> Duration {
        Duration::from_millis((self.lease_ms / 5).max(200) as u64)
    }

    /// One heartbeat: the node's row, its partition leases (kept at its fair share), its task
    /// claims and leadership, and the nodes view. Runs on blocking threads (store I/O).
    pub fn beat(
        &self,
        w: &Connection,
        leader_session: &mut Option<Connection>,
        store: &Store,
        info: &NodeInfo,
        apply: &Apply,
    ) -> Result<(), StoreError> {
        let mut info = info.clone();
        info.leader = self.is_leader();
        rows::heartbeat(w, &self.node, self.started_ms, &info.to_json())?;
        self.rebalance(w)?;
        tasks::renew_claims(w, self.lease_ms)?;
        self.lead(leader_session, store);
        if let Some(o) = Orders::read(w)? {
            let mut seen = lock(&self.orders);
            if seen.as_ref() != Some(&o) {
                apply(&o);
                *seen = Some(o);
            }
        }
        let nodes = rows::nodes(w, self.lease_ms.saturating_mul(30))?;
        let source = lock(&self.source).as_ref().map(|(s, _)| s.clone());
        let owners = match &source {
            Some(s) => rows::partition_owners(w, s)?,
            None => Vec::new(),
        };
        *lock(&self.view) = ClusterView::build(&self.node, self.lease_ms, &nodes, &owners);
        Ok(())
    }

    /// Renews this node's leases and moves it to its fair share of the partitions: ceil(P / N)
    /// over the live nodes, letting extras go (highest first) and taking free or lapsed ones.
    fn rebalance(&self, w: &Connection) -> Result<(), StoreError> {
        let Some((source, parts)) = lock(&self.source).clone() else {
            return Ok(());
        };
        if !self.leases_made.load(Ordering::Relaxed) {
            rows::ensure_partitions(w, &source, &parts)?;
            self.leases_made.store(true, Ordering::Relaxed);
        }
        let mut held = rows::renew_partitions(w, &source, self.lease_ms)?;
        let live = rows::live_nodes(w, self.lease_ms)?.max(1) as usize;
        let share = parts.len().div_ceil(live);
        while held.len() > share {
            if let Some(p) = held.pop() {
                rows::release_partition(w, &source, p)?;
                tracing::info!(target: "dim::cluster", partition = p, live, "partition let go to another node");
            }
        }
        if held.len() < share {
            for p in rows::acquire_partitions(w, &source, share - held.len(), self.lease_ms)? {
                tracing::info!(target: "dim::cluster", partition = p, live, "partition taken");
                held.push(p);
            }
        }
        let now: BTreeSet<i32> = held.into_iter().collect();
        let mut owned = lock(&self.owned);
        if *owned != now {
            *owned = now;
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Takes the leader's lock if it is free, or checks that the session holding it is alive.
    fn lead(&self, session: &mut Option<Connection>, store: &Store) {
        let was = self.is_leader();
        let now = match session.take().map_or_else(|| store.session(), Ok) {
            Ok(s) => {
                let held = if was { rows::still_leads(&s) } else { rows::try_lead(&s) };
                match held {
                    Ok(h) => {
                        *session = Some(s);
                        h
                    }
                    // The session is gone, and the lock with it: another node may lead now.
                    Err(_) => false,
                }
            }
            Err(_) => false,
        };
        if now != was {
            self.leader.store(now, Ordering::Relaxed);
            if now {
                tracing::info!(target: "dim::cluster", node = %self.node, "this node now plans and trains for the cluster");
            } else {
                tracing::warn!(target: "dim::cluster", node = %self.node, "this node no longer leads the cluster");
            }
        }
    }
}

/// What a node reports of itself at each heartbeat, read from the engine's parts.
pub type Report = Box<dyn Fn() -> NodeInfo + Send + Sync>;

/// The node's heartbeat: every fifth of a lease, until the engine stops.
pub fn spawn(cluster: Arc<Cluster>, store: Arc<Store>, report: Report, apply: Apply) -> tokio::task::JoinHandle<()> {
    let (report, apply) = (Arc::new(report), Arc::new(apply));
    tokio::spawn(async move {
        let mut session: Option<Connection> = None;
        loop {
            let (c, s, r, a) = (cluster.clone(), store.clone(), report.clone(), apply.clone());
            let mut held = session.take();
            let beat = tokio::task::spawn_blocking(move || {
                let result = c.beat(&s.writer(), &mut held, &s, &r(), &a);
                (result, held)
            })
            .await;
            match beat {
                Ok((Ok(()), held)) => session = held,
                Ok((Err(e), held)) => {
                    session = held;
                    tracing::warn!(target: "dim::cluster", error = %e, "heartbeat failed; trying again");
                }
                Err(_) => return,
            }
            tokio::time::sleep(cluster.beat_every()).await;
        }
    })
}

/// The inventory of the shared tiers at start, listed by one node: this one if it leads within
/// a few heartbeats of starting (a node joining a running cluster leaves it to the leader, and
/// `I` or `dim ctl rescan` lists again on any node).
pub async fn scan_if_leading(cluster: Arc<Cluster>, scanner: crate::inventory::Scanner) {
    for _ in 0..10 {
        if cluster.is_leader() {
            scanner.start();
            return;
        }
        tokio::time::sleep(cluster.beat_every()).await;
    }
}

/// A node leaving cleanly: its partitions and task claims go to the others at once.
pub async fn leave(cluster: &Cluster, store: &Arc<Store>) {
    let node = cluster.node.clone();
    if let Err(e) = store.write(move |c| rows::leave(c, &node)).await {
        tracing::warn!(target: "dim::cluster", error = %e, "could not leave the cluster cleanly; the others take over when the leases run out");
    }
}
