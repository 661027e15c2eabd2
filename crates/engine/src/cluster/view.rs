//! What the nodes of a cluster say of themselves and how the dashboard shows them: a row per
//! node (partitions, lag, moves in flight, leader), live or lost by its last heartbeat.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::store::cluster::NodeRow;

/// What a node reports in its heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Records behind the high watermark, summed over its partitions.
    pub lag: u64,
    pub tasks_in_flight: usize,
    pub events_per_sec: f64,
    pub leader: bool,
    /// Where its control API and metrics listen, when they do.
    pub control: Option<String>,
    pub metrics: Option<String>,
}

impl NodeInfo {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// One node as the cluster sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    pub id: String,
    /// Silent for longer than a lease: its partitions and tasks go to the others.
    pub lost: bool,
    pub silent_ms: Millis,
    pub started_ms: Millis,
    /// Partitions whose live lease it holds (from the lease rows, not its own report).
    pub partitions: Vec<i32>,
    #[serde(flatten)]
    pub info: NodeInfo,
}

/// Every node of the cluster, as of this node's last heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    /// The node this engine is.
    pub this: String,
    pub lease_ms: Millis,
    pub nodes: Vec<NodeView>,
    /// Partitions no live node holds right now.
    pub unowned: Vec<i32>,
}

impl ClusterView {
    pub fn build(this: &str, lease_ms: Millis, nodes: &[NodeRow], owners: &[(i32, Option<String>, Millis)]) -> Self {
        let mut unowned = Vec::new();
        for (p, owner, left) in owners {
            if owner.is_none() || *left < 0 {
                unowned.push(*p);
            }
        }
        let nodes = nodes
            .iter()
            .map(|n| {
                let info: NodeInfo = serde_json::from_str(&n.info).unwrap_or_default();
                NodeView {
                    id: n.id.clone(),
                    lost: n.silent_ms > lease_ms,
                    silent_ms: n.silent_ms.max(0),
                    started_ms: n.started_ms,
                    partitions: owners
                        .iter()
                        .filter(|(_, o, left)| o.as_deref() == Some(n.id.as_str()) && *left >= 0)
                        .map(|(p, _, _)| *p)
                        .collect(),
                    info,
                }
            })
            .collect();
        Self {
            this: this.to_string(),
            lease_ms,
            nodes,
            unowned,
        }
    }

    /// The node that plans and trains, if a live one says it does.
    pub fn leader(&self) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| n.info.leader && !n.lost)
            .map(|n| n.id.as_str())
    }
}
