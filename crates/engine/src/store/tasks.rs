//! Migration tasks in the store: the queue, and every transition persisted before what depends on it.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::conn::Row;
pub use super::task_state::{FILE_GROWING, SOURCE_MISSING, TaskState};
use super::{Connection, StoreError};
use crate::clock::Millis;
use crate::tiers::{Attributes, Written};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub key: String,
    pub src: String,
    pub dst: String,
    pub state: TaskState,
    pub reason: Option<String>,
    pub attempts: u32,
    pub not_before: Option<Millis>,
    pub size: u64,
    pub src_etag: Option<String>,
    /// The source's exact version on a versioned bucket: what is copied and then deleted.
    pub src_version: Option<String>,
    pub written: Option<Written>,
    pub created: Millis,
    pub updated: Millis,
    /// What the source carried when this run read it (not stored: a resumed copy reads it again).
    #[serde(skip)]
    pub src_attrs: Option<Attributes>,
}

const COLS: &str = "id, key, src_tier, dst_tier, state, reason, attempts, not_before, size, src_etag, written, created, updated, src_version";

fn from_row(r: &Row<'_, '_>) -> Result<Task, StoreError> {
    let state: String = r.get(4)?;
    let written: Option<String> = r.get(10)?;
    Ok(Task {
        id: r.get(0)?,
        key: r.get(1)?,
        src: r.get(2)?,
        dst: r.get(3)?,
        state: TaskState::parse(&state).unwrap_or(TaskState::Failed),
        reason: r.get(5)?,
        attempts: r.get::<i64>(6)?.max(0) as u32,
        not_before: r.get(7)?,
        size: r.get::<i64>(8)?.max(0) as u64,
        src_etag: r.get(9)?,
        written: written.and_then(|w| serde_json::from_str(&w).ok()),
        created: r.get(11)?,
        updated: r.get(12)?,
        src_version: r.get(13)?,
        src_attrs: None,
    })
}

/// Queues a move of `key` from `src` to `dst`, unless the object already has an unfinished task.
pub fn enqueue(conn: &Connection, key: &str, src: &str, dst: &str, now: Millis) -> Result<Option<i64>, StoreError> {
    let busy: Option<i64> = conn.row(
        &format!(
            "SELECT id FROM tasks WHERE key = ?1 AND state NOT IN {} LIMIT 1",
            TaskState::sql(&TaskState::FINISHED)
        ),
        &[&key],
        |r| r.get(0),
    )?;
    if busy.is_some() {
        return Ok(None);
    }
    let size: i64 = conn
        .row("SELECT size FROM objects WHERE key = ?1", &[&key], |r| r.get(0))?
        .unwrap_or(0);
    conn.row(
        "INSERT INTO tasks(key, src_tier, dst_tier, state, size, created, updated)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?5) RETURNING id",
        &[&key, &src, &dst, &size, &now],
        |r| r.get(0),
    )
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Task>, StoreError> {
    conn.row(&format!("SELECT {COLS} FROM tasks WHERE id = ?1"), &[&id], from_row)
}

/// Tasks a worker may take now: unfinished ones (resumed from their persisted state), deferred
/// ones and those waiting to retry whose time has come, oldest first.
pub fn claimable(conn: &Connection, now: Millis, limit: usize) -> Result<Vec<Task>, StoreError> {
    conn.rows(&claimable_sql(), &[&now, &(limit as i64)], from_row)
}

/// Walks the `tasks_open` index: the finished tasks of weeks are never read. A task another
/// live node has claimed is not offered.
fn claimable_sql() -> String {
    format!(
        "SELECT {COLS} FROM tasks
         WHERE state NOT IN {}
           AND coalesce(not_before, 0) <= ?1
           AND (owner IS NULL OR owner = dim_node() OR lease_until < now_ms())
         ORDER BY id LIMIT ?2",
        TaskState::sql(&TaskState::FINISHED)
    )
}

/// Claims task `id` for this node for `lease_ms` (renewed by `renew_claims` while it runs):
/// false when another live node holds it. On PostgreSQL a row another node is changing is
/// skipped rather than waited for (`FOR UPDATE SKIP LOCKED`); SQLite's one node always gets it.
pub fn take(conn: &Connection, id: i64, lease_ms: i64) -> Result<bool, StoreError> {
    let lock = conn.pick("", " FOR UPDATE SKIP LOCKED");
    Ok(conn.exec(
        &format!(
            "UPDATE tasks SET owner = dim_node(), lease_until = now_ms() + ?2
             WHERE id = (SELECT id FROM tasks WHERE id = ?1
                           AND (owner IS NULL OR owner = dim_node() OR lease_until < now_ms()){lock})"
        ),
        &[&id, &lease_ms],
    )? == 1)
}

/// Extends this node's claims on its unfinished tasks by `lease_ms`; how many it holds.
pub fn renew_claims(conn: &Connection, lease_ms: i64) -> Result<u64, StoreError> {
    conn.exec(
        &format!(
            "UPDATE tasks SET lease_until = now_ms() + ?1 WHERE owner = dim_node() AND state NOT IN {}",
            TaskState::sql(&TaskState::FINISHED)
        ),
        &[&lease_ms],
    )
}

/// Forgets up to `limit` done and cancelled tasks last updated before `before`; how many it did.
/// Failed tasks stay: they wait for an operator.
pub fn forget_finished(conn: &Connection, before: Millis, limit: usize) -> Result<usize, StoreError> {
    Ok(conn.exec(
        &format!(
            "DELETE FROM tasks WHERE id IN (
                SELECT id FROM tasks WHERE state IN {} AND updated < ?1 LIMIT ?2)",
            TaskState::sql(&[TaskState::Done, TaskState::Cancelled])
        ),
        &[&before, &(limit as i64)],
    )? as usize)
}

