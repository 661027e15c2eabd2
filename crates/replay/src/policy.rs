//! The one interface every replayed policy implements, and the driver that feeds each the same
//! events through its own cost meter.

use super::meter::Meter;
use super::products::PriceSet;
use super::workload::{Ev, Workload};
use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::model::forecast::ForecastInfo;
use crate::engine::placement::billing::SlaPrice;

/// The bounds: not policies anyone can run, the yardstick for those that can.
pub const ORACLES: [&str; 2] = ["oracle-landing", "oracle"];

/// Planning policies (the brain), as opposed to the rules they are measured against.
pub const PLANNERS: [&str; 2] = ["dim", "heuristic-milp"];

pub trait Policy: Send {
    fn name(&self) -> &str;
    /// The tier a new object is written to.
    fn landing(&self, obj: usize) -> usize;
    /// Engine time has reached `now` (the next event is not served yet): timed decisions happen here.
    fn advance(&mut self, _m: &mut Meter, _now: Millis) {}
    /// Before event `i` is served.
    fn before(&mut self, _m: &mut Meter, _i: usize, _ev: &Ev) {}
    /// After event `i` was served.
    fn after(&mut self, _m: &mut Meter, _i: usize, _ev: &Ev) {}
    /// What the report should say about how this policy ran.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// The price set a product is metered on, when not simply the configured tiers.
    fn price_set(&self) -> Option<&PriceSet> {
        None
    }
    /// How its forecast of reads was calibrated, for a policy that learns one.
    fn forecast(&self) -> Option<ForecastInfo> {
        None
    }
}

/// A policy's run: its meter at the end and its cumulative cost at each of `points` times.
pub struct Run {
    pub meter: Meter,
    pub curve: Vec<f64>,
    pub secs: f64,
    pub notes: Vec<String>,
    pub forecast: Option<ForecastInfo>,
    /// Metered on its own tiers, not the configured ones.
    pub own_classes: bool,
}

/// Replays `w` through `p` on `tiers`; the final placement is charged for `tail_ms` more after
/// the last event, with no decision in that time; the cumulative cost is sampled at `points`
/// engine times (which may reach into the tail).
pub fn run(
    p: &mut dyn Policy,
    w: &Workload,
    tiers: &[TierConfig],
    sla: SlaPrice,
    tail_ms: Millis,
    points: &[Millis],
) -> Run {
    let started = std::time::Instant::now();
    let mut m = Meter::priced(p.price_set().map_or(tiers, |s| &s.tiers), sla, w.sizes.clone()).listed(w.listed.clone());
    let mut curve = Vec::with_capacity(points.len());
    let mut next_point = 0;
    for (i, ev) in w.events.iter().enumerate() {
        while next_point < points.len() && points[next_point] < ev.ts {
            p.advance(&mut m, points[next_point]);
            curve.push(m.total_at(points[next_point]));
            next_point += 1;
        }
        p.advance(&mut m, ev.ts);
        p.before(&mut m, i, ev);
        let landing = p.landing(ev.obj as usize);
        m.access(ev.obj as usize, ev.op, ev.ts, landing);
        p.after(&mut m, i, ev);
    }
    while next_point < points.len() && points[next_point] <= w.end {
        p.advance(&mut m, points[next_point]);
        curve.push(m.total_at(points[next_point]));
        next_point += 1;
    }
    p.advance(&mut m, w.end);
    // The tail: the placement as the trace left it keeps being charged, nobody decides.
    while next_point < points.len() && points[next_point] < w.end + tail_ms {
        curve.push(m.total_at(points[next_point]));
        next_point += 1;
    }
    m.finish(w.end + tail_ms);
    while curve.len() < points.len() {
        curve.push(m.costs.total());
    }
    Run {
        meter: m,
        curve,
        secs: started.elapsed().as_secs_f64(),
        notes: p.notes(),
        forecast: p.forecast(),
        own_classes: p.price_set().is_some_and(|s| s.own),
    }
}

/// The tier rules send cold data to: the cheapest to store (the slowest of equals).
pub fn coldest(tiers: &[TierConfig]) -> usize {
    (0..tiers.len())
        .min_by(|a, b| {
            tiers[*a]
                .storage_gb_month
                .total_cmp(&tiers[*b].storage_gb_month)
                .then(b.cmp(a))
        })
        .unwrap_or(0)
}
