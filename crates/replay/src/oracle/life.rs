//! The oracle's dynamic programme over one life of one object: its accesses from a first write
//! (or read) to a DELETE or the end of the trace, one layer of states per access.

use super::prices::Prices;
use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::placement::billing::{SlaPrice, serve_cost};
use crate::workload::{Ev, Workload};

/// No move after this access (the tier served on is kept).
pub(super) const STAY: Millis = Millis::MIN;

/// Most later accesses whose times give a move time to try (see `times`).
const LOOKAHEAD: usize = 8;

/// A state after serving an access: on `tier` until at least `deadline` (or charged the rest).
#[derive(Debug, Clone, Copy)]
pub(super) struct State {
    pub(super) tier: u8,
    deadline: f64,
    cost: f64,
    /// Index of the state it came from in the previous layer, and the move in the gap before:
    /// at `at` (`STAY`: none) to `via`.
    pub(super) parent: u32,
    pub(super) at: Millis,
    pub(super) via: u8,
}

/// The cheapest way to end a life: its total cost, the state of the last access it leaves
/// from, and the last move (at `at`, to `via`; `STAY`: none).
pub(super) struct End {
    pub(super) cost: f64,
    pub(super) state: usize,
    pub(super) at: Millis,
    pub(super) via: u8,
}

/// How a life ends: at `at`, deleted then (paying any minimum left) or kept through the tail.
#[derive(Debug, Clone, Copy)]
pub(super) struct LifeEnd {
    pub(super) at: Millis,
    pub(super) deleted: bool,
}

/// One life to plan: the accesses (indices into the workload's events), the prices of the
/// object's size, and what the oracle is allowed.
pub(super) struct Life<'a> {
    pub(super) workload: &'a Workload,
    pub(super) accesses: &'a [u32],
    pub(super) tiers: &'a [TierConfig],
    pub(super) sla: &'a SlaPrice,
    pub(super) prices: &'a Prices,
    pub(super) size: u64,
    /// `oracle-landing`: the tier every object is first written to.
    pub(super) fixed_landing: Option<usize>,
    /// Access times of the life and its end: where a stay's minimum may be made to end.
    pub(super) stamps: Vec<Millis>,
}

