//! The replay's labelled training samples, kept as the live engine keeps its history: an even
//! share of every snapshot within the retention (the same objects at every time), so that a
//! store of millions still trains on samples further apart than a horizon.

use std::collections::VecDeque;

use crate::engine::clock::Millis;
use crate::engine::model::dataset::Sample;
use crate::engine::store::training::{SHARE_BUCKETS, share_bucket};

/// Labelled samples, oldest first, at most `limit`.
pub struct LabelledPool {
    samples: VecDeque<Sample>,
    limit: usize,
    retention_ms: Millis,
    /// Samples of objects whose hash bucket is below this are kept; halved whenever the pool
    /// outgrows `limit`, so every snapshot keeps the same share.
    keep: i64,
}

impl LabelledPool {
    pub fn new(limit: usize, retention_ms: Millis) -> Self {
        Self {
            samples: VecDeque::new(),
            limit: limit.max(1),
            retention_ms,
            keep: SHARE_BUCKETS,
        }
    }

    /// Adds a sample labelled by `now`; drops those older than the retention, and halves the
    /// share while the pool holds more than its limit.
    pub fn push(&mut self, sample: Sample, now: Millis) {
        let oldest = now.saturating_sub(self.retention_ms);
        while self.samples.front().is_some_and(|s| s.ts < oldest) {
            self.samples.pop_front();
        }
        if share_bucket(sample.object_id) >= self.keep {
            return;
        }
        self.samples.push_back(sample);
        while self.samples.len() > self.limit && self.keep > 1 {
            self.keep /= 2;
            let keep = self.keep;
            self.samples.retain(|s| share_bucket(s.object_id) < keep);
        }
        // One bucket can still hold more than the limit (a tiny limit): the oldest go.
        while self.samples.len() > self.limit {
            self.samples.pop_front();
        }
    }

    pub fn samples(&mut self) -> &[Sample] {
        self.samples.make_contiguous()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Millis = 3_600_000;

    fn sample(object_id: i64, ts: Millis) -> Sample {
        Sample {
            ts,
            object_id,
            x: Default::default(),
            later: 0,
        }
    }

    /// 48 hourly snapshots of 5,000 objects into a pool of 10,000: the newest 10,000 would be the
    /// last two snapshots; the pool keeps about as many of every snapshot, the same objects each
    /// time.
    #[test]
    fn every_snapshot_keeps_an_even_share() {
        let mut pool = LabelledPool::new(10_000, 1000 * HOUR);
        for t in 0..48 {
            for id in 1..=5000 {
                pool.push(sample(id, t * HOUR), t * HOUR);
            }
        }
        let s = pool.samples();
        assert!(s.len() > 2_500 && s.len() <= 10_000, "{}", s.len());
        let mut per_ts = std::collections::BTreeMap::new();
        for x in s.iter() {
            per_ts.entry(x.ts).or_insert_with(Vec::new).push(x.object_id);
        }
        assert_eq!(per_ts.len(), 48);
        let first = per_ts.values().next().unwrap().clone();
        assert!(
            per_ts.values().all(|ids| *ids == first),
            "the same objects at every time"
        );
    }

    #[test]
    fn samples_past_the_retention_are_dropped() {
        let mut pool = LabelledPool::new(1_000, 10 * HOUR);
        for t in 0..30 {
            pool.push(sample(1, t * HOUR), t * HOUR);
        }
        let s = pool.samples();
        assert_eq!(s.first().unwrap().ts, 19 * HOUR);
        assert_eq!(s.len(), 11);
    }
}
