//! The offline optimum under the billing model: knowing every future access, the cheapest
//! sequence of tiers for each object. Two bounds: `oracle` may write each new object to any tier
//! (what write-time placement could reach); `oracle-landing` writes it to the landing tier like
//! every policy and moves it after (what a tiering system can reach).
//!
//! Dynamic programming over an object's accesses. A state after serving an access is (tier, the
//! time its minimum storage duration there ends — its deadline); leaving before the deadline pays
//! the rest. Storage is linear in time and a minimum-duration charge is a `max`, so between two
//! accesses the cost of a plan is piecewise linear in its move times, with breaks only at the
//! gap's start, at the deadline of the tier left, at "the next access minus the minimum" of the
//! tier waited on and — when that tier also serves the next access — at "a later access minus
//! its minimum" (the next 8 within the minimum): trying those move times is exact in continuous
//! time (checked against a brute force over every schedule on a fine time grid). States of
//! one tier are kept on a Pareto front (an earlier deadline at no higher cost wins; a later one
//! wins when it is cheaper by more than the storage the later deadline can cost). Moves that chain
//! through other tiers at one instant take the cheapest path (Floyd–Warshall, a pass-through stay
//! paying its minimum). Nothing moves after the trace ends: the final placement is charged for the
//! tail. Capacity is ignored: each object is planned alone, so the result is exact when no tier
//! overflows, and a lower bound otherwise.

mod prices;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::meter::Meter;
use super::policy::Policy;
use super::workload::{Ev, Workload};
use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::placement::billing::{SlaPrice, serve_cost};
use prices::Prices;

/// No move after this access (`r` = the tier served on).
const STAY: Millis = Millis::MIN;

/// The optimum's decisions per event (for DELETEs unused) and its cost.
#[derive(Debug, Clone)]
pub struct Oracle {
    name: &'static str,
    /// Tier serving event i.
    serve: Vec<u8>,
    /// After event i: at time `at.0` (`STAY`: never) move to tier `at.1` and wait there.
    after: Vec<(Millis, u8)>,
    /// Total cost by the dynamic programme's own arithmetic.
    pub cost: f64,
    tiers: Vec<TierConfig>,
    /// Each slow read costs its `miss_cost` on top of the bill, as the meter charges it.
    sla: SlaPrice,
    sizes: Vec<u64>,
    /// `oracle-landing`: every object is first written here.
    fixed_landing: Option<usize>,
    landing: usize,
    timed: BinaryHeap<Reverse<(Millis, u32, u8)>>,
}

/// A state after serving an access: on `tier` until at least `deadline` (or charged the rest).
#[derive(Debug, Clone, Copy)]
struct State {
    tier: u8,
    deadline: f64,
    cost: f64,
    /// Index of the state it came from in the previous layer, and the move in the gap.
    parent: u32,
    at: Millis,
    via: u8,
}

/// Keeps, per tier, only states no other state of that tier dominates.
fn prune(mut states: Vec<State>, rate: &[f64], now: f64) -> Vec<State> {
    for s in &mut states {
        s.deadline = s.deadline.max(now);
    }
    states.sort_by(|a, b| {
        a.tier
            .cmp(&b.tier)
            .then(a.deadline.total_cmp(&b.deadline))
            .then(a.cost.total_cmp(&b.cost))
    });
    let mut kept: Vec<State> = Vec::with_capacity(states.len());
    for s in states {
        let r = rate[s.tier as usize];
        // An earlier (or equal) deadline at no higher cost dominates s.
        if kept
            .iter()
            .rev()
            .take_while(|k| k.tier == s.tier)
            .any(|k| k.cost <= s.cost)
        {
            continue;
        }
        // s dominates earlier-deadline states that cost more than s plus what its later deadline can add.
        while kept
            .last()
            .is_some_and(|k| k.tier == s.tier && s.cost + r * (s.deadline - k.deadline) <= k.cost)
        {
            kept.pop();
        }
        kept.push(s);
    }
    kept
}

/// Most later accesses whose times give a move time to try (see `times`).
const LOOKAHEAD: usize = 8;

