//! Forecasts of future reads learned from the bucket's own history: for a past state of an
//! object, what followed (censored at the present); per stratum the chance of a read within each
//! window; recalibrated on half the objects held out and measured on the other half against the
//! hand-shaped prior, and served only when it is the better calibrated of the two.

pub mod calibration;
pub mod learner;
pub mod recalibrate;
pub mod state;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::model::features::StatsRow;
pub use calibration::{Band, Reliability, reliability};
pub use learner::{Learner, NW, Outcome, WINDOWS_H};
pub use state::{State, group_of};

/// A past state of an object and what followed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub outcome: Outcome,
    /// Its statistics at the time (what the prior forecasts from).
    pub row: StatsRow,
    pub ts: Millis,
    /// Which object: held-out objects are chosen by it.
    pub object: u64,
}

/// The prior's chance that the object of `row` is read within `hours` of `t`.
pub type Prior<'a> = &'a dyn Fn(&StatsRow, Millis, f64) -> f64;

/// Calibration of both forecasts over one horizon, on the held-out objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Horizon {
    pub hours: f64,
    /// Share of held-out samples read within it.
    pub base_rate: f64,
    pub learned: Reliability,
    pub prior: Reliability,
}

/// What serves forecasts, why, and how well each did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ForecastInfo {
    /// "learned" or "prior".
    pub serving: String,
    /// Why, in a sentence.
    pub why: String,
    pub samples: usize,
    pub held_out: usize,
    /// Brier scores pooled over every horizon measured (lower is better).
    pub brier_learned: Option<f64>,
    pub brier_prior: Option<f64>,
    /// The longest window history has fully seen, hours (longer horizons are chained).
    pub learned_hours: f64,
    pub horizons: Vec<Horizon>,
}

impl ForecastInfo {
    pub fn prior(why: impl Into<String>) -> Self {
        Self {
            serving: "prior".into(),
            why: why.into(),
            ..Self::default()
        }
    }

    /// One line for people: which serves, and the two Brier scores.
    pub fn line(&self) -> String {
        match (self.brier_learned, self.brier_prior) {
            (Some(l), Some(p)) => format!("forecast: {}, Brier {l:.3} vs prior {p:.3}", self.serving),
            _ => format!("forecast: {} ({})", self.serving, self.why),
        }
    }
}

/// Held-out objects: one in five, by a hash of the object.
fn held_out(object: u64) -> bool {
    object.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61 == 0
}

/// Of the held-out objects, the half the chances are recalibrated on (the other half measures).
fn calibrates(object: u64) -> bool {
    (object.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) & 1 == 0
}

/// Fewest held-out (sample, horizon) pairs before the two forecasts are compared.
const MIN_EVAL: usize = 100;

/// Fits the learned forecast on `obs`, measures it and `prior` on held-out objects, and says
/// which should serve. The returned learner (fitted on everything) is Some only when it serves.
pub fn fit(obs: &[Observed], prior: Prior<'_>) -> (Option<Learner>, ForecastInfo) {
    let Some(train) = Learner::fit(obs.iter().filter(|o| !held_out(o.object)).map(|o| &o.outcome)) else {
        return (
            None,
            ForecastInfo::prior(format!("{} samples, none yet observed for an hour after it", obs.len())),
        );
    };
    let hold: Vec<&Observed> = obs.iter().filter(|o| held_out(o.object)).collect();
    let mut horizons = Vec::new();
    let (mut sq_l, mut sq_p, mut pairs) = (0.0, 0.0, 0usize);
    let (maps, measured) = calibrate(&train, &hold);
    // Measured as it serves: every window's chance recalibrated before they are chained.
    let train = train.recalibrated(maps.clone());
    for (k, hours, known) in measured {
        let y: Vec<bool> = known.iter().map(|o| read(o, k)).collect();
        let pl: Vec<f64> = known.iter().map(|o| train.p_any(&o.outcome.state, hours)).collect();
        let pp: Vec<f64> = known.iter().map(|o| prior(&o.row, o.ts, hours)).collect();
        let (learned, prior) = (reliability(&pl, &y), reliability(&pp, &y));
        sq_l += learned.brier * known.len() as f64;
        sq_p += prior.brier * known.len() as f64;
        pairs += known.len();
        horizons.push(Horizon {
            hours,
            base_rate: y.iter().filter(|v| **v).count() as f64 / y.len() as f64,
            learned,
            prior,
        });
    }
    let mut info = ForecastInfo {
        samples: obs.len(),
        held_out: hold.len(),
        learned_hours: train.longest_h(),
        horizons,
        ..ForecastInfo::default()
    };
    if pairs < MIN_EVAL {
        info.serving = "prior".into();
        info.why = format!("{pairs} held-out outcomes so far, {MIN_EVAL} needed to compare");
        return (None, info);
    }
    let (bl, bp) = (sq_l / pairs as f64, sq_p / pairs as f64);
    info.brier_learned = Some(bl);
    info.brier_prior = Some(bp);
    if bl < bp {
        info.serving = "learned".into();
        info.why = format!(
            "learned Brier {bl:.3} < prior {bp:.3} on {} held-out objects' samples",
            hold.len()
        );
        (
            Learner::fit(obs.iter().map(|o| &o.outcome)).map(|l| l.recalibrated(maps)),
            info,
        )
    } else {
        info.serving = "prior".into();
        info.why = format!("learned Brier {bl:.3} ≥ prior {bp:.3}: the prior stays");
        (None, info)
    }
}

/// Whether the sample saw a read within window `k`.
fn read(o: &Observed, k: usize) -> bool {
    o.outcome.reads[k].is_some_and(|r| r > 0)
}

/// A window's held-out samples kept to measure it: its index, its hours, the samples.
type Measured<'a> = Vec<(usize, f64, Vec<&'a Observed>)>;

/// Per window with enough outcomes, one half of the held-out samples fits the window's
/// recalibration map and the other half is kept to measure it.
fn calibrate<'a>(train: &Learner, hold: &[&'a Observed]) -> (Vec<Option<recalibrate::Recalibration>>, Measured<'a>) {
    let mut maps = vec![None; NW];
    let mut measured = Vec::new();
    for (k, hours) in WINDOWS_H.iter().enumerate() {
        let (calib, known): (Vec<&Observed>, Vec<&Observed>) = hold
            .iter()
            .copied()
            .filter(|o| o.outcome.reads[k].is_some())
            .partition(|o| calibrates(o.object));
        if known.len() < MIN_EVAL / 4 || calib.len() < MIN_EVAL / 4 {
            continue;
        }
        let pc: Vec<f64> = calib
            .iter()
            .map(|o| train.p_any_raw(&o.outcome.state, *hours))
            .collect();
        let yc: Vec<bool> = calib.iter().map(|o| read(o, k)).collect();
        maps[k] = recalibrate::Recalibration::fit(&pc, &yc);
        if maps[k].is_some() {
            measured.push((k, *hours, known));
        }
    }
    (maps, measured)
}

/// The outcome of a sample at `t` of an object in state `state`: reads within each window,
/// counted by `reads_in(from, to)` (reads in (from, to]) for the windows that ended by `now`.
pub fn outcome(state: State, t: Millis, now: Millis, reads_in: impl Fn(Millis, Millis) -> u32) -> Outcome {
    let mut reads = [None; NW];
    for (k, h) in WINDOWS_H.iter().enumerate() {
        let end = t + (h * 3_600_000.0) as Millis;
        if end > now {
            break;
        }
        reads[k] = Some(reads_in(t, end));
    }
    Outcome { state, reads }
}
