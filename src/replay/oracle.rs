//! The offline optimum: knowing every future access, the cheapest sequence of tiers for each
//! object, by dynamic programming over (access × tier). Exact in continuous time: storage is
//! linear in time, so between two accesses the best plan stays on one tier `r` (moving there right
//! after the first access and away right before the second), and moves chain through other tiers
//! only when that is cheaper (closure of the move costs). Capacity is ignored: each object is
//! planned alone, so the result is exact when no tier overflows, and a lower bound otherwise.

use super::meter::{GB, MONTH_MS, Meter, serve_cost};
use super::policy::Policy;
use super::workload::{Ev, Workload};
use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::placement::cost::move_cost;

/// The optimum's decisions per event (for DELETEs unused) and its cost.
#[derive(Debug, Clone)]
pub struct Oracle {
    /// Tier serving event i.
    serve: Vec<u8>,
    /// Tier the object waits on after event i.
    after: Vec<u8>,
    /// Total cost by the dynamic programme's own arithmetic.
    pub cost: f64,
    tiers: Vec<TierConfig>,
    sizes: Vec<u64>,
    landing: usize,
}

/// Cheapest way (possibly through other tiers) between any two tiers for `gb` gigabytes, and the
/// first hop of each.
fn moves(tiers: &[TierConfig], gb: f64) -> (Vec<Vec<f64>>, Vec<Vec<usize>>) {
    let n = tiers.len();
    let mut c: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    if i == j {
                        0.0
                    } else {
                        move_cost(&tiers[i], &tiers[j], gb)
                    }
                })
                .collect()
        })
        .collect();
    let mut next: Vec<Vec<usize>> = (0..n).map(|_| (0..n).collect()).collect();
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if c[i][k] + c[k][j] < c[i][j] {
                    c[i][j] = c[i][k] + c[k][j];
                    next[i][j] = next[i][k];
                }
            }
        }
    }
    (c, next)
}

impl Oracle {
    pub fn solve(w: &Workload, tiers: &[TierConfig]) -> Self {
        let n_t = tiers.len();
        let mut by_obj: Vec<Vec<u32>> = vec![Vec::new(); w.objects()];
        for (i, e) in w.events.iter().enumerate() {
            by_obj[e.obj as usize].push(i as u32);
        }
        let mut o = Oracle {
            serve: vec![0; w.events.len()],
            after: vec![0; w.events.len()],
            cost: 0.0,
            tiers: tiers.to_vec(),
            sizes: w.sizes.clone(),
            landing: 0,
        };
        for (obj, evs) in by_obj.iter().enumerate() {
            let gb = w.sizes[obj] as f64 / GB;
            let (mc, _) = moves(tiers, gb);
            let rate: Vec<f64> = tiers.iter().map(|t| gb * t.storage_gb_month / MONTH_MS).collect();
            // Lives: runs of accesses ended by a DELETE (or the trace's end).
            let mut life: Vec<u32> = Vec::new();
            for &i in evs {
                let e = &w.events[i as usize];
                if e.op == Op::Delete {
                    if !life.is_empty() {
                        o.cost += o.plan_life(w, &life, e.ts, &mc, &rate, n_t);
                        life.clear();
                    }
                } else {
                    life.push(i);
                }
            }
            if !life.is_empty() {
                o.cost += o.plan_life(w, &life, w.end, &mc, &rate, n_t);
            }
        }
        o
    }

    /// Plans one life (accesses `life`, stored until `end`) and returns its cost.
    fn plan_life(&mut self, w: &Workload, life: &[u32], end: Millis, mc: &[Vec<f64>], rate: &[f64], n_t: usize) -> f64 {
        let ev = |k: usize| w.events[life[k] as usize];
        let gb = self.sizes[ev(0).obj as usize] as f64 / GB;
        let serve = |t: usize, op: Op| {
            let (r, q) = serve_cost(&self.tiers[t], op, gb);
            r + q
        };
        // Waiting from p to q over `dt` ms through the best tier r: (cost, r).
        let wait = |p: usize, q: usize, dt: f64| {
            (0..n_t)
                .map(|r| (mc[p][r] + rate[r] * dt + mc[r][q], r))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or((f64::INFINITY, p))
        };
        let first = ev(0);
        // Created on the tier that serves it: its PUT there, and the access unless it is the PUT.
        let mut v: Vec<f64> = (0..n_t)
            .map(|t| {
                let put = self.tiers[t].put_per_1k / 1000.0;
                put + if first.op == Op::Put { 0.0 } else { serve(t, first.op) }
            })
            .collect();
        let mut back: Vec<(u8, u8)> = Vec::with_capacity(life.len() * n_t);
        for k in 1..life.len() {
            let (prev, e) = (ev(k - 1), ev(k));
            let dt = (e.ts - prev.ts) as f64;
            let mut nv = Vec::with_capacity(n_t);
            for q in 0..n_t {
                let mut best = (f64::INFINITY, 0u8, 0u8);
                for (p, vp) in v.iter().enumerate() {
                    let (c, r) = wait(p, q, dt);
                    if vp + c < best.0 {
                        best = (vp + c, p as u8, r as u8);
                    }
                }
                nv.push(best.0 + serve(q, e.op));
                back.push((best.1, best.2));
            }
            v = nv;
        }
        let last = ev(life.len() - 1);
        let tail = (end - last.ts) as f64;
        let (mut total, mut s, mut r_end) = (f64::INFINITY, 0usize, 0usize);
        for (p, vp) in v.iter().enumerate() {
            for r in 0..n_t {
                let c = vp + mc[p][r] + rate[r] * tail;
                if c < total {
                    (total, s, r_end) = (c, p, r);
                }
            }
        }
        self.serve[life[life.len() - 1] as usize] = s as u8;
        self.after[life[life.len() - 1] as usize] = r_end as u8;
        for k in (1..life.len()).rev() {
            let (p, r) = back[(k - 1) * n_t + s];
            self.serve[life[k - 1] as usize] = p;
            self.after[life[k - 1] as usize] = r;
            s = p as usize;
        }
        total
    }

    /// Moves `obj` to `to` along the cheapest chain of moves.
    fn go(&self, m: &mut Meter, obj: usize, to: usize, now: Millis) {
        let Some(mut at) = m.tier_of(obj) else { return };
        if at == to {
            return;
        }
        let (_, next) = moves(&self.tiers, self.sizes[obj] as f64 / GB);
        while at != to {
            let hop = next[at][to];
            m.migrate(obj, hop, now);
            at = hop;
        }
    }
}

/// The optimum replayed through the meter like any policy, so it is charged by the same code.
impl Policy for Oracle {
    fn name(&self) -> &str {
        "oracle"
    }

    fn landing(&self, _obj: usize) -> usize {
        self.landing
    }

    fn before(&mut self, m: &mut Meter, i: usize, ev: &Ev) {
        if ev.op == Op::Delete {
            return;
        }
        let to = self.serve[i] as usize;
        self.landing = to;
        self.go(m, ev.obj as usize, to, ev.ts);
    }

    fn after(&mut self, m: &mut Meter, i: usize, ev: &Ev) {
        if ev.op != Op::Delete {
            self.go(m, ev.obj as usize, self.after[i] as usize, ev.ts);
        }
    }
}
