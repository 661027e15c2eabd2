//! The SQLite schema as an ordered list of migrations, applied at start and tracked in `user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only; never edit a shipped one.
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
-- Objects and their access statistics, one row each (one upsert per key per batch).
-- `tier` is the pointer: the tier holding the readable copy; NULL = seen in events but on no tier.
-- h1/h24/h168 are log-space decayed access scores, ln(sum(exp(t_i / tau))) with t in seconds and
-- tau = 1 h, 1 d, 1 w: adding an access never needs the old value decayed first, and ordering by
-- a score is ordering by the current decayed count, so "hottest" is an index walk.
CREATE TABLE objects (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    tier          TEXT,
    size          INTEGER NOT NULL DEFAULT 0,
    etag          TEXT,
    last_modified INTEGER,
    created       INTEGER NOT NULL,
    pinned        INTEGER NOT NULL DEFAULT 0,
    moved_at      INTEGER,
    first_seen    INTEGER,
    last_access   INTEGER,
    reads         INTEGER NOT NULL DEFAULT 0,
    writes        INTEGER NOT NULL DEFAULT 0,
    h1            REAL,
    h24           REAL,
    h168          REAL,
    hour_sin      REAL NOT NULL DEFAULT 0,
    hour_cos      REAL NOT NULL DEFAULT 0,
    stats_updated INTEGER
);
CREATE INDEX objects_heat ON objects(h1 DESC);
CREATE INDEX objects_stats_updated ON objects(stats_updated);
CREATE INDEX objects_tier ON objects(tier);

