//! What the forecast knows of an object at a time: reads so far, hours idle, age, size, its
//! siblings (the group of keys sharing its top-level prefix and extension); and the cells of
//! ever finer strata it falls in (idle; × reads; × siblings; × idle over its usual gap; × size).

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::model::features::StatsRow;

const HOUR_MS: f64 = 3_600_000.0;

/// An object's state as the forecast sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Reads (GET, HEAD) so far.
    pub reads: u64,
    /// Hours since the last access (read or write).
    pub idle_h: f64,
    /// Hours since it was first seen.
    pub age_h: f64,
    pub size: u64,
    /// Its siblings' group (`group_of` its key): objects written by the same application
    /// (`logs/*.gz`, `uploads/*.bin`) tend to share a fate at the same age.
    #[serde(default)]
    pub group: u16,
}

/// Groups of siblings told apart (keys hash into this many).
pub const GROUPS: u32 = 1024;

/// The siblings' group of `key`: its first path segment and its extension, hashed (FNV-1a, so
/// the same key lands in the same group in every build and a persisted forecast stays valid).
pub fn group_of(key: &str) -> u16 {
    let key = key.trim_start_matches('/');
    let (top, rest) = key.split_once('/').unwrap_or(("", key));
    let name = rest.rsplit('/').next().unwrap_or(rest);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("");
    let mut h: u32 = 0x811c_9dc5;
    for b in top
        .bytes()
        .chain([b'|'])
        .chain(ext.bytes().map(|b| b.to_ascii_lowercase()))
    {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    (h % GROUPS) as u16
}

impl State {
    /// The state of `row` at `t`.
    pub fn of(row: &StatsRow, t: Millis) -> Self {
        let hours = |from: Option<Millis>| from.map_or(0.0, |f| ((t - f).max(0) as f64) / HOUR_MS);
        let age_h = hours(row.first_seen);
        Self {
            reads: row.reads,
            idle_h: if row.last_access.is_some() {
                hours(row.last_access)
            } else {
                age_h
            },
            age_h,
            size: row.size,
            group: 0,
        }
    }

    /// The same state, among the siblings of `key`.
    pub fn with_key(self, key: &str) -> Self {
        self.in_group(group_of(key))
    }

    pub fn in_group(self, group: u16) -> Self {
        Self { group, ..self }
    }

    /// The same object `hours` later, nothing having happened to it.
    pub fn later(self, hours: f64) -> Self {
        Self {
            idle_h: self.idle_h + hours,
            age_h: self.age_h + hours,
            ..self
        }
    }

    /// Its idle band: 0 (idle under an hour) to `IDLE_BANDS - 1` (90 days or more).
    pub fn idle_band(&self) -> usize {
        bucket(self.idle_h, &IDLE_EDGES_H) as usize
    }

    /// The same object as idle as the start of idle band `band` (no idler than now).
    pub fn in_idle_band(self, band: usize) -> Self {
        let from = if band == 0 { 0.0 } else { IDLE_EDGES_H[band - 1] };
        Self {
            idle_h: self.idle_h.min(from),
            ..self
        }
    }

    /// Hours until it is idle long enough to enter the next idle band (infinite in the last).
    pub fn hours_left_in_idle_band(&self) -> f64 {
        IDLE_EDGES_H
            .iter()
            .find(|e| **e > self.idle_h)
            .map_or(f64::INFINITY, |e| e - self.idle_h)
    }

    /// Its cell at each level, coarsest first (level 0 is everything).
    pub fn cells(&self) -> [u32; LEVELS] {
        let idle = bucket(self.idle_h, &IDLE_EDGES_H);
        let reads = bucket(self.reads as f64, &READ_EDGES);
        // Hours idle over the mean gap between its accesses: "overdue" against its own habit.
        let gap = self.age_h.max(1.0 / 60.0) / (self.reads.max(1) as f64);
        let overdue = bucket(self.idle_h / gap, &OVERDUE_EDGES);
        let size = bucket(self.size as f64, &SIZE_EDGES);
        let l1 = idle;
        let l2 = l1 * FAN[2] + reads;
        let l3 = l2 * FAN[3] + u32::from(self.group) % GROUPS;
        let l4 = l3 * FAN[4] + overdue;
        let l5 = l4 * FAN[5] + size;
        [
            0,
            (1 << 28) | l1,
            (2 << 28) | l2,
            (3 << 28) | l3,
            (4 << 28) | l4,
            (5 << 28) | l5,
        ]
    }
}

/// Strata from everything (0) to idle × reads × siblings × overdue × size (5).
pub const LEVELS: usize = 6;
/// How many cells of level `l` each cell of level `l - 1` holds (level 1: the idle bands).
pub const FAN: [u32; LEVELS] = [1, 8, 16, GROUPS, 8, 8];
/// Idle bands: under 1 h, 6 h, a day, 3 days, a week, 30 days, 90 days, and beyond.
pub const IDLE_BANDS: usize = IDLE_EDGES_H.len() + 1;

const IDLE_EDGES_H: [f64; 7] = [1.0, 6.0, 24.0, 72.0, 168.0, 720.0, 2160.0];
const READ_EDGES: [f64; 6] = [1.0, 2.0, 3.0, 5.0, 9.0, 17.0];
const OVERDUE_EDGES: [f64; 3] = [0.5, 2.0, 8.0];
const SIZE_EDGES: [f64; 3] = [65_536.0, 1_048_576.0, 16_777_216.0];

/// Index of the first edge above `v` (the number of edges at or below it).
fn bucket(v: f64, edges: &[f64]) -> u32 {
    edges.iter().take_while(|e| v >= **e).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_nest_and_follow_idle_time() {
        let s = State {
            reads: 3,
            idle_h: 30.0,
            age_h: 40.0,
            size: 2_000_000,
            group: group_of("logs/2026/11/app.log.gz"),
        };
        let c = s.cells();
        assert_eq!(c[0], 0);
        assert_eq!(c[1] & 0xfff_ffff, 3, "30 h idle: the 1–3 day bucket");
        assert_ne!(s.later(200.0).cells()[1], c[1]);
        assert_eq!(s.hours_left_in_idle_band(), 42.0, "72 h starts the next band");
        assert_eq!(s.later(3000.0).hours_left_in_idle_band(), f64::INFINITY);
        assert_eq!(s.later(0.1).cells(), c);
        assert_eq!(bucket(0.0, &READ_EDGES), 0);
        assert_eq!(bucket(17.0, &READ_EDGES), 6);
        assert_ne!(
            s.in_group(group_of("thumbs/a.jpg")).cells()[3],
            c[3],
            "siblings split at level 3"
        );
        assert_eq!(s.in_group(group_of("thumbs/a.jpg")).cells()[2], c[2]);
    }

    #[test]
    fn siblings_share_a_prefix_and_an_extension() {
        assert_eq!(group_of("logs/2026/11/a.gz"), group_of("/logs/2027/b.GZ"));
        assert_ne!(group_of("logs/a.gz"), group_of("logs/a.json"));
        assert_ne!(group_of("logs/a.gz"), group_of("backups/a.gz"));
        assert_eq!(group_of("readme"), group_of("license"), "no prefix, no extension");
        assert!(u32::from(group_of("x/y.z")) < GROUPS);
    }
}
