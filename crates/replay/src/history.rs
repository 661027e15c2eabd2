//! What the replayed `dim` keeps to learn its forecast, as the live store keeps it: past states
//! of objects (sampled every `model.sample_every_secs`), and every read and delete after them, so
//! each state's outcome within each window is known exactly once the window has passed.

use std::collections::VecDeque;

use crate::engine::clock::Millis;
use crate::engine::model::features::StatsRow;
use crate::engine::model::forecast::{self, Observed, State};

/// Past states kept (the newest): enough for every stratum, bounded in memory.
const KEEP: usize = 200_000;
/// States sampled per sampling time: of random live objects, and as many of those just read.
pub const PER_TICK: usize = 48;

#[derive(Debug, Default)]
pub struct History {
    /// Per object: times of its reads, and of its deletes (each ends a life).
    reads: Vec<Vec<Millis>>,
    deaths: Vec<Vec<Millis>>,
    states: VecDeque<(u32, Millis, StatsRow)>,
}

impl History {
    pub fn new(objects: usize) -> Self {
        Self {
            reads: vec![Vec::new(); objects],
            deaths: vec![Vec::new(); objects],
            states: VecDeque::new(),
        }
    }

    pub fn read(&mut self, obj: usize, ts: Millis) {
        self.reads[obj].push(ts);
    }

    pub fn deleted(&mut self, obj: usize, ts: Millis) {
        self.deaths[obj].push(ts);
    }

    /// Keeps the state of `obj` at `t`.
    pub fn keep(&mut self, obj: u32, t: Millis, row: &StatsRow) {
        if self.states.len() >= KEEP {
            self.states.pop_front();
        }
        self.states.push_back((obj, t, row.clone()));
    }

    /// Reads of `obj` in (from, to], within the life it had at `from` (a delete ends it).
    fn reads_in(&self, obj: usize, from: Millis, to: Millis) -> u32 {
        let d = &self.deaths[obj];
        let end = d
            .get(d.partition_point(|x| *x <= from))
            .map_or(to, |death| to.min(*death));
        let r = &self.reads[obj];
        (r.partition_point(|x| *x <= end) - r.partition_point(|x| *x <= from)) as u32
    }

    /// Every kept state with what followed it by `now`; `groups` are the objects' siblings.
    pub fn observed(&self, now: Millis, groups: &[u16]) -> Vec<Observed> {
        self.states
            .iter()
            .map(|(obj, t, row)| Observed {
                outcome: forecast::outcome(
                    State::of(row, *t).in_group(groups.get(*obj as usize).copied().unwrap_or(0)),
                    *t,
                    now,
                    |a, b| self.reads_in(*obj as usize, a, b),
                ),
                row: row.clone(),
                ts: *t,
                object: u64::from(*obj),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_ends_the_life_whose_reads_are_counted() {
        let mut h = History::new(1);
        for t in [10, 20, 30, 50] {
            h.read(0, t);
        }
        h.deleted(0, 40);
        assert_eq!(h.reads_in(0, 0, 100), 3, "the read at 50 is of the next life");
        assert_eq!(h.reads_in(0, 40, 100), 1);
        assert_eq!(h.reads_in(0, 15, 30), 2);
    }
}
