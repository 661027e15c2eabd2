//! A batch's per-key effects on PostgreSQL, as whole-batch statements over arrays (`unnest`):
//! one round trip per kind of effect instead of two per key.

use std::collections::HashMap;

use super::StoreError;
use super::conn::PgConn;
use super::effects::{Accesses, KeyEffect};
use crate::clock::Millis;

/// The batch's accesses as columns, one array per field, in `COLUMNS` order.
#[derive(Default)]
struct Columns {
    key: Vec<String>,
    last_put: Vec<Option<Millis>>,
    first_ts: Vec<Millis>,
    last_ts: Vec<Millis>,
    reads: Vec<i64>,
    writes: Vec<i64>,
    h1: Vec<Option<f64>>,
    h24: Vec<Option<f64>>,
    h168: Vec<Option<f64>>,
    hour_sin: Vec<f64>,
    hour_cos: Vec<f64>,
    size: Vec<Option<i64>>,
}

impl Columns {
    fn of(rows: &[(&str, &Accesses)]) -> Columns {
        let mut c = Columns::default();
        for (key, a) in rows {
            c.push(key, a);
        }
        c
    }

    fn push(&mut self, key: &str, a: &Accesses) {
        self.key.push(key.to_string());
        self.last_put.push(a.last_put);
        self.first_ts.push(a.first_ts);
        self.last_ts.push(a.last_ts);
        self.reads.push(a.reads);
        self.writes.push(a.writes);
        self.h1.push(a.h[0]);
        self.h24.push(a.h[1]);
        self.h168.push(a.h[2]);
        self.hour_sin.push(a.hour_sin);
        self.hour_cos.push(a.hour_cos);
        self.size.push(a.size.map(|s| s as i64));
    }

    fn params(&self) -> [&(dyn postgres::types::ToSql + Sync); 12] {
        [
            &self.key,
            &self.last_put,
            &self.first_ts,
            &self.last_ts,
            &self.reads,
            &self.writes,
            &self.h1,
            &self.h24,
            &self.h168,
            &self.hour_sin,
            &self.hour_cos,
            &self.size,
        ]
    }
}

/// The batch as a table `b`: $1..$12 are `Columns`' arrays.
const BATCH: &str = "unnest($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[], $6::BIGINT[],
                $7::FLOAT8[], $8::FLOAT8[], $9::FLOAT8[], $10::FLOAT8[], $11::FLOAT8[], $12::BIGINT[])
         AS b(key, last_put, first_ts, last_ts, reads, writes, h1, h24, h168, hour_sin, hour_cos, size)";

/// What accesses add to a known row, as `ingest::accesses_set!` does on SQLite; $13 is now.
fn update_sql() -> String {
    format!(
        "UPDATE objects o SET
             size = coalesce(b.size, o.size),
             last_modified = coalesce(max(o.last_modified, b.last_put), o.last_modified, b.last_put),
             first_seen = coalesce(min(o.first_seen, b.first_ts), o.first_seen, b.first_ts),
             last_access = coalesce(max(o.last_access, b.last_ts), o.last_access, b.last_ts),
             reads = o.reads + b.reads,
             writes = o.writes + b.writes,
             h1 = lse(o.h1, b.h1),
             h24 = lse(o.h24, b.h24),
             h168 = lse(o.h168, b.h168),
             hour_sin = o.hour_sin + b.hour_sin,
             hour_cos = o.hour_cos + b.hour_cos,
             stats_updated = $13
         FROM {BATCH} WHERE o.key = b.key RETURNING o.key"
    )
}

/// Rows for keys first seen in this batch; a key another writer inserted meanwhile is returned
/// missing and updated on the next round.
fn insert_sql() -> String {
    format!(
        "INSERT INTO objects(key, size, last_modified, created, first_seen, last_access, reads, writes,
                             h1, h24, h168, hour_sin, hour_cos, stats_updated)
         SELECT b.key, coalesce(b.size, 0), b.last_put, b.first_ts, b.first_ts, b.last_ts, b.reads, b.writes,
                b.h1, b.h24, b.h168, b.hour_sin, b.hour_cos, $13
         FROM {BATCH} ON CONFLICT (key) DO NOTHING RETURNING key"
    )
}

/// Applies per-key effects (inside the batch's transaction); returns how many objects were
/// deleted and how long they lived in all, as `ingest::write_effects` does on SQLite.
pub(super) fn write_effects(c: &PgConn, effects: &[KeyEffect<'_>], now_ms: Millis) -> Result<(i64, i64), StoreError> {
    let (update, insert) = (c.statement(&update_sql())?, c.statement(&insert_sql())?);
    super::conn::off_runtime(|| apply(c, &update, &insert, effects, now_ms))
}

fn apply(
    c: &PgConn,
    update: &postgres::Statement,
    insert: &postgres::Statement,
    effects: &[KeyEffect<'_>],
    now_ms: Millis,
) -> Result<(i64, i64), StoreError> {
    let mut client = c.client()?;
    let deleted_at: HashMap<&str, Millis> = effects
        .iter()
        .filter_map(|e| e.deleted_at.map(|t| (e.key, t)))
        .collect();
    let (mut deleted, mut lived_ms) = (0i64, 0i64);
    if !deleted_at.is_empty() {
        let keys: Vec<&str> = deleted_at.keys().copied().collect();
        for r in client.query(
            "DELETE FROM objects WHERE key = ANY($1) RETURNING key, first_seen",
            &[&keys],
        )? {
            let key: &str = r.try_get(0)?;
            let first: Option<Millis> = r.try_get(1)?;
            deleted += 1;
            let at = deleted_at.get(key).copied().unwrap_or(now_ms);
            lived_ms += first.map_or(0, |f| (at - f).max(0));
        }
    }
    let mut todo: Vec<(&str, &Accesses)> = effects.iter().filter_map(|e| Some((e.key, e.accesses?))).collect();
    // Two rounds suffice unless another writer inserts and deletes the same keys meanwhile.
    for sql in [update, insert].into_iter().cycle() {
        if todo.is_empty() {
            break;
        }
        let cols = Columns::of(&todo);
        let mut params = cols.params().to_vec();
        params.push(&now_ms);
        let done: std::collections::HashSet<String> = client
            .query(sql, &params)?
            .iter()
            .map(|r| r.try_get::<_, String>(0))
            .collect::<Result<_, _>>()?;
        todo.retain(|(k, _)| !done.contains(*k));
    }
    Ok((deleted, lived_ms))
}