impl Life<'_> {
    /// Access `k` of the life.
    fn access(&self, k: usize) -> Ev {
        self.workload.events[self.accesses[k] as usize]
    }

    /// The request, retrieval and slow-read penalty of serving `op` on `tier`.
    fn serve(&self, tier: usize, op: Op) -> f64 {
        let (retrieval, request) = serve_cost(&self.tiers[tier], op, self.size);
        retrieval + request + self.sla.penalty(&self.tiers[tier], op)
    }

    /// Serving `op` at `ts` on `tier`, entered by then with `deadline`: its cost and the deadline
    /// after (an overwrite ends the stored version's stay, paying the rest of its minimum).
    fn served(&self, tier: usize, op: Op, ts: Millis, deadline: f64) -> (f64, f64) {
        let p = self.prices;
        if op == Op::Put {
            (
                self.serve(tier, op) + p.rate[tier] * (deadline - ts as f64).max(0.0),
                ts as f64 + p.min[tier],
            )
        } else {
            (self.serve(tier, op), deadline)
        }
    }

    /// The states after the first access: created on the landing tier (any tier, for the free
    /// oracle) and, for a read, moved at once to the tier that serves it.
    pub(super) fn first_layer(&self, put_billed: bool) -> Vec<State> {
        let p = self.prices;
        let first = self.access(0);
        let t0 = first.ts as f64;
        let mut layer = Vec::new();
        for tier in 0..self.tiers.len() {
            let created = self.fixed_landing.unwrap_or(tier);
            let put = if put_billed {
                self.tiers[created].put_per_1k / 1000.0
            } else {
                0.0
            };
            let cost = if first.op == Op::Put {
                if tier != created {
                    continue;
                }
                put
            } else if tier == created {
                put + self.serve(tier, first.op)
            } else {
                put + p.rate[created] * p.min[created] + p.mc[created][tier] + self.serve(tier, first.op)
            };
            layer.push(State {
                tier: tier as u8,
                deadline: t0 + p.min[tier],
                cost,
                parent: u32::MAX,
                at: STAY,
                via: created as u8,
            });
        }
        prune(layer, &p.rate, t0)
    }

    /// The states after access `k`, from those after access `k - 1`.
    pub(super) fn next_layer(&self, k: usize, before: &[State]) -> Vec<State> {
        let mut next = Vec::new();
        for (parent, state) in before.iter().enumerate() {
            for tier in 0..self.tiers.len() {
                self.reach(k, parent as u32, state, tier, &mut next);
            }
        }
        prune(next, &self.prices.rate, self.access(k).ts as f64)
    }

    /// Every way from `state` (after access `k - 1`) to serving access `k` on `tier`, pushed to
    /// `next`: stay and move right before the access, or move earlier and wait somewhere.
    fn reach(&self, k: usize, parent: u32, state: &State, tier: usize, next: &mut Vec<State>) {
        let p = self.prices;
        let (from, access) = (self.access(k - 1).ts, self.access(k));
        let to = access.ts;
        let left = state.tier as usize;
        // Leaving `left` at x costs its storage up to x or to its deadline, whichever is later.
        let leave = |x: Millis| p.rate[left] * (state.deadline.max(x as f64) - from as f64);
        let mut arrive = |cost: f64, deadline: f64, at: Millis, via: usize| {
            let (serving, deadline) = self.served(tier, access.op, to, deadline);
            next.push(State {
                tier: tier as u8,
                deadline,
                cost: cost + serving,
                parent,
                at,
                via: via as u8,
            });
        };
        if tier == left {
            arrive(
                state.cost + p.rate[left] * (to - from) as f64,
                state.deadline,
                STAY,
                left,
            );
        } else {
            arrive(
                state.cost + leave(to) + p.mc[left][tier],
                to as f64 + p.min[tier],
                STAY,
                left,
            );
        }
        // Move to `wait` at x and wait there; then (wait ≠ tier) on to `tier` right before the access.
        for wait in (0..self.tiers.len()).filter(|w| *w != left) {
            let (min_wait, later) = self.wait_window(k, left, tier, wait);
            for x in times(from, to, state.deadline, min_wait, later) {
                if wait == tier {
                    arrive(
                        state.cost + leave(x) + p.mc[left][tier] + p.rate[tier] * (to - x) as f64,
                        x as f64 + p.min[tier],
                        x,
                        wait,
                    );
                } else {
                    let stay = p.rate[wait] * ((to - x) as f64).max(p.min[wait]);
                    arrive(
                        state.cost + leave(x) + p.mc[left][wait] + stay + p.mc[wait][tier],
                        to as f64 + p.min[tier],
                        x,
                        wait,
                    );
                }
            }
        }
    }

    /// The minimum a wait on `wait` must pay, and the later accesses whose times are move times
    /// worth trying. Waiting on the serving tier itself, the stay goes on after the access, so
    /// when it begins sets a deadline that later moves feel — which can pay only when that tier
    /// is dearer than the one left (else leaving at its deadline is best).
    fn wait_window(&self, k: usize, left: usize, tier: usize, wait: usize) -> (f64, &[Millis]) {
        let p = self.prices;
        let to = self.access(k).ts;
        if wait == tier && p.rate[tier] > p.rate[left] && p.min[tier] > 0.0 {
            let within = self.stamps[k + 1..]
                .iter()
                .take_while(|t| (**t as f64) < to as f64 + p.min[tier])
                .count();
            (
                p.min[tier],
                &self.stamps[k + 1..(k + 1 + within).min(k + 1 + LOOKAHEAD)],
            )
        } else if wait == tier {
            (p.min[tier], &self.stamps[..0])
        } else {
            (p.min[wait], &self.stamps[..0])
        }
    }

    /// The cheapest end from the states after the last access: stay where it is, or move once
    /// more (no move after the trace ends, at `trace_end`).
    pub(super) fn best_end(&self, last: &[State], end: LifeEnd) -> End {
        let p = self.prices;
        let last_ts = self.access(self.accesses.len() - 1).ts;
        let mut best = End {
            cost: f64::INFINITY,
            state: 0,
            at: STAY,
            via: 0,
        };
        for (i, state) in last.iter().enumerate() {
            let left = state.tier as usize;
            let leave = |x: Millis| p.rate[left] * (state.deadline.max(x as f64) - last_ts as f64);
            let stay = if end.deleted {
                leave(end.at)
            } else {
                p.rate[left] * (end.at - last_ts) as f64
            };
            if state.cost + stay < best.cost {
                best = End {
                    cost: state.cost + stay,
                    state: i,
                    at: STAY,
                    via: state.tier,
                };
            }
            let latest = if end.deleted {
                end.at
            } else {
                self.workload.end.min(end.at) + 1
            };
            for wait in (0..self.tiers.len()).filter(|w| *w != left) {
                let min_wait = if end.deleted { p.min[wait] } else { 0.0 };
                for x in times(last_ts, latest, state.deadline, min_wait, &[]) {
                    let stay = if end.deleted {
                        p.rate[wait] * ((end.at - x) as f64).max(p.min[wait])
                    } else {
                        p.rate[wait] * (end.at - x) as f64
                    };
                    let cost = state.cost + leave(x) + p.mc[left][wait] + stay;
                    if cost < best.cost {
                        best = End {
                            cost,
                            state: i,
                            at: x,
                            via: wait as u8,
                        };
                    }
                }
            }
        }
        best
    }
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
