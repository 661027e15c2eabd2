//! Several nodes on one store: their heartbeats, the leases that divide a topic's partitions
//! among them, and the advisory lock that makes one of them the planner. Timed by the
//! database's clock (`now_ms()`), never a node's; the functions act for the session's node
//! (`dim_node()`, set when the store joined the cluster).

use serde::{Deserialize, Serialize};

use super::{Connection, StoreError};
use crate::clock::Millis;

/// A node as the store knows it: when it started, when it last beat, what it said of itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    pub id: String,
    pub started_ms: Millis,
    /// How long ago its last heartbeat was, on the database's clock.
    pub silent_ms: Millis,
    /// The node's own report (JSON), as its heartbeat wrote it.
    pub info: String,
}

/// Records this node's heartbeat and report.
pub fn heartbeat(conn: &Connection, id: &str, started_ms: Millis, info: &str) -> Result<(), StoreError> {
    conn.exec(
        "INSERT INTO nodes(id, started_ms, seen_ms, info) VALUES (?1, ?2, now_ms(), ?3)
         ON CONFLICT(id) DO UPDATE SET seen_ms = excluded.seen_ms, info = excluded.info",
        &[&id, &started_ms, &info],
    )?;
    Ok(())
}

/// Every node that beat within `forget_ms`, oldest first.
pub fn nodes(conn: &Connection, forget_ms: Millis) -> Result<Vec<NodeRow>, StoreError> {
    conn.rows(
        "SELECT id, started_ms, now_ms() - seen_ms, info FROM nodes WHERE seen_ms >= now_ms() - ?1
         ORDER BY started_ms, id",
        &[&forget_ms],
        |r| {
            Ok(NodeRow {
                id: r.get(0)?,
                started_ms: r.get(1)?,
                silent_ms: r.get(2)?,
                info: r.get(3)?,
            })
        },
    )
}

/// How many nodes beat within `lease_ms`: what the partitions are shared among.
pub fn live_nodes(conn: &Connection, lease_ms: Millis) -> Result<u64, StoreError> {
    Ok(conn
        .row(
            "SELECT count(*) FROM nodes WHERE seen_ms >= now_ms() - ?1",
            &[&lease_ms],
            |r| r.get::<i64>(0),
        )?
        .unwrap_or(0)
        .max(0) as u64)
}

/// A node leaving cleanly: its row, its partitions and its task claims are let go at once
/// rather than when their leases run out.
pub fn leave(conn: &Connection, id: &str) -> Result<(), StoreError> {
    let tx = conn.begin()?;
    tx.exec("DELETE FROM nodes WHERE id = ?1", &[&id])?;
    tx.exec(
        "UPDATE partition_leases SET owner = NULL, until_ms = 0 WHERE owner = ?1",
        &[&id],
    )?;
    tx.exec("UPDATE tasks SET lease_until = 0 WHERE owner = ?1", &[&id])?;
    tx.commit()
}

/// Makes sure every partition of `source` has a lease row (unowned when new).
pub fn ensure_partitions(conn: &Connection, source: &str, partitions: &[i32]) -> Result<(), StoreError> {
    for p in partitions {
        conn.exec(
            "INSERT INTO partition_leases(source, partition) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &[&source, p],
        )?;
    }
    Ok(())
}

/// Extends this node's partition leases by `lease_ms`; the partitions it holds.
pub fn renew_partitions(conn: &Connection, source: &str, lease_ms: Millis) -> Result<Vec<i32>, StoreError> {
    let mut held = conn.rows(
        "UPDATE partition_leases SET until_ms = now_ms() + ?2 WHERE source = ?1 AND owner = dim_node()
         RETURNING partition",
        &[&source, &lease_ms],
        |r| r.get::<i32>(0),
    )?;
    held.sort_unstable();
    Ok(held)
}

