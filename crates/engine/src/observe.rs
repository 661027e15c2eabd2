//! Durations the engine records for its metrics histograms (ingest batches, moves, solves), bounded until drained.

use crate::sync;
use std::sync::Mutex;

/// Samples kept between two drains at most; older ones are dropped (a scrape interval never
/// holds this many, and without a scraper memory stays bounded).
const KEEP: usize = 10_000;

/// Observations of one duration, in seconds, waiting for the metrics endpoint to take them.
#[derive(Debug, Default)]
pub struct Samples(Mutex<Vec<f64>>);

impl Samples {
    pub fn push(&self, secs: f64) {
        let mut v = sync::lock(&self.0);
        if v.len() >= KEEP {
            v.drain(..KEEP / 2);
        }
        v.push(secs);
    }

    pub fn drain(&self) -> Vec<f64> {
        std::mem::take(&mut *sync::lock(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_until_drained() {
        let s = Samples::default();
        for i in 0..(KEEP + 10) {
            s.push(i as f64);
        }
        let v = s.drain();
        assert!(v.len() <= KEEP);
        assert_eq!(v.last().copied(), Some((KEEP + 9) as f64));
        assert!(s.drain().is_empty());
    }
}