-- Per-tier totals kept by triggers so snapshots never scan objects. '' = on no tier.
CREATE TABLE tier_totals (
    tier    TEXT PRIMARY KEY,
    objects INTEGER NOT NULL DEFAULT 0,
    bytes   INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER objects_ai AFTER INSERT ON objects BEGIN
    INSERT INTO tier_totals(tier, objects, bytes) VALUES (coalesce(new.tier, ''), 1, new.size)
    ON CONFLICT(tier) DO UPDATE SET objects = objects + 1, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER objects_ad AFTER DELETE ON objects BEGIN
    UPDATE tier_totals SET objects = objects - 1, bytes = bytes - old.size
    WHERE tier = coalesce(old.tier, '');
END;
CREATE TRIGGER objects_au AFTER UPDATE OF tier, size ON objects
WHEN old.tier IS NOT new.tier OR old.size != new.size BEGIN
    UPDATE tier_totals SET objects = objects - 1, bytes = bytes - old.size
    WHERE tier = coalesce(old.tier, '');
    INSERT INTO tier_totals(tier, objects, bytes) VALUES (coalesce(new.tier, ''), 1, new.size)
    ON CONFLICT(tier) DO UPDATE SET objects = objects + 1, bytes = bytes + excluded.bytes;
END;

-- Periodic per-object feature snapshots for training; labels are derived later from the
-- cumulative counts of a later snapshot, so raw events are never kept.
CREATE TABLE history (
    object_id   INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    reads       INTEGER NOT NULL,
    writes      INTEGER NOT NULL,
    h1          REAL,
    h24         REAL,
    h168        REAL,
    hour_sin    REAL NOT NULL,
    hour_cos    REAL NOT NULL,
    first_seen  INTEGER,
    last_access INTEGER,
    size        INTEGER NOT NULL,
    PRIMARY KEY (object_id, ts)
) WITHOUT ROWID;
CREATE INDEX history_ts ON history(ts);

-- Migration tasks (driven by the migrator): one row per move, its state persisted before each side effect.
CREATE TABLE tasks (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL,
    src_tier   TEXT NOT NULL,
    dst_tier   TEXT NOT NULL,
    state      TEXT NOT NULL,
    reason     TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER,
    size       INTEGER NOT NULL DEFAULT 0,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    src_etag   TEXT,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL
);
CREATE INDEX tasks_state ON tasks(state);
CREATE INDEX tasks_key ON tasks(key);

-- Next offset to consume per source and partition, committed with the effects of the events before it.
CREATE TABLE offsets (
    source      TEXT NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (source, partition)
) WITHOUT ROWID;

-- The newest rejected events with their reasons (bounded by events.rejected_keep).
CREATE TABLE rejected_events (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    ts     INTEGER NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    raw    TEXT NOT NULL
);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"#,
    r#"
-- Migrator: what the copy wrote (size, ETag, SHA-256) so a resumed task can verify it,
-- and when the current attempt started.
ALTER TABLE tasks ADD COLUMN written TEXT;
ALTER TABLE tasks ADD COLUMN started INTEGER;
-- Newest tasks per state (deferred, failed, recent done) without sorting the whole state.
CREATE INDEX tasks_state_updated ON tasks(state, updated);
"#,
    r#"
-- The model serving p_hot, with its evaluation, so a restart does not start blind.
CREATE TABLE models (
    id         INTEGER PRIMARY KEY,
    trained_at INTEGER NOT NULL,
    info       TEXT NOT NULL,
    forest     TEXT
);
"#,
    r#"
-- Migrator: the exact source version a move copies and then deletes (versioned buckets).
ALTER TABLE tasks ADD COLUMN src_version TEXT;
"#,
    r#"
-- Unfinished tasks by id: what workers claim and the planner treats as busy. Finished tasks
-- pile up over weeks; without this a claim walked all of them, holding the writer. The WHERE
-- must read exactly as the queries' `state NOT IN` (TaskState::sql(&FINISHED)) for SQLite to
-- use it (tested).
CREATE INDEX tasks_open ON tasks(id) WHERE state NOT IN ('done', 'failed', 'cancelled');
"#,
    r#"
-- Inventory: where a scan is, kept with every page it registers, so a restart resumes after the
-- last key registered instead of listing a bucket of millions again. `tier` is the tier being
-- listed (NULL before the first page), `after` the last key registered on it.
CREATE TABLE inventory_scans (
    id         INTEGER PRIMARY KEY,
    started_ms INTEGER NOT NULL,
    state      TEXT NOT NULL,
    tier       TEXT,
    after      TEXT,
    listed     INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL DEFAULT 0,
    finished_ms INTEGER
);
-- Which scan last listed an object and on which tiers (comma-separated, in listing order): an
-- object listed on two tiers in one scan is a duplicate, found in the store rather than in a map
-- of every key listed, so a scan's memory does not grow with the bucket and survives a restart.
ALTER TABLE objects ADD COLUMN scan_id INTEGER;
ALTER TABLE objects ADD COLUMN scan_tiers TEXT;
CREATE INDEX objects_scan_duplicates ON objects(scan_id) WHERE instr(scan_tiers, ',') > 0;
"#,
    r#"
-- Several nodes on one store (PostgreSQL; the tables exist on SQLite too, where one node never
-- uses them). A task's owner is the node whose worker claimed it, until `lease_until` (ms on the
-- database's clock); a task of a node that stopped renewing is claimed by another.
ALTER TABLE tasks ADD COLUMN owner TEXT;
ALTER TABLE tasks ADD COLUMN lease_until INTEGER;
-- Every node's heartbeat and what it reports of itself (JSON): the cluster's nodes view.
CREATE TABLE nodes (
    id         TEXT PRIMARY KEY,
    started_ms INTEGER NOT NULL,
    seen_ms    INTEGER NOT NULL,
    info       TEXT NOT NULL
);
-- A lease per topic partition: only its owner consumes it and commits its offsets.
CREATE TABLE partition_leases (
    source    TEXT NOT NULL,
    partition INTEGER NOT NULL,
    owner     TEXT,
    until_ms  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, partition)
);
"#,
    r#"
-- What every ingest batch adds to is kept per node and summed (or, for engine time, maxed) on
-- read, so several nodes' batches never wait on one row (on PostgreSQL a row stays locked to
-- its transaction's end). SQLite has one node, '', and keeps one tier-totals row per tier.
CREATE TABLE counters_by_node (
    name  TEXT NOT NULL,
    node  TEXT NOT NULL DEFAULT '',
    value INTEGER NOT NULL,
    PRIMARY KEY (name, node)
) WITHOUT ROWID;
INSERT INTO counters_by_node(name, node, value) SELECT name, '', value FROM counters;
DROP TABLE counters;
ALTER TABLE counters_by_node RENAME TO counters;
CREATE TABLE engine_clock (
    node TEXT PRIMARY KEY,
    ms   INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO engine_clock(node, ms)
    SELECT '', CAST(value AS INTEGER) FROM settings WHERE name = 'engine_time_ms';
DELETE FROM settings WHERE name = 'engine_time_ms';
"#,
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies every migration newer than the file's version, each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > VERSION {
        return Err(StoreError::TooNew {
            found: current,
            supported: VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::debug!(target: "dim::store", version = i + 1, "schema step applied");
    }
    // One line a person reads: a new store, or an old one brought up to date.
    if current == 0 {
        tracing::info!(target: "dim::store", schema = VERSION, "store created");
    } else if current < VERSION {
        tracing::info!(target: "dim::store", from = current, to = VERSION, "store schema migrated");
    }
    Ok(())
}