/// The destination of every object with an unfinished task (the planner leaves them be).
pub fn unfinished(conn: &Connection) -> Result<HashMap<String, String>, StoreError> {
    Ok(conn
        .rows(&unfinished_sql(), &[], |r| Ok((r.get(0)?, r.get(1)?)))?
        .into_iter()
        .collect())
}

fn unfinished_sql() -> String {
    format!(
        "SELECT key, dst_tier FROM tasks WHERE state NOT IN {}",
        TaskState::sql(&TaskState::FINISHED)
    )
}

/// Tasks in `state`, newest first (for the dashboard).
pub fn in_state(conn: &Connection, state: TaskState, limit: usize) -> Result<Vec<Task>, StoreError> {
    conn.rows(
        &format!("SELECT {COLS} FROM tasks WHERE state = ?1 ORDER BY updated DESC LIMIT ?2"),
        &[&state.as_str(), &(limit as i64)],
        from_row,
    )
}

/// The newest tasks (by id), of `state` or of every state, in one query (the control API).
pub fn newest(conn: &Connection, state: Option<TaskState>, limit: usize) -> Result<Vec<Task>, StoreError> {
    conn.rows(
        &format!("SELECT {COLS} FROM tasks WHERE CAST(?1 AS TEXT) IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2"),
        &[&state.map(TaskState::as_str), &(limit as i64)],
        from_row,
    )
}

/// Every task of `key`, oldest first (the detail view, `dim explain`).
pub fn of_key(conn: &Connection, key: &str) -> Result<Vec<Task>, StoreError> {
    conn.rows(
        &format!("SELECT {COLS} FROM tasks WHERE key = ?1 ORDER BY id"),
        &[&key],
        from_row,
    )
}

/// Keys whose migration is in flight, or finished since `since_ms`: an inventory expects two
/// copies of them.
pub fn moving_keys(conn: &Connection, since_ms: Millis) -> Result<HashSet<String>, StoreError> {
    Ok(conn
        .rows(
            &format!(
                "SELECT key FROM tasks WHERE state NOT IN {} OR updated >= ?1",
                TaskState::sql(&TaskState::FINISHED)
            ),
            &[&since_ms],
            |r| r.get::<String>(0),
        )?
        .into_iter()
        .collect())
}

