//! The training history: periodic per-object stats snapshots, bounded by age and row count.

use super::{Connection, StoreError, get_setting, set_setting};
use crate::clock::Millis;
use crate::config::ModelConfig;

/// Decides when a snapshot is due and writes it.
#[derive(Debug)]
pub struct Sampler {
    every_ms: Millis,
    cold: u32,
    retention_ms: Millis,
    max_rows: u64,
    last_ms: Option<Millis>,
}

impl Sampler {
    pub fn new(m: &ModelConfig) -> Self {
        Self {
            every_ms: (m.sample_every_secs as Millis).saturating_mul(1000).max(1),
            cold: m.sample_cold,
            retention_ms: (m.history_retention_secs as Millis).saturating_mul(1000),
            max_rows: m.history_max_rows,
            last_ms: None,
        }
    }

    pub fn due(&self, now_ms: Millis) -> bool {
        self.last_ms.is_none_or(|last| now_ms >= last + self.every_ms)
    }

    /// Snapshots every object touched since the previous snapshot plus up to `sample_cold`
    /// random others (the untouched ones are the negatives a model needs), then trims.
    pub fn sample(&mut self, conn: &mut Connection, now_ms: Millis) -> Result<u64, StoreError> {
        let tx = conn.begin()?;
        let last: Millis = match self.last_ms {
            Some(l) => l,
            None => get_setting(&tx, "history.last_sample_ms")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(Millis::MIN),
        };
        if now_ms < last + self.every_ms && last != Millis::MIN {
            self.last_ms = Some(last);
            return Ok(0);
        }
        let cols = "id, CAST(?1 AS BIGINT), reads, writes, h1, h24, h168, hour_sin, hour_cos, first_seen,
                    last_access, size";
        let into = "INSERT INTO history(object_id, ts, reads, writes, h1, h24, h168, hour_sin, hour_cos,
                                        first_seen, last_access, size)";
        let touched = tx.exec(
            &format!("{into} SELECT {cols} FROM objects WHERE stats_updated > ?2 ON CONFLICT DO NOTHING"),
            &[&now_ms, &last],
        )?;
        // The recursive CTE yields at least one row, so "no cold samples" must skip it.
        let cold = if self.cold == 0 {
            0
        } else {
            let random_id = tx.pick(
                "abs(random()) % (SELECT max(id) FROM objects) + 1",
                "floor(random() * (SELECT max(id) FROM objects))::BIGINT + 1",
            );
            tx.exec(
                &format!(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST(?2 AS BIGINT))
                     {into} SELECT {cols} FROM objects WHERE id IN (SELECT {random_id} FROM n)
                     ON CONFLICT DO NOTHING"
                ),
                &[&now_ms, &i64::from(self.cold)],
            )?
        };
        tx.exec(
            "DELETE FROM history WHERE ts < ?1",
            &[&now_ms.saturating_sub(self.retention_ms)],
        )?;
        let rows: i64 = tx.row("SELECT count(*) FROM history", &[], |r| r.get(0))?.unwrap_or(0);
        if rows as u64 > self.max_rows {
            // Drop whole oldest snapshots until under the bound.
            tx.exec(
                "DELETE FROM history WHERE ts <= (SELECT ts FROM history ORDER BY ts DESC LIMIT 1 OFFSET ?1)",
                &[&(self.max_rows as i64)],
            )?;
        }
        set_setting(&tx, "history.last_sample_ms", &now_ms.to_string())?;
        tx.commit()?;
        self.last_ms = Some(now_ms);
        tracing::debug!(target: "dim::history", touched, cold, "feature snapshot taken");
        Ok((touched + cold) as u64)
    }
}
