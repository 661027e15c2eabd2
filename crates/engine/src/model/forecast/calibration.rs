//! How well a forecast of "read within h" matched what happened: the Brier score and a
//! reliability table (predicted against observed, in ten bands of predicted chance).

use serde::{Deserialize, Serialize};

/// One band of predicted chance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Predicted chances in [from, to).
    pub from: f64,
    pub to: f64,
    pub samples: usize,
    /// Mean predicted chance in the band, and the share actually read.
    pub predicted: f64,
    pub observed: f64,
}

/// Calibration of one forecast over one horizon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    pub samples: usize,
    pub brier: f64,
    /// Only the bands that hold samples.
    pub bands: Vec<Band>,
}

const BANDS: usize = 10;

/// The Brier score and reliability bands of predictions `p` against outcomes `y`.
pub fn reliability(p: &[f64], y: &[bool]) -> Reliability {
    let n = p.len().min(y.len());
    let mut bands = vec![Band::default(); BANDS];
    let mut sq = 0.0;
    for i in 0..n {
        let o = f64::from(u8::from(y[i]));
        sq += (p[i] - o).powi(2);
        let b = ((p[i] * BANDS as f64) as usize).min(BANDS - 1);
        bands[b].samples += 1;
        bands[b].predicted += p[i];
        bands[b].observed += o;
    }
    for (k, b) in bands.iter_mut().enumerate() {
        b.from = k as f64 / BANDS as f64;
        b.to = (k + 1) as f64 / BANDS as f64;
        if b.samples > 0 {
            b.predicted /= b.samples as f64;
            b.observed /= b.samples as f64;
        }
    }
    Reliability {
        samples: n,
        brier: if n > 0 { sq / n as f64 } else { 0.0 },
        bands: bands.into_iter().filter(|b| b.samples > 0).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brier_and_bands_by_hand() {
        let r = reliability(&[0.05, 0.05, 0.95, 0.95], &[false, true, true, true]);
        assert!((r.brier - (0.0025 + 0.9025 + 0.0025 + 0.0025) / 4.0).abs() < 1e-12);
        assert_eq!(r.bands.len(), 2);
        assert_eq!((r.bands[0].samples, r.bands[0].observed), (2, 0.5));
        assert_eq!((r.bands[1].samples, r.bands[1].observed), (2, 1.0));
    }
}