/// The key and source of up to `limit` queued tasks, oldest first.
pub fn queued(conn: &Connection, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
    conn.rows(
        &format!(
            "SELECT key, src_tier FROM tasks WHERE state IN {} ORDER BY id LIMIT ?1",
            TaskState::sql(&TaskState::QUEUED)
        ),
        &[&(limit as i64)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A move a plan decided: `key` from tier `from` to tier `to`.
#[derive(Debug, Clone, Copy)]
pub struct PlannedMove<'a> {
    pub key: &'a str,
    pub from: &'a str,
    pub to: &'a str,
}

/// Queues a plan's moves and records its summary (`summary` of how many tasks were created), in
/// one transaction. Ingest kept running while the plan was solved: an object since deleted,
/// moved or pinned is skipped, as is one with an unfinished task.
pub fn queue_plan(
    conn: &mut Connection,
    moves: &[PlannedMove<'_>],
    now: Millis,
    summary: impl FnOnce(u64) -> String,
) -> Result<u64, StoreError> {
    let tx = conn.begin()?;
    let mut created = 0;
    for m in moves {
        let still: Option<(Option<String>, i64)> =
            tx.row("SELECT tier, pinned FROM objects WHERE key = ?1", &[&m.key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if still != Some((Some(m.from.to_string()), 0)) {
            continue;
        }
        if enqueue(&tx, m.key, m.from, m.to, now)?.is_some() {
            created += 1;
        }
    }
    super::set_setting(&tx, super::PLAN_LAST, &summary(created))?;
    tx.commit()?;
    Ok(created)
}

/// What a transition changes besides the state.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub reason: Option<String>,
    pub attempts: Option<u32>,
    pub not_before: Option<Millis>,
    pub size: Option<u64>,
    pub src_etag: Option<String>,
    pub src_version: Option<String>,
    pub written: Option<Written>,
}

/// Moves task `id` from `from` to `to`. Compare-and-set: returns false (and changes nothing)
/// if the task is no longer in `from`, e.g. because it was cancelled meanwhile, or if another
/// node has claimed it since (a node whose lease lapsed never moves a task on).
pub fn transition(
    conn: &Connection,
    id: i64,
    from: TaskState,
    to: TaskState,
    c: &Change,
    now: Millis,
) -> Result<bool, StoreError> {
    let written = c.written.as_ref().map(|w| serde_json::to_string(w).unwrap_or_default());
    // Prepared once per connection: every step of every move runs this.
    let n = conn.exec(
        "UPDATE tasks SET state = ?3, updated = ?4,
             reason = ?5,
             attempts = coalesce(?6, attempts),
             not_before = ?7,
             size = coalesce(?8, size),
             src_etag = coalesce(?9, src_etag),
             written = coalesce(?10, written),
             src_version = coalesce(?11, src_version)
         WHERE id = ?1 AND state = ?2 AND (owner IS NULL OR owner = dim_node())",
        &[
            &id,
            &from.as_str(),
            &to.as_str(),
            &now,
            &c.reason,
            &c.attempts.map(i64::from),
            &c.not_before,
            &c.size.map(|s| s as i64),
            &c.src_etag,
            &written,
            &c.src_version,
        ],
    )?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// The pointer now names the destination; the task is `cleaning`.
    Switched,
    /// The object is gone from the store (deleted meanwhile).
    ObjectGone,
    /// The pointer is not at the source any more.
    PointerMoved,
    /// The task left `switching` meanwhile (cancelled).
    Lost,
}

/// The pointer switch: the object's tier moves to the destination and the task to `cleaning`,
/// in one transaction, so the source is never deleted before the pointer has moved. A clean-up
/// that runs in the background sets `not_before`, so no worker takes the task meanwhile (and
/// after a crash it resumes then).
pub fn switch_pointer(
    conn: &mut Connection,
    t: &Task,
    w: &Written,
    now: Millis,
    not_before: Option<Millis>,
) -> Result<Switch, StoreError> {
    let tx = conn.begin()?;
    let tier = super::placement(&tx, &t.key)?;
    let outcome = match tier {
        None => Switch::ObjectGone,
        Some(tier) if tier.as_deref() != Some(t.src.as_str()) => Switch::PointerMoved,
        Some(_) => {
            let moved = transition(
                &tx,
                t.id,
                TaskState::Switching,
                TaskState::Cleaning,
                &Change {
                    not_before,
                    ..Change::default()
                },
                now,
            )?;
            if moved {
                tx.exec(
                    "UPDATE objects SET tier = ?2, etag = ?3, size = ?4, moved_at = ?5 WHERE key = ?1",
                    &[&t.key, &t.dst, &w.etag, &(w.size as i64), &now],
                )?;
                Switch::Switched
            } else {
                Switch::Lost
            }
        }
    };
    tx.commit()?;
    Ok(outcome)
}

/// Failed tasks go back to `pending` with a fresh attempt count.
pub fn retry_failed(conn: &Connection, now: Millis) -> Result<usize, StoreError> {
    Ok(conn.exec(
        "UPDATE tasks SET state = 'pending', attempts = 0, reason = NULL, not_before = NULL, updated = ?1,
                          owner = NULL, lease_until = NULL
         WHERE state = 'failed'",
        &[&now],
    )? as usize)
}

/// Cancels an unfinished task; returns false if it had finished or is `cleaning` (the pointer has
/// already moved, so only finishing the clean-up leaves exactly one copy).
pub fn cancel(conn: &Connection, id: i64, now: Millis) -> Result<bool, StoreError> {
    let not_cancellable = TaskState::sql(&[
        TaskState::Cleaning,
        TaskState::Done,
        TaskState::Failed,
        TaskState::Cancelled,
    ]);
    Ok(conn.exec(
        &format!(
            "UPDATE tasks SET state = '{}', reason = 'cancelled by user', updated = ?2
             WHERE id = ?1 AND state NOT IN {not_cancellable}",
            TaskState::Cancelled.as_str()
        ),
        &[&id, &now],
    )? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn plan(conn: &Connection, sql: &str) -> String {
        let Connection::Lite(conn) = conn else {
            panic!("an SQLite query plan")
        };
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let unbound = vec![rusqlite::types::Null; stmt.parameter_count()];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(unbound), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    /// A daemon keeps a week of finished tasks: claiming and planning must not read them. SQLite uses
    /// the partial index only while the queries spell its WHERE exactly.
    #[test]
    fn unfinished_tasks_are_found_through_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), 8).unwrap();
        let conn = store.writer();
        conn.exec_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
             INSERT INTO tasks(key, src_tier, dst_tier, state, created, updated)
             SELECT 'old/' || i, 'a', 'b', 'done', i, i FROM n;",
        )
        .unwrap();
        enqueue(&conn, "new", "a", "b", 1).unwrap();
        for sql in [claimable_sql(), unfinished_sql()] {
            let p = plan(&conn, &sql);
            assert!(p.contains("tasks_open"), "{sql}\n=> {p}");
        }
        let claimed = claimable(&conn, 2, 10).unwrap();
        assert_eq!(claimed.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["new"]);
        assert_eq!(unfinished(&conn).unwrap().get("new").map(String::as_str), Some("b"));
    }
}
