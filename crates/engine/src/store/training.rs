//! Reads of the training history: labelled past snapshots, past states at random, and one
//! object's cumulative reads over time.

use super::stats::{StatsRow, row_from};
use super::{Connection, StoreError};
use crate::clock::Millis;

/// A history snapshot with the object's access count at the end of its horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub object_id: i64,
    pub ts: Millis,
    pub row: StatsRow,
    /// Reads plus writes in the object's latest snapshot at or before `ts + horizon`.
    pub count_at_horizon: i64,
}

/// `share_bucket` of the object id in column (or parameter) `$id`, as SQL: one text for the
/// query and the test that holds it to the Rust.
macro_rules! share_bucket_sql {
    ($id:literal) => {
        concat!("((", $id, " * 2654435761) >> 16) % 65536")
    };
}

/// Up to `limit` snapshots whose horizon has fully passed by `now`, newest first. The label
/// uses only snapshots at or before `t + H` (the latest one carries the cumulative count then).
/// When there are more, an even share of every snapshot is taken, the same objects at every
/// time: the newest `limit` alone would come from the last snapshot or two of a large store,
/// less than a horizon apart, and a model's time split (train on the older, hold out the newer)
/// needs samples further apart than that.
pub fn labelled(conn: &Connection, now: Millis, horizon_ms: Millis, limit: usize) -> Result<Vec<Labelled>, StoreError> {
    let newest = now.saturating_sub(horizon_ms);
    // SQLite is held to the time index by name; PostgreSQL's planner chooses for itself.
    let by_ts = conn.pick("INDEXED BY history_ts", "");
    let total: i64 = conn
        .row(
            &format!("SELECT count(*) FROM history {by_ts} WHERE ts <= ?1"),
            &[&newest],
            |r| r.get(0),
        )?
        .unwrap_or(0);
    let keep = share_of(limit, total.max(0) as u64);
    let sql = format!(
        "SELECT h.object_id, h.ts, h.size, h.first_seen, h.last_access, h.reads, h.writes,
                h.h1, h.h24, h.h168, h.hour_sin, h.hour_cos,
                (SELECT f.reads + f.writes FROM history f
                  WHERE f.object_id = h.object_id AND f.ts <= h.ts + ?1
                  ORDER BY f.ts DESC LIMIT 1) AS later
         FROM history h {by_ts}
         WHERE h.ts <= ?2 AND {} < ?4
         ORDER BY h.ts DESC LIMIT ?3",
        share_bucket_sql!("h.object_id")
    );
    conn.rows(&sql, &[&horizon_ms, &newest, &(limit as i64), &keep], |r| {
        Ok(Labelled {
            object_id: r.get(0)?,
            ts: r.get(1)?,
            row: row_from(r, 2)?,
            count_at_horizon: r.get(12)?,
        })
    })
}

/// How many hash buckets object ids fall in: a sample keeps the objects of its first buckets.
pub const SHARE_BUCKETS: i64 = 1 << 16;

/// The hash bucket of an object id, as `labelled`'s SQL computes it (a multiplicative hash, so
/// neighbouring ids land far apart): the replay keeps its sample with the same rule.
pub fn share_bucket(object_id: i64) -> i64 {
    (object_id.wrapping_mul(2_654_435_761) >> 16).rem_euclid(SHARE_BUCKETS)
}

/// Of the hash buckets of object ids, how many to keep so that about `limit` of `total` rows
/// are kept (all of them when they fit).
fn share_of(limit: usize, total: u64) -> i64 {
    if total <= limit as u64 {
        return SHARE_BUCKETS;
    }
    ((limit as u128 * SHARE_BUCKETS as u128 / total as u128) as i64).max(1)
}

/// Up to `limit` history snapshots taken by `now`, at random over the whole retention (long
/// windows need old samples): object id, time, stats.
pub fn random_states(conn: &Connection, now: Millis, limit: usize) -> Result<Vec<(i64, Millis, StatsRow)>, StoreError> {
    conn.rows(
        "SELECT object_id, ts, size, first_seen, last_access, reads, writes, h1, h24, h168, hour_sin, hour_cos
         FROM history WHERE ts <= ?1 ORDER BY random() LIMIT ?2",
        &[&now, &(limit as i64)],
        |r| Ok((r.get(0)?, r.get(1)?, row_from(r, 2)?)),
    )
}

/// One object's snapshots as (time, cumulative reads), oldest first, read through the history's
/// primary key.
pub fn snapshots_of(conn: &Connection, object_id: i64) -> Result<Vec<(Millis, u64)>, StoreError> {
    conn.rows(
        "SELECT ts, reads FROM history WHERE object_id = ?1 ORDER BY ts",
        &[&object_id],
        |r| Ok((r.get(0)?, r.get::<i64>(1)?.max(0) as u64)),
    )
}

/// What the store holds now of an object (by its row id): key, last access and reads; `None`
/// once it is deleted.
pub fn current_reads(conn: &Connection, object_id: i64) -> Result<Option<(String, Option<Millis>, u64)>, StoreError> {
    conn.row(
        "SELECT key, last_access, reads FROM objects WHERE id = ?1",
        &[&object_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get::<i64>(2)?.max(0) as u64)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::testing::on_both_backends;

    on_both_backends!(
        a_large_history_is_sampled_across_every_labelled_snapshot,
        the_sql_and_the_rust_bucket_agree
    );

    const HOUR: Millis = 3_600_000;

    /// 24 hourly snapshots of 2,000 objects each, 6 h horizon, room for 5,000 samples: the
    /// newest 5,000 would span two and a half hours; the sample spans all 19 labelled
    /// snapshots (0 h to 18 h), about as many rows of each.
    fn a_large_history_is_sampled_across_every_labelled_snapshot(store: &Store) {
        let w = store.writer();
        w.exec_batch(&format!(
            "INSERT INTO history(object_id, ts, reads, writes, hour_sin, hour_cos, size)
             WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < 23),
                            o(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM o WHERE id < 2000)
             SELECT id, i * {HOUR}, i, 0, 0, 0, 1 FROM t, o"
        ))
        .unwrap();
        let got = labelled(&w, 24 * HOUR, 6 * HOUR, 5000).unwrap();
        assert!(got.len() <= 5000 && got.len() > 4000, "{}", got.len());
        let mut per_ts = std::collections::BTreeMap::new();
        for l in &got {
            *per_ts.entry(l.ts).or_insert(0) += 1;
            // Labelled by the latest snapshot by a horizon later (the last one is at 23 h).
            assert_eq!(l.count_at_horizon, (l.ts / HOUR + 6).min(23));
        }
        assert_eq!(per_ts.len(), 19, "{per_ts:?}");
        assert!(per_ts.values().all(|n| (200..=300).contains(n)), "{per_ts:?}");
        // When everything fits, everything is taken.
        assert_eq!(labelled(&w, 24 * HOUR, 6 * HOUR, 100_000).unwrap().len(), 19 * 2000);
    }

    /// The replay keeps its sample with `share_bucket`; the store's SQL must agree with it.
    fn the_sql_and_the_rust_bucket_agree(store: &Store) {
        let w = store.writer();
        for id in (1..200_000i64)
            .step_by(7)
            .chain([1 << 30, (1 << 31) - 1, 3_000_000_000])
        {
            let sql: i64 = w
                .row(
                    concat!("SELECT ", share_bucket_sql!("CAST(?1 AS BIGINT)")),
                    &[&id],
                    |r| r.get(0),
                )
                .unwrap()
                .unwrap();
            assert_eq!(sql, share_bucket(id), "object id {id}");
        }
    }
}
