//! Read-side queries behind `dim status` and the snapshot; each is an index look-up, never a scan of objects.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::conn::Row;
use super::stats::StatsRow;
use super::stats::row_from;
use super::tasks::TaskState;
use super::{Connection, DECAY_TAUS_SECS, StoreError, decayed_count};
use crate::clock::Millis;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierTotals {
    pub objects: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTotals {
    pub ingested: u64,
    pub rejected: u64,
    /// Rejections per reason label.
    pub rejected_by_reason: BTreeMap<String, u64>,
}

/// What the store holds, in totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreSummary {
    /// Every object known, placed or not.
    pub objects: u64,
    pub bytes: u64,
    /// Objects seen in events but on no tier yet.
    pub unplaced: u64,
    pub tiers: BTreeMap<String, TierTotals>,
    pub events: EventTotals,
    /// Migration tasks per state, every state present.
    pub tasks: BTreeMap<TaskState, u64>,
}

pub fn summary(conn: &Connection) -> Result<StoreSummary, StoreError> {
    let mut s = StoreSummary::default();
    for state in TaskState::ALL {
        s.tasks.insert(state, 0);
    }
    let rows = conn.rows(
        "SELECT tier, CAST(sum(objects) AS BIGINT), CAST(sum(bytes) AS BIGINT) FROM tier_totals GROUP BY tier",
        &[],
        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?)),
    )?;
    for (tier, objects, bytes) in rows {
        let t = TierTotals {
            objects: objects.max(0) as u64,
            bytes: bytes.max(0) as u64,
        };
        s.objects += t.objects;
        s.bytes += t.bytes;
        if tier.is_empty() {
            s.unplaced = t.objects;
        } else if t.objects > 0 {
            s.tiers.insert(tier, t);
        }
    }
    let rows = conn.rows(
        "SELECT name, CAST(sum(value) AS BIGINT) FROM counters GROUP BY name",
        &[],
        |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
    )?;
    for (name, value) in rows {
        let value = value.max(0) as u64;
        match name.as_str() {
            "events.ingested" => s.events.ingested = value,
            "events.rejected" => s.events.rejected = value,
            other => {
                if let Some(reason) = other.strip_prefix("events.rejected.") {
                    s.events.rejected_by_reason.insert(reason.to_string(), value);
                }
            }
        }
    }
    let rows = conn.rows("SELECT state, count(*) FROM tasks GROUP BY state", &[], |r| {
        Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
    })?;
    for (state, n) in rows {
        if let Some(state) = TaskState::parse(&state) {
            s.tasks.insert(state, n as u64);
        }
    }
    Ok(s)
}

/// One of the hottest objects, with its decayed access counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HotObject {
    pub key: String,
    pub tier: Option<String>,
    pub size: u64,
    /// Decayed accesses with a 1 h / 1 d time constant, at the snapshot's engine time.
    pub recent_1h: f64,
    pub recent_1d: f64,
    pub reads: u64,
    pub writes: u64,
    pub last_access: Option<Millis>,
    /// Predicted hotness from the serving model (filled in by the snapshot builder).
    pub p_hot: f64,
    /// Destination of the object's unfinished migration task, if any.
    pub planned_tier: Option<String>,
    pub pinned: bool,
}

/// The `k` objects with the highest 1-hour decayed access count, walking the heat index.
pub fn hottest(conn: &Connection, k: usize, now_ms: Millis) -> Result<Vec<HotObject>, StoreError> {
    Ok(hottest_with_stats(conn, k, now_ms)?
        .into_iter()
        .map(|(o, _)| o)
        .collect())
}

/// As `hottest`, with each object's stats row (for scoring it).
pub fn hottest_with_stats(
    conn: &Connection,
    k: usize,
    now_ms: Millis,
) -> Result<Vec<(HotObject, StatsRow)>, StoreError> {
    conn.rows(
        &format!(
            "SELECT {} FROM objects o WHERE h1 IS NOT NULL ORDER BY h1 DESC LIMIT ?1",
            object_columns()
        ),
        &[&(k as i64)],
        |r| hot_object(r, now_ms),
    )
}

/// The columns every object listing selects, in `hot_object`'s order.
pub(super) fn object_columns() -> String {
    format!(
        "key, tier, pinned,
         (SELECT t.dst_tier FROM tasks t WHERE t.key = o.key
            AND t.state NOT IN {} ORDER BY t.id DESC LIMIT 1),
         size, first_seen, last_access, reads, writes, h1, h24, h168, hour_sin, hour_cos",
        TaskState::sql(&TaskState::FINISHED)
    )
}

/// One row of `object_columns` as an object and its stats, counts decayed to `now_ms`.
pub(super) fn hot_object(r: &Row<'_, '_>, now_ms: Millis) -> Result<(HotObject, StatsRow), StoreError> {
    let stats = row_from(r, 4)?;
    Ok((
        HotObject {
            key: r.get(0)?,
            tier: r.get(1)?,
            size: stats.size,
            recent_1h: decayed_count(stats.h1, now_ms, DECAY_TAUS_SECS[0]),
            recent_1d: decayed_count(stats.h24, now_ms, DECAY_TAUS_SECS[1]),
            reads: stats.reads,
            writes: stats.writes,
            last_access: stats.last_access,
            p_hot: 0.0,
            planned_tier: r.get(3)?,
            pinned: r.get::<i64>(2)? != 0,
        },
        stats,
    ))
}
