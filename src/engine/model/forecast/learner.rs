//! The learned forecast: from past states of objects and what followed them, the chance of a
//! read within each window and the reads it brings, per stratum, each stratum shrunk towards the
//! coarser one it sits in. Horizons longer than what history has seen are chained: the chance
//! of no read over a long horizon is the chance of none over the longest window learned, times
//! the chance of none over the next from the state the object will then be in (idle longer).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::state::{LEVELS, State};

/// The windows after a sample whose outcomes are counted, hours: 1 h, 6 h, a day, a week,
/// 30, 90 and 365 days (the minimum durations of most storage classes and the planning horizon).
pub const WINDOWS_H: [f64; NW] = [1.0, 6.0, 24.0, 168.0, 720.0, 2160.0, 8760.0];
pub const NW: usize = 7;

/// Pseudo-observations of the coarser stratum each estimate starts from: a stratum's own
/// outcomes outweigh its parent's once it has seen more than this many.
const SHRINK: f64 = 8.0;
/// Fully observed samples (over all strata) a window needs before it is learned.
pub const MIN_SEEN: f64 = 50.0;

/// What followed one past state of an object, as far as the present shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub state: State,
    /// Reads within each window after the sample; None where the window has not fully passed
    /// (censored at the present: a sample too young to know is not counted as never read).
    pub reads: [Option<u32>; NW],
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Tally {
    seen: [f64; NW],
    hits: [f64; NW],
    reads: [f64; NW],
}

/// Per stratum and window: the chance of a read within it, and the reads expected within it
/// when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Estimate {
    p: [f64; NW],
    cond: [f64; NW],
}

/// A fitted forecast (cheap to clone and to persist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learner {
    cells: HashMap<u32, Estimate>,
    /// Windows learned: 0..learned have at least `MIN_SEEN` fully observed samples.
    learned: usize,
    pub samples: usize,
}

/// The cell one level coarser than `c`.
fn parent(c: u32) -> u32 {
    let level = c >> 28;
    let id = c & 0x0fff_ffff;
    match level {
        0 | 1 => 0,
        2 => (1 << 28) | (id / 16),
        l => ((l - 1) << 28) | (id / 8),
    }
}

impl Learner {
    /// Fits on `outcomes`; None when no window has enough fully observed samples yet.
    pub fn fit<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Option<Self> {
        let mut tallies: HashMap<u32, Tally> = HashMap::new();
        let mut samples = 0;
        for o in outcomes {
            samples += 1;
            let cells = o.state.cells();
            for c in cells {
                let t = tallies.entry(c).or_default();
                for (k, r) in o.reads.iter().enumerate() {
                    if let Some(r) = r {
                        t.seen[k] += 1.0;
                        t.hits[k] += f64::from(u8::from(*r > 0));
                        t.reads[k] += f64::from(*r);
                    }
                }
            }
        }
        let root = tallies.get(&0).copied().unwrap_or_default();
        let learned = root.seen.iter().take_while(|s| **s >= MIN_SEEN).count();
        if learned == 0 {
            return None;
        }
        let mut ids: Vec<u32> = tallies.keys().copied().collect();
        ids.sort_unstable_by_key(|c| c >> 28);
        let mut cells: HashMap<u32, Estimate> = HashMap::with_capacity(ids.len());
        for c in ids {
            let t = tallies[&c];
            let from = if c == 0 {
                // Everything shrinks towards even odds and one read per hit, weakly.
                Estimate {
                    p: [0.5; NW],
                    cond: [1.0; NW],
                }
            } else {
                cells[&parent(c)]
            };
            let mut e = from;
            for k in 0..NW {
                e.p[k] = (t.hits[k] + SHRINK * from.p[k]) / (t.seen[k] + SHRINK);
                e.cond[k] = (t.reads[k] + SHRINK * from.cond[k]) / (t.hits[k] + SHRINK);
                if k > 0 {
                    // A longer window holds the shorter one: at least its chance, its reads.
                    e.p[k] = e.p[k].max(e.p[k - 1]);
                    e.cond[k] = e.cond[k].max(e.cond[k - 1]);
                }
            }
            cells.insert(c, e);
        }
        Some(Self {
            cells,
            learned,
            samples,
        })
    }

    /// The longest window learned, hours.
    pub fn longest_h(&self) -> f64 {
        WINDOWS_H[self.learned - 1]
    }

    /// The finest stratum of `s` that the history has seen.
    fn estimate(&self, s: &State) -> (u32, &Estimate) {
        let cells = s.cells();
        for c in cells.iter().rev() {
            if let Some(e) = self.cells.get(c) {
                return (*c, e);
            }
        }
        // The root always exists once fitted.
        (0, &self.cells[&0])
    }

    /// The chance of no read within `h` hours of `e`'s state, `h` within the windows learned:
    /// log-survival linear in time between windows.
    fn survival_within(&self, e: &Estimate, h: f64) -> f64 {
        let ln_s = |k: usize| (1.0 - e.p[k]).max(1e-12).ln();
        let (mut from_h, mut from_ln) = (0.0, 0.0);
        for (k, w) in WINDOWS_H.iter().enumerate().take(self.learned) {
            if h <= *w {
                let share = (h - from_h) / (w - from_h);
                return (from_ln + (ln_s(k) - from_ln) * share).exp();
            }
            (from_h, from_ln) = (*w, ln_s(k));
        }
        from_ln.exp()
    }

    /// The chance `s` is read at least once within the next `hours`.
    pub fn p_any(&self, s: &State, hours: f64) -> f64 {
        let step = self.longest_h();
        let (mut st, mut left, mut survive) = (*s, hours.max(0.0), 1.0);
        loop {
            let (_, e) = self.estimate(&st);
            if left <= step {
                survive *= self.survival_within(e, left);
                break;
            }
            // Steps of the longest window, at its chance, for as long as the state stays in
            // this stratum (the state only grows idler); then on from the next stratum.
            let q = (1.0 - e.p[self.learned - 1]).max(0.0);
            let mut steps = 1.0;
            while steps * step < left && st.later(steps * step).cells()[LEVELS - 1] == st.cells()[LEVELS - 1] {
                steps += 1.0;
                if steps > 64.0 {
                    steps = (left / step).floor().max(1.0);
                    break;
                }
            }
            let stride = (steps * step).min(left);
            survive *= q.powf(stride / step);
            st = st.later(stride);
            left -= stride;
            if left <= 0.0 || survive < 1e-9 {
                break;
            }
        }
        (1.0 - survive).clamp(0.0, 1.0)
    }

    /// Reads expected within `hours` of `s` when there is at least one: what the longest
    /// learned window within `hours` shows (at least 1).
    pub fn reads_if_any(&self, s: &State, hours: f64) -> f64 {
        let (_, e) = self.estimate(s);
        let k = (0..self.learned)
            .take_while(|k| WINDOWS_H[*k] <= hours.max(WINDOWS_H[0]))
            .last()
            .unwrap_or(0);
        e.cond[k].max(1.0)
    }
}
