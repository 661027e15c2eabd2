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

mod life;
mod prices;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::meter::Meter;
use super::policy::Policy;
use super::workload::{Ev, Workload};
use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::placement::billing::SlaPrice;
use life::{End, Life, LifeEnd, STAY, State};
use prices::Prices;

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
                        o.cost += o.plan_life(
                            w,
                            &life,
                            LifeEnd {
                                at: e.ts,
                                deleted: true,
                            },
                            put_billed,
                            &p,
                        );
                        put_billed = true;
                        life.clear();
                    }
                } else {
                    life.push(i);
                }
            }
            if !life.is_empty() {
                o.cost += o.plan_life(
                    w,
                    &life,
                    LifeEnd {
                        at: w.end + tail_ms,
                        deleted: false,
                    },
                    put_billed,
                    &p,
                );
            }
        }
        o
    }

    /// Plans one life (accesses `life`, until `end`; its first write billed or not), records
    /// its decisions and returns its cost.
    fn plan_life(&mut self, w: &Workload, life: &[u32], end: LifeEnd, put_billed: bool, prices: &Prices) -> f64 {
        let size = self.sizes[w.events[life[0] as usize].obj as usize];
        let dp = Life {
            workload: w,
            accesses: life,
            tiers: &self.tiers,
            sla: &self.sla,
            prices,
            size,
            fixed_landing: self.fixed_landing,
            stamps: life.iter().map(|i| w.events[*i as usize].ts).chain([end.at]).collect(),
        };
        let mut layers: Vec<Vec<State>> = Vec::with_capacity(life.len());
        layers.push(dp.first_layer(put_billed));
        for k in 1..life.len() {
            let next = dp.next_layer(k, &layers[k - 1]);
            layers.push(next);
        }
        let best = dp.best_end(&layers[life.len() - 1], end);
        self.record(life, &layers, &best);
        best.cost
    }

    /// Walks back through the layers from the best end: each state says how it was reached from
    /// its parent, which gives the tier serving each access and the move after it.
    fn record(&mut self, life: &[u32], layers: &[Vec<State>], best: &End) {
        let (mut state, mut at, mut via) = (best.state, best.at, best.via);
        for k in (0..life.len()).rev() {
            let s = layers[k][state];
            let i = life[k] as usize;
            self.serve[i] = s.tier;
            self.after[i] = if via == s.tier { (STAY, via) } else { (at, via) };
            if k > 0 {
                // The gap before access k: from the parent's tier to `via` at `at`.
                (at, via) = (s.at, s.via);
                state = s.parent as usize;
            }
        }
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
