//! Training samples: feature snapshots at past times t, labelled with what happened in (t, t+H].

use std::collections::HashMap;

use super::features::{N, features};
use super::forecast::{self, Observed, State};
use crate::clock::Millis;
use crate::store::{Connection, StoreError, training};

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

/// The newest `limit` samples whose horizon has fully passed by `now`, oldest first.
/// Features use only the snapshot at `t`; the label uses only snapshots at or before `t + H`
/// (the latest one, which carries the cumulative count at that time).
pub fn samples(conn: &Connection, now: Millis, horizon_ms: Millis, limit: usize) -> Result<Vec<Sample>, StoreError> {
    let mut v: Vec<Sample> = training::labelled(conn, now, horizon_ms, limit)?
        .into_iter()
        .map(|l| {
            let now_count = (l.row.reads + l.row.writes) as i64;
            Sample {
                ts: l.ts,
                object_id: l.object_id,
                x: features(&l.row, l.ts),
                later: (l.count_at_horizon - now_count).clamp(0, i64::from(u32::MAX)) as u32,
            }
        })
        .collect();
    v.reverse();
    Ok(v)
}

/// Past states for the learned forecast: up to `limit` history snapshots at random (over the
/// whole retention, not only the newest: long windows need old samples), each with the reads
/// that followed it within each window that ended by `now`, counted from the object's later
/// snapshots and its current row (exact since its last access). Only the sampled objects'
/// snapshots are read, each through the history's primary key.
pub fn forecast_samples(conn: &Connection, now: Millis, limit: usize) -> Result<Vec<Observed>, StoreError> {
    let picked = training::random_states(conn, now, limit)?;
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
    let mut t = training::snapshots_of(conn, id)?;
    let now = training::current_reads(conn, id)?;
    let group = now.as_ref().map_or(0, |(key, _, _)| forecast::group_of(key));
    if let Some((_, Some(at), reads)) = now {
        let i = t.partition_point(|(ts, _)| *ts <= at);
        t.insert(i, (at, reads));
    }
    Ok((t, group))
}