/// The move times worth trying in a gap [from, to): its start, the deadline of the tier left,
/// `to - min` of the tier waited on, and `t - min` for each `t` in `later` (the times at which
/// a stay begun at x would end its minimum: where the future's cost changes slope), each kept
/// only inside the gap.
fn times(from: Millis, to: Millis, deadline: f64, min_wait: f64, later: &[Millis]) -> Vec<Millis> {
    let mut v = vec![from];
    let ends = later.iter().map(|t| (*t as f64 - min_wait).ceil());
    for x in [deadline.ceil(), (to as f64 - min_wait).ceil()].into_iter().chain(ends) {
        let x = x as Millis;
        if x > from && x < to && !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

impl Oracle {
    /// The optimum with a free choice of each object's first tier, slow reads priced by `sla`.
    pub fn solve(w: &Workload, tiers: &[TierConfig], sla: SlaPrice, tail_ms: Millis) -> Self {
        Self::solve_with(w, tiers, sla, tail_ms, None)
    }

    /// The optimum when every object is first written to `landing`.
    pub fn solve_landing(w: &Workload, tiers: &[TierConfig], sla: SlaPrice, tail_ms: Millis, landing: usize) -> Self {
        Self::solve_with(w, tiers, sla, tail_ms, Some(landing))
    }

    fn solve_with(
        w: &Workload,
        tiers: &[TierConfig],
        sla: SlaPrice,
        tail_ms: Millis,
        fixed_landing: Option<usize>,
    ) -> Self {
        let mut by_obj: Vec<Vec<u32>> = vec![Vec::new(); w.objects()];
        for (i, e) in w.events.iter().enumerate() {
            by_obj[e.obj as usize].push(i as u32);
        }
        let mut o = Oracle {
            name: if fixed_landing.is_some() {
                "oracle-landing"
            } else {
                "oracle"
            },
            serve: vec![0; w.events.len()],
            after: vec![(STAY, 0); w.events.len()],
            cost: 0.0,
            tiers: tiers.to_vec(),
            sla,
            sizes: w.sizes.clone(),
            fixed_landing,
            landing: fixed_landing.unwrap_or(0),
            timed: BinaryHeap::new(),
        };
        for (obj, evs) in by_obj.iter().enumerate() {
            let p = Prices::new(tiers, w.sizes[obj]);
            // Lives: runs of accesses ended by a DELETE (or the end of the trace and its tail).
            let mut life: Vec<u32> = Vec::new();
            // An object stored before the trace: its first write is not billed.
            let mut put_billed = !w.is_listed(obj);
            for &i in evs {
                let e = &w.events[i as usize];
                if e.op == Op::Delete {
                    if !life.is_empty() {
                        o.cost += o.plan_life(w, &life, (e.ts, true), put_billed, &p);
                        put_billed = true;
                        life.clear();
                    }
                } else {
                    life.push(i);
                }
            }
            if !life.is_empty() {
                o.cost += o.plan_life(w, &life, (w.end + tail_ms, false), put_billed, &p);
            }
        }
        o
    }

    /// Plans one life (accesses `life`, until `end`, deleted then or not; its first write
    /// billed or not) and returns its cost.
    fn plan_life(
        &mut self,
        w: &Workload,
        life: &[u32],
        (end, deleted): (Millis, bool),
        put_billed: bool,
        p: &Prices,
    ) -> f64 {
        let n_t = self.tiers.len();
        let ev = |k: usize| w.events[life[k] as usize];
        let size = self.sizes[ev(0).obj as usize];
        let serve = |t: usize, op: Op| {
            let (r, q) = serve_cost(&self.tiers[t], op, size);
            r + q + self.sla.penalty(&self.tiers[t], op)
        };
        // Serving `op` at `ts` on tier q entered by then with deadline `d`: the request, and an
        // overwrite ends the stored version's stay (paying the rest of its minimum).
        let served = |q: usize, op: Op, ts: Millis, d: f64| -> (f64, f64) {
            if op == Op::Put {
                (
                    serve(q, op) + p.rate[q] * (d - ts as f64).max(0.0),
                    ts as f64 + p.min[q],
                )
            } else {
                (serve(q, op), d)
            }
        };
        // Access times of the life and its end: where a stay's minimum may be made to end.
        let stamps: Vec<Millis> = (0..life.len()).map(|k| ev(k).ts).chain([end]).collect();
        let first = ev(0);
        let t0 = first.ts as f64;
        let mut layers: Vec<Vec<State>> = Vec::with_capacity(life.len());
        let mut layer = Vec::new();
        for q in 0..n_t {
            let created = self.fixed_landing.unwrap_or(q);
            let put = if put_billed {
                self.tiers[created].put_per_1k / 1000.0
            } else {
                0.0
            };
            let cost = if first.op == Op::Put {
                if q != created {
                    continue;
                }
                put
            } else if q == created {
                put + serve(q, first.op)
            } else {
                // Written to the landing tier, moved at once to q to serve the first read.
                put + p.rate[created] * p.min[created] + p.mc[created][q] + serve(q, first.op)
            };
            layer.push(State {
                tier: q as u8,
                deadline: t0 + p.min[q],
                cost,
                parent: u32::MAX,
                at: STAY,
                via: created as u8,
            });
        }
        layers.push(prune(layer, &p.rate, t0));
        for k in 1..life.len() {
            let (from, e) = (ev(k - 1).ts, ev(k));
            let to = e.ts;
            let mut next = Vec::new();
            for (si, s) in layers[k - 1].iter().enumerate() {
                let pt = s.tier as usize;
                let parent = si as u32;
                // Leaving p at x costs its storage up to x or to its deadline, whichever is later.
                let leave = |x: Millis| p.rate[pt] * (s.deadline.max(x as f64) - from as f64);
                for q in 0..n_t {
                    // Stay on p until the access, then move (through the cheapest chain) to q.
                    let (c, d) = if q == pt {
                        (s.cost + p.rate[pt] * (to - from) as f64, s.deadline)
                    } else {
                        (s.cost + leave(to) + p.mc[pt][q], to as f64 + p.min[q])
                    };
                    // Serves the access on q, reached at cost c with deadline d, by `at`/`via`.
                    let mut arrive = |c: f64, d: f64, at: Millis, via: usize| {
                        let (sc, d) = served(q, e.op, to, d);
                        next.push(State {
                            tier: q as u8,
                            deadline: d,
                            cost: c + sc,
                            parent,
                            at,
                            via: via as u8,
                        });
                    };
                    arrive(c, d, STAY, pt);
                    // Move to r at x and wait there; then (r ≠ q) on to q right before the access.
                    for r in (0..n_t).filter(|r| *r != pt) {
                        // Waiting on q itself: the stay goes on after the access, so when it
                        // begins sets a deadline that later moves feel — which can pay only when
                        // q is dearer than p (else leaving p at its deadline is best).
                        let (min_wait, later) = if r == q && p.rate[q] > p.rate[pt] && p.min[q] > 0.0 {
                            let window = stamps[k + 1..]
                                .iter()
                                .take_while(|t| (**t as f64) < to as f64 + p.min[q]);
                            (
                                p.min[q],
                                &stamps[k + 1..(k + 1 + window.count()).min(k + 1 + LOOKAHEAD)],
                            )
                        } else if r == q {
                            (p.min[q], &stamps[..0])
                        } else {
                            (p.min[r], &stamps[..0])
                        };
                        for x in times(from, to, s.deadline, min_wait, later) {
                            let (c, d) = if r == q {
                                (
                                    s.cost + leave(x) + p.mc[pt][q] + p.rate[q] * (to - x) as f64,
                                    x as f64 + p.min[q],
                                )
                            } else {
                                let wait = p.rate[r] * ((to - x) as f64).max(p.min[r]);
                                (
                                    s.cost + leave(x) + p.mc[pt][r] + wait + p.mc[r][q],
                                    to as f64 + p.min[q],
                                )
                            };
                            arrive(c, d, x, r);
                        }
                    }
                }
            }
            layers.push(prune(next, &p.rate, to as f64));
        }
        // The end: deleted (paying any minimum left), or kept through the tail (no move after
        // the trace ends).
        let last_ts = ev(life.len() - 1).ts;
        let mut best = (f64::INFINITY, 0usize, STAY, 0u8);
        for (si, s) in layers[life.len() - 1].iter().enumerate() {
            let pt = s.tier as usize;
            let leave = |x: Millis| p.rate[pt] * (s.deadline.max(x as f64) - last_ts as f64);
            let stay = if deleted {
                leave(end)
            } else {
                p.rate[pt] * (end - last_ts) as f64
            };
            if s.cost + stay < best.0 {
                best = (s.cost + stay, si, STAY, s.tier);
            }
            let latest = if deleted { end } else { w.end.min(end) + 1 };
            for r in (0..n_t).filter(|r| *r != pt) {
                let min_wait = if deleted { p.min[r] } else { 0.0 };
                for x in times(last_ts, latest, s.deadline, min_wait, &[]) {
                    let wait = if deleted {
                        p.rate[r] * ((end - x) as f64).max(p.min[r])
                    } else {
                        p.rate[r] * (end - x) as f64
                    };
                    let c = s.cost + leave(x) + p.mc[pt][r] + wait;
                    if c < best.0 {
                        best = (c, si, x, r as u8);
                    }
                }
            }
        }
        // Back through the layers: each state says how it was reached from its parent.
        let (total, mut si, mut at, mut via) = best;
        for k in (0..life.len()).rev() {
            let s = layers[k][si];
            let i = life[k] as usize;
            self.serve[i] = s.tier;
            self.after[i] = if via == s.tier { (STAY, via) } else { (at, via) };
            if k > 0 {
                // The gap before access k: from the parent's tier to `via` at `at`.
                (at, via) = (s.at, s.via);
                si = s.parent as usize;
            }
        }
        total
    }

    /// Moves `obj` to `to` along the cheapest chain of moves.
    fn go(&self, m: &mut Meter, obj: usize, to: usize, now: Millis) {
        let Some(mut at) = m.tier_of(obj) else { return };
        if at == to {
            return;
        }
        tracing::debug!(target: "dim::replay", policy = self.name, obj, size = self.sizes[obj], from = at, to, day = now as f64 / 86_400_000.0, "move");
        let p = Prices::new(&self.tiers, self.sizes[obj]);
        while at != to {
            let hop = p.next[at][to];
            m.migrate(obj, hop, now);
            at = hop;
        }
    }
}

/// The optimum replayed through the meter like any policy, so it is charged by the same code.
impl Policy for Oracle {
    fn name(&self) -> &str {
        self.name
    }

    fn landing(&self, _obj: usize) -> usize {
        self.landing
    }

    fn advance(&mut self, m: &mut Meter, now: Millis) {
        while let Some(Reverse((at, obj, to))) = self.timed.peek().copied() {
            if at > now {
                break;
            }
            self.timed.pop();
            self.go(m, obj as usize, to as usize, at);
        }
    }

    fn before(&mut self, m: &mut Meter, i: usize, ev: &Ev) {
        if ev.op == Op::Delete {
            return;
        }
        let (obj, to) = (ev.obj as usize, self.serve[i] as usize);
        match self.fixed_landing {
            None => self.landing = to,
            // Written to the landing tier and moved before its first read is served.
            Some(l) if m.tier_of(obj).is_none() && ev.op != Op::Put && to != l => m.create(obj, l, ev.ts),
            Some(_) => {}
        }
        self.go(m, obj, to, ev.ts);
    }

    fn after(&mut self, m: &mut Meter, i: usize, ev: &Ev) {
        if ev.op == Op::Delete {
            return;
        }
        let (at, to) = self.after[i];
        if at == STAY || to == self.serve[i] {
            return;
        }
        if at <= ev.ts {
            self.go(m, ev.obj as usize, to as usize, ev.ts);
        } else {
            self.timed.push(Reverse((at, ev.obj, to)));
        }
    }
}
