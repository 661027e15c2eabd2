//! The baseline: p_hot from the recent decayed access rate, as a Poisson tail.

use super::features::{StatsRow, recent};
use crate::clock::Millis;

/// P(at least `k` accesses in the next `horizon_secs`) if accesses keep arriving at the rate
/// the 1-hour decayed count shows (a Poisson process).
pub fn p_hot(row: &StatsRow, t: Millis, k: u32, horizon_secs: f64) -> f64 {
    let per_hour = recent(row, t)[0];
    let lambda = per_hour * horizon_secs / 3600.0;
    poisson_at_least(lambda, k)
}

pub fn poisson_at_least(lambda: f64, k: u32) -> f64 {
    if lambda <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    let mut term = (-lambda).exp();
    let mut below = 0.0;
    for i in 0..k {
        below += term;
        term *= lambda / f64::from(i + 1);
    }
    (1.0 - below).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_tail() {
        assert!((poisson_at_least(1.0, 1) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        assert_eq!(poisson_at_least(0.0, 3), 0.0);
        assert!(poisson_at_least(50.0, 3) > 0.999);
    }
}
