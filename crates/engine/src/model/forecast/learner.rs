//! The learned forecast: from past states of objects and what followed them, the chance of a
//! read within each window and the reads it brings, per stratum, each stratum shrunk towards the
//! coarser one it sits in. Horizons longer than what history has seen are chained: the chance
//! of no read over a long horizon is the chance of none over the longest window its idle band
//! has seen, times the chance of none over the next from the state the object will then be in
//! (idle longer); beyond the idlest band seen, an object is as likely to be read as the idlest.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::recalibrate::Recalibration;
use super::state::{FAN, IDLE_BANDS, State};

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
    /// The same per idle band (0: no sample that idle was ever observed for a whole hour):
    /// chaining steps by the longest window the state's own band has seen, so a long window
    /// unseen for idle objects is not taken from the busier objects that saw it.
    bands: [usize; IDLE_BANDS],
    pub samples: usize,
    #[serde(default)]
    layout: u32,
    /// Per window, the map of its chances to what held-out objects did (`forecast::fit`).
    #[serde(default)]
    recalibration: Vec<Option<Recalibration>>,
}

/// The cell one level coarser than `c`.
fn parent(c: u32) -> u32 {
    let level = (c >> 28) as usize;
    let id = c & 0x0fff_ffff;
    match level {
        0 | 1 => 0,
        l => (((l - 1) as u32) << 28) | (id / FAN[l]),
    }
}

/// The layout of the cells (`State::cells`): a persisted forecast of another layout is not used.
const LAYOUT: u32 = 2;

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
        let mut bands = [0; IDLE_BANDS];
        for (b, n) in bands.iter_mut().enumerate() {
            if let Some(t) = tallies.get(&((1 << 28) | b as u32)) {
                *n = t.seen.iter().take_while(|s| **s >= MIN_SEEN).count();
            }
        }
        Some(Self {
            cells,
            learned,
            bands,
            samples,
            layout: LAYOUT,
            recalibration: Vec::new(),
        })
    }

    /// The same forecast, its chances within each window mapped through `maps`.
    pub fn recalibrated(self, maps: Vec<Option<Recalibration>>) -> Self {
        Self {
            recalibration: maps,
            ..self
        }
    }

    /// The chance of a read within window `k` the strata say, `p`, as objects held out showed
    /// it (`cal`), or as said (not `cal`, or no map for the window).
    fn within(&self, k: usize, p: f64, cal: bool) -> f64 {
        match self.recalibration.get(k) {
            Some(Some(m)) if cal => m.apply(p),
            _ => p,
        }
    }

    /// Fitted on the cells this build computes (a forecast persisted by an older one is not).
    pub fn is_current(&self) -> bool {
        self.layout == LAYOUT
    }

    /// The longest window learned, hours.
    pub fn longest_h(&self) -> f64 {
        WINDOWS_H[self.learned - 1]
    }

    /// The finest stratum of `s` that the history has seen.
    fn estimate(&self, s: &State) -> &Estimate {
        let cells = s.cells();
        // The root (cell 0) always exists once fitted.
        cells
            .iter()
            .rev()
            .find_map(|c| self.cells.get(c))
            .unwrap_or(&self.cells[&0])
    }

    /// The chance of no read within `h` hours of `e`'s state, `h` within its first `windows`:
    /// log-survival linear in time between windows (never rising: a longer window holds the
    /// shorter one).
    fn survival_within(&self, e: &Estimate, windows: usize, h: f64, cal: bool) -> f64 {
        let (mut from_h, mut from_ln) = (0.0, 0.0);
        for (k, w) in WINDOWS_H.iter().enumerate().take(windows) {
            let ln_s = (1.0 - self.within(k, e.p[k], cal)).max(1e-12).ln().min(from_ln);
            if h <= *w {
                let share = (h - from_h) / (w - from_h);
                return (from_ln + (ln_s - from_ln) * share).exp();
            }
            (from_h, from_ln) = (*w, ln_s);
        }
        from_ln.exp()
    }

    /// The state whose estimates stand for `s`, and how many windows they hold: `s` itself
    /// where its idle band was observed, else as idle as the idlest band observed (no data says
    /// idler objects are read less), else the whole population's.
    fn seen_as(&self, s: &State) -> (State, usize, bool) {
        let band = s.idle_band();
        if self.bands[band] > 0 {
            return (*s, self.bands[band], false);
        }
        match (0..band).rev().find(|b| self.bands[*b] > 0) {
            Some(b) => (s.in_idle_band(b), self.bands[b], true),
            None => (*s, self.learned, true),
        }
    }

    /// The chance `s` is read at least once within the next `hours`, recalibrated. Beyond the longest window
    /// its idle band has seen, the object unread grows idler: it keeps its stratum's chance per
    /// window for as long as it stays in its band (at least one window), then goes on from the
    /// next band — a handful of steps whatever the horizon.
    pub fn p_any(&self, s: &State, hours: f64) -> f64 {
        self.chance(s, hours, true)
    }

    /// `p_any` as the strata say it, each window's chance before recalibration.
    pub fn p_any_raw(&self, s: &State, hours: f64) -> f64 {
        self.chance(s, hours, false)
    }

    /// Each window's chance is recalibrated (`cal`) before the windows are chained, so a long
    /// horizon is not built from chances each too low.
    fn chance(&self, s: &State, hours: f64, cal: bool) -> f64 {
        let (mut st, mut left, mut survive) = (*s, hours.max(0.0), 1.0);
        while left > 0.0 && survive > 1e-9 {
            let (seen, windows, beyond) = self.seen_as(&st);
            let e = self.estimate(&seen);
            let step = WINDOWS_H[windows - 1];
            if left <= step {
                survive *= self.survival_within(e, windows, left, cal);
                break;
            }
            // Beyond the idlest band seen, nothing changes any more: the rest at one rate.
            let stride = if beyond {
                left
            } else {
                st.hours_left_in_idle_band().max(step).min(left)
            };
            survive *= (1.0 - self.within(windows - 1, e.p[windows - 1], cal))
                .max(0.0)
                .powf(stride / step);
            st = st.later(stride);
            left -= stride;
        }
        (1.0 - survive).clamp(0.0, 1.0)
    }

    /// Reads expected within `hours` of `s` when there is at least one: what the longest
    /// learned window within `hours` shows (at least 1).
    pub fn reads_if_any(&self, s: &State, hours: f64) -> f64 {
        let e = self.estimate(s);
        let k = (0..self.learned)
            .take_while(|k| WINDOWS_H[*k] <= hours.max(WINDOWS_H[0]))
            .last()
            .unwrap_or(0);
        e.cond[k].max(1.0)
    }
}
