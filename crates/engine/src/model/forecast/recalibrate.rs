//! Recalibration of the learned chances on objects the strata never saw: fine strata fitted on
//! few objects read too little of what follows (a stratum whose objects were never read says
//! "almost never" of the next object in it), so the chances are mapped through what held-out
//! objects with such chances did — binned finely where decisions are made (small chances),
//! shrunk towards the identity where a bin holds few outcomes, and kept monotone.

use serde::{Deserialize, Serialize};

/// Edges of the bins of predicted chance: fine below 10 %, where a move's fate is decided.
const EDGES: [f64; 16] = [
    0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.98, 1.0,
];
/// Pseudo-outcomes at the predicted chance itself in each bin: a bin's own outcomes outweigh
/// them once it holds more than this many.
const SHRINK: f64 = 20.0;

/// A monotone map from predicted chance to the chance observed, as (predicted, observed) knots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recalibration {
    knots: Vec<(f64, f64)>,
}

impl Recalibration {
    /// Fits the map on predictions `p` and what happened `y`; None without outcomes.
    pub fn fit(p: &[f64], y: &[bool]) -> Option<Self> {
        let bins = EDGES.len() - 1;
        let (mut n, mut sum_p, mut hits) = (vec![0.0; bins], vec![0.0; bins], vec![0.0; bins]);
        for (p, y) in p.iter().zip(y) {
            let p = p.clamp(0.0, 1.0);
            let b = EDGES[1..].iter().position(|e| p < *e).unwrap_or(bins - 1);
            n[b] += 1.0;
            sum_p[b] += p;
            hits[b] += f64::from(u8::from(*y));
        }
        // (mean predicted, shrunk observed, weight) per bin that holds outcomes.
        let mut blocks: Vec<(f64, f64, f64)> = (0..bins)
            .filter(|b| n[*b] > 0.0)
            .map(|b| {
                let x = sum_p[b] / n[b];
                (x, (hits[b] + SHRINK * x) / (n[b] + SHRINK), n[b] + SHRINK)
            })
            .collect();
        if blocks.is_empty() {
            return None;
        }
        // Pool adjacent violators: a higher predicted chance never maps lower.
        let mut pooled: Vec<(f64, f64, f64)> = Vec::with_capacity(blocks.len());
        for b in blocks.drain(..) {
            pooled.push(b);
            while pooled.len() > 1 && pooled[pooled.len() - 2].1 > pooled[pooled.len() - 1].1 {
                let (x2, y2, w2) = pooled.pop().unwrap_or_default();
                let (x1, y1, w1) = pooled.pop().unwrap_or_default();
                let w = w1 + w2;
                pooled.push(((x1 * w1 + x2 * w2) / w, (y1 * w1 + y2 * w2) / w, w));
            }
        }
        Some(Self {
            knots: pooled.into_iter().map(|(x, y, _)| (x, y)).collect(),
        })
    }

    /// The observed chance for predicted chance `p`: linear between knots, proportional below
    /// the first (nothing predicted stays nothing), towards certainty above the last.
    pub fn apply(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0);
        let (Some(first), Some(last)) = (self.knots.first(), self.knots.last()) else {
            return p;
        };
        if p <= first.0 {
            return if first.0 > 0.0 { p * first.1 / first.0 } else { first.1 };
        }
        if p >= last.0 {
            let share = if last.0 < 1.0 {
                (p - last.0) / (1.0 - last.0)
            } else {
                1.0
            };
            return last.1 + (1.0 - last.1) * share;
        }
        let i = self.knots.partition_point(|k| k.0 <= p);
        let ((x0, y0), (x1, y1)) = (self.knots[i - 1], self.knots[i]);
        let share = if x1 > x0 { (p - x0) / (x1 - x0) } else { 1.0 };
        (y0 + (y1 - y0) * share).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_under_confident_low_band_is_lifted_and_the_map_stays_monotone() {
        // 1000 objects predicted 1 % of which 5 % were read; 1000 predicted 50 %, half read.
        let mut p = vec![0.01; 1000];
        let mut y: Vec<bool> = (0..1000).map(|i| i % 20 == 0).collect();
        p.extend(vec![0.5; 1000]);
        y.extend((0..1000).map(|i| i % 2 == 0));
        let r = Recalibration::fit(&p, &y).unwrap();
        let low = r.apply(0.01);
        assert!((low - (50.0 + 20.0 * 0.01) / 1020.0).abs() < 1e-9, "{low}");
        assert!((r.apply(0.5) - 0.5).abs() < 1e-9);
        assert!(r.apply(0.005) < low && r.apply(0.005) > 0.0);
        assert_eq!(r.apply(0.0), 0.0);
        assert!((r.apply(1.0) - 1.0).abs() < 1e-12);
        let xs: Vec<f64> = (0..=100).map(|i| f64::from(i) / 100.0).collect();
        assert!(xs.windows(2).all(|w| r.apply(w[0]) <= r.apply(w[1]) + 1e-12));
    }

    #[test]
    fn violators_are_pooled() {
        // Higher predictions read less often than lower ones: one pooled level.
        let p = [vec![0.3; 500], vec![0.6; 500]].concat();
        let y: Vec<bool> = (0..1000)
            .map(|i| if i < 500 { i % 2 == 0 } else { i % 5 == 0 })
            .collect();
        let r = Recalibration::fit(&p, &y).unwrap();
        assert_eq!(r.knots.len(), 1, "{:?}", r.knots);
        // Both bins' shrunk outcomes, weighted by outcomes + pseudo-outcomes, at their mean.
        let (x, y) = r.knots[0];
        assert!(
            (x - 0.45).abs() < 1e-9 && (y - (250.0 + 6.0 + 100.0 + 12.0) / 1040.0).abs() < 1e-9,
            "{x} {y}"
        );
        assert!(r.apply(0.3) < r.apply(0.6));
    }
}