/// Takes up to `want` partitions of `source` that nobody holds or whose lease ran out; the ones
/// taken. A lease row another node is committing a batch under (`holds_partition`) is skipped.
pub fn acquire_partitions(
    conn: &Connection,
    source: &str,
    want: usize,
    lease_ms: Millis,
) -> Result<Vec<i32>, StoreError> {
    if want == 0 {
        return Ok(Vec::new());
    }
    let lock = conn.pick("", " FOR UPDATE SKIP LOCKED");
    let mut got = conn.rows(
        &format!(
            "UPDATE partition_leases SET owner = dim_node(), until_ms = now_ms() + ?3
             WHERE source = ?1 AND partition IN (
                 SELECT partition FROM partition_leases
                 WHERE source = ?1 AND (owner IS NULL OR until_ms < now_ms())
                 ORDER BY partition LIMIT ?2{lock})
             RETURNING partition"
        ),
        &[&source, &(want as i64), &lease_ms],
        |r| r.get::<i32>(0),
    )?;
    got.sort_unstable();
    Ok(got)
}

/// Lets partition `partition` of `source` go (another node takes it at once).
pub fn release_partition(conn: &Connection, source: &str, partition: i32) -> Result<(), StoreError> {
    conn.exec(
        "UPDATE partition_leases SET owner = NULL, until_ms = 0
         WHERE source = ?1 AND partition = ?2 AND owner = dim_node()",
        &[&source, &partition],
    )?;
    Ok(())
}

/// Whether this node may commit offsets of `partition` of `source`: it holds a live lease on it,
/// or the partition is not leased at all (a source the nodes do not share, such as the embedded
/// workload). The lease row stays locked until the transaction ends: a batch checks this before
/// committing, so a node whose lease lapsed never commits, and a node taking the lease over
/// waits for a commit under way and then reads the offset it left.
pub fn holds_partition(conn: &Connection, source: &str, partition: i32) -> Result<bool, StoreError> {
    let lock = conn.pick("", " FOR SHARE");
    Ok(conn
        .row(
            &format!(
                "SELECT coalesce(owner = dim_node() AND until_ms >= now_ms(), false) FROM partition_leases
                 WHERE source = ?1 AND partition = ?2{lock}"
            ),
            &[&source, &partition],
            |r| r.get::<bool>(0),
        )?
        .unwrap_or(true))
}

/// Every partition lease of `source`: partition, owner, ms left.
pub fn partition_owners(conn: &Connection, source: &str) -> Result<Vec<(i32, Option<String>, Millis)>, StoreError> {
    conn.rows(
        "SELECT partition, owner, until_ms - now_ms() FROM partition_leases WHERE source = ?1 ORDER BY partition",
        &[&source],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// The key of the advisory lock whose holder plans and trains for the cluster.
const LEADER_LOCK: i64 = 0x0d1a_1ead;

/// Tries to become (or stay) the cluster's leader on `session`, a connection kept for it: the
/// lock lives as long as the session, so a leader that dies lets it go with its connection.
/// SQLite's one node always leads.
pub fn try_lead(session: &Connection) -> Result<bool, StoreError> {
    match session.dialect() {
        super::Dialect::Lite => Ok(true),
        super::Dialect::Pg => Ok(session
            .row("SELECT pg_try_advisory_lock(?1)", &[&LEADER_LOCK], |r| r.get::<bool>(0))?
            .unwrap_or(false)),
    }
}

/// Whether the leader's session is still alive (and with it the lock it holds).
pub fn still_leads(session: &Connection) -> Result<bool, StoreError> {
    session.exec_batch("SELECT 1")?;
    Ok(true)
}

/// The settings row holding the cluster's orders (JSON; see `cluster::orders`).
const ORDERS: &str = "cluster.orders";

pub fn orders(conn: &Connection) -> Result<Option<String>, StoreError> {
    super::get_setting(conn, ORDERS)
}

pub fn set_orders(conn: &Connection, json: &str) -> Result<(), StoreError> {
    super::set_setting(conn, ORDERS, json)
}
