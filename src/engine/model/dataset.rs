//! Training samples: feature snapshots at past times t, labelled with what happened in (t, t+H].

use rusqlite::{Connection, params};

use super::features::{N, StatsRow, features};
use crate::engine::clock::Millis;
use crate::engine::store::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub ts: Millis,
    pub object_id: i64,
    pub x: [f64; N],
    /// Accesses in (ts, ts + H]; the sample is hot when they reach the label's k.
    pub later: u32,
}

impl Sample {
    pub fn is_hot(&self, k: u32) -> bool {
        self.later >= k
    }
}

pub fn row_from(r: &rusqlite::Row, at: usize) -> rusqlite::Result<StatsRow> {
    Ok(StatsRow {
        size: r.get::<_, i64>(at)?.max(0) as u64,
        first_seen: r.get(at + 1)?,
        last_access: r.get(at + 2)?,
        reads: r.get::<_, i64>(at + 3)?.max(0) as u64,
        writes: r.get::<_, i64>(at + 4)?.max(0) as u64,
        h1: r.get(at + 5)?,
        h24: r.get(at + 6)?,
        h168: r.get(at + 7)?,
        hour_sin: r.get(at + 8)?,
        hour_cos: r.get(at + 9)?,
    })
}

/// The newest `limit` samples whose horizon has fully passed by `now`, oldest first.
/// Features use only the snapshot at `t`; the label uses only snapshots at or before `t + H`
/// (the latest one, which carries the cumulative count at that time).
pub fn samples(conn: &Connection, now: Millis, horizon_ms: Millis, limit: usize) -> Result<Vec<Sample>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.object_id, h.ts, h.size, h.first_seen, h.last_access, h.reads, h.writes,
                h.h1, h.h24, h.h168, h.hour_sin, h.hour_cos,
                (SELECT f.reads + f.writes FROM history f
                  WHERE f.object_id = h.object_id AND f.ts <= h.ts + ?1
                  ORDER BY f.ts DESC LIMIT 1) AS later
         FROM history h INDEXED BY history_ts
         WHERE h.ts <= ?2 - ?1
         ORDER BY h.ts DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![horizon_ms, now, limit as i64], |r| {
        let ts: Millis = r.get(1)?;
        let row = row_from(r, 2)?;
        let later: i64 = r.get(12)?;
        let now_count = (row.reads + row.writes) as i64;
        Ok(Sample {
            ts,
            object_id: r.get(0)?,
            x: features(&row, ts),
            later: (later - now_count).clamp(0, i64::from(u32::MAX)) as u32,
        })
    })?;
    let mut v: Vec<Sample> = rows.collect::<Result<_, _>>()?;
    v.reverse();
    Ok(v)
}
