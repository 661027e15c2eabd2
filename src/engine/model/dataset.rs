//! Training samples: feature snapshots at past times t, labelled with what happened in (t, t+H].

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::features::{N, StatsRow, features};
use super::forecast::{self, Observed, State};
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

/// Past states for the learned forecast: up to `limit` history snapshots at random (over the
/// whole retention, not only the newest: long windows need old samples), each with the reads
/// that followed it within each window that ended by `now`, counted from the object's later
/// snapshots and its current row (exact since its last access). Only the sampled objects'
/// snapshots are read, each through the history's primary key.
pub fn forecast_samples(conn: &Connection, now: Millis, limit: usize) -> Result<Vec<Observed>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT object_id, ts, size, first_seen, last_access, reads, writes, h1, h24, h168, hour_sin, hour_cos
         FROM history WHERE ts <= ?1 ORDER BY random() LIMIT ?2",
    )?;
    let picked: Vec<(i64, Millis, StatsRow)> = stmt
        .query_map(params![now, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, row_from(r, 2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut trails: HashMap<i64, (Vec<(Millis, u64)>, u16)> = HashMap::new();
    for (id, _, _) in &picked {
        if let std::collections::hash_map::Entry::Vacant(e) = trails.entry(*id) {
            e.insert(trail(conn, *id)?);
        }
    }
    let mut out: Vec<Observed> = picked
        .into_iter()
        .map(|(id, ts, row)| {
            let (t, group) = &trails[&id];
            // Cumulative reads at `x`: the latest point known at or before it.
            let at = |x: Millis| {
                t[..t.partition_point(|(ts, _)| *ts <= x)]
                    .last()
                    .map_or(row.reads, |p| p.1)
            };
            let outcome = forecast::outcome(State::of(&row, ts).in_group(*group), ts, now, |a, b| {
                at(b).saturating_sub(at(a)).min(u64::from(u32::MAX)) as u32
            });
            Observed {
                outcome,
                row,
                ts,
                object: id as u64,
            }
        })
        .collect();
    out.sort_by_key(|o| o.ts);
    Ok(out)
}

/// An object's cumulative reads over time: its snapshots, and its current row as the count at
/// its last access (none once it is deleted); and its siblings' group (of its key, while it
/// exists).
fn trail(conn: &Connection, id: i64) -> Result<(Vec<(Millis, u64)>, u16), StoreError> {
    let mut snaps = conn.prepare_cached("SELECT ts, reads FROM history WHERE object_id = ?1 ORDER BY ts")?;
    let mut t: Vec<(Millis, u64)> = snaps
        .query_map([id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
        .collect::<Result<_, _>>()?;
    let mut current = conn.prepare_cached("SELECT last_access, reads, key FROM objects WHERE id = ?1")?;
    let now: Option<(Option<Millis>, i64, String)> = current
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let group = now.as_ref().map_or(0, |(_, _, key)| forecast::group_of(key));
    if let Some((Some(at), reads, _)) = now {
        let i = t.partition_point(|(ts, _)| *ts <= at);
        t.insert(i, (at, reads.max(0) as u64));
    }
    Ok((t, group))
}
