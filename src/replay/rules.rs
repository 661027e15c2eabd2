//! The rules users run today: everything on one tier, S3 Intelligent-Tiering, FabricPool `auto`,
//! age-based lifecycle transitions, and an LRU-managed hot tier.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::meter::Meter;
use super::policy::Policy;
use super::workload::Ev;
use crate::engine::clock::Millis;
use crate::engine::events::Op;

const DAY_MS: f64 = 86_400_000.0;

/// What real tiering rules refuse to do (S3's documented behaviour, from `[replay]`).
pub struct RuleLimits {
    /// Intelligent-Tiering does not monitor (so never moves) smaller objects.
    it_min_bytes: u64,
    /// Lifecycle transitions skip smaller objects.
    lc_min_bytes: u64,
    /// Days after creation before a lifecycle transition may enter an IA class, per tier (0
    /// where there is no such rule).
    lc_min_days: Vec<f64>,
}

impl RuleLimits {
    pub fn new(cfg: &crate::config::Config) -> Self {
        let r = &cfg.replay;
        Self {
            it_min_bytes: r.intelligent_tiering_min_bytes,
            lc_min_bytes: r.lifecycle_min_bytes,
            // The IA classes are the ones that bill a minimum size without needing a restore.
            lc_min_days: cfg
                .tiers
                .iter()
                .map(|t| {
                    if t.min_billable_bytes > 0 && t.restore_hours == 0.0 && t.min_storage_days <= 30.0 {
                        r.lifecycle_ia_min_days
                    } else {
                        0.0
                    }
                })
                .collect(),
        }
    }
}

/// Every object on one tier, forever.
pub struct Fixed {
    pub name: &'static str,
    pub tier: usize,
}

impl Policy for Fixed {
    fn name(&self) -> &str {
        self.name
    }
    fn landing(&self, _obj: usize) -> usize {
        self.tier
    }
}

/// Objects start on the first tier and step down a list of tiers after a number of days, counted
/// from the last access (Intelligent-Tiering, FabricPool) or from creation (lifecycle rules);
/// an access that `returns` brings the object back to the first tier.
pub struct Timed {
    name: &'static str,
    /// (delay, tier) per step, delays rising.
    steps: Vec<(Millis, usize)>,
    from_creation: bool,
    returns: fn(Op) -> bool,
    /// Objects the rule never moves (too small for it).
    exempt: Vec<bool>,
    /// Per object: when its clock started, and a generation that voids older timers.
    base: Vec<Millis>,
    generation: Vec<u32>,
    /// The event being served created its object.
    creating: bool,
    timers: BinaryHeap<Reverse<(Millis, u32, u32, u8)>>,
}

impl Timed {
    fn new(
        name: &'static str,
        days: &[f64],
        tiers: &[usize],
        from_creation: bool,
        objects: usize,
        returns: fn(Op) -> bool,
    ) -> Self {
        Self {
            exempt: vec![false; objects],
            name,
            steps: days
                .iter()
                .zip(tiers)
                .map(|(d, t)| ((d * DAY_MS) as Millis, *t))
                .collect(),
            from_creation,
            returns,
            base: vec![0; objects],
            generation: vec![0; objects],
            creating: false,
            timers: BinaryHeap::new(),
        }
    }

    /// S3 Intelligent-Tiering: after `days[k]` without access, tier k + 1; any access, back to
    /// the first. Objects under the monitoring minimum (128 KB) stay on the first tier.
    pub fn intelligent_tiering(days: &[f64], n_tiers: usize, sizes: &[u64], limits: &RuleLimits) -> Self {
        let tiers: Vec<usize> = (1..n_tiers).collect();
        let mut r = Self::new("s3-intelligent-tiering", days, &tiers, false, sizes.len(), |_| true);
        r.exempt = sizes.iter().map(|s| *s < limits.it_min_bytes).collect();
        r
    }

    /// FabricPool `auto`: after the cooling period without access, the cheapest tier; a read
    /// (or an overwrite) brings the object back to the performance tier.
    pub fn fabricpool(cooling_days: f64, cold: usize, objects: usize) -> Self {
        Self::new("fabricpool-auto", &[cooling_days], &[cold], false, objects, |op| {
            matches!(op, Op::Get | Op::Put)
        })
    }

    /// Lifecycle transitions: `days[k]` after creation, tier k + 1; never back. Objects under
    /// the transition minimum (128 KB) are skipped, and an IA class is entered no earlier than
    /// its minimum age (30 days).
    pub fn lifecycle(days: &[f64], n_tiers: usize, sizes: &[u64], limits: &RuleLimits) -> Self {
        let tiers: Vec<usize> = (1..n_tiers).collect();
        let days: Vec<f64> = days
            .iter()
            .zip(&tiers)
            .map(|(d, t)| d.max(limits.lc_min_days.get(*t).copied().unwrap_or(0.0)))
            .collect();
        let mut r = Self::new("age-lifecycle", &days, &tiers, true, sizes.len(), |_| false);
        r.exempt = sizes.iter().map(|s| *s < limits.lc_min_bytes).collect();
        r
    }

    fn arm(&mut self, obj: usize, step: usize) {
        if self.exempt[obj] {
            return;
        }
        if let Some((delay, _)) = self.steps.get(step) {
            let due = self.base[obj] + delay;
            self.timers
                .push(Reverse((due, obj as u32, self.generation[obj], step as u8)));
        }
    }
}

impl Policy for Timed {
    fn name(&self) -> &str {
        self.name
    }

    fn landing(&self, _obj: usize) -> usize {
        0
    }

    fn advance(&mut self, m: &mut Meter, now: Millis) {
        while let Some(Reverse((due, obj, generation, step))) = self.timers.peek().copied() {
            if due > now {
                break;
            }
            self.timers.pop();
            let obj = obj as usize;
            if generation != self.generation[obj] {
                continue;
            }
            let to = self.steps[step as usize].1;
            if m.tier_of(obj).is_some_and(|t| t < to) {
                m.migrate(obj, to, due);
            }
            self.arm(obj, step as usize + 1);
        }
    }

    fn before(&mut self, m: &mut Meter, _i: usize, ev: &Ev) {
        self.creating = m.tier_of(ev.obj as usize).is_none();
    }

    fn after(&mut self, m: &mut Meter, _i: usize, ev: &Ev) {
        let obj = ev.obj as usize;
        if ev.op == Op::Delete {
            self.generation[obj] += 1;
            return;
        }
        if self.from_creation {
            if self.creating {
                self.generation[obj] += 1;
                self.base[obj] = ev.ts;
                self.arm(obj, 0);
            }
            return;
        }
        if (self.returns)(ev.op) && m.tier_of(obj).is_some_and(|t| t != 0) {
            m.migrate(obj, 0, ev.ts);
        }
        if m.tier_of(obj) == Some(0) {
            self.generation[obj] += 1;
            self.base[obj] = ev.ts;
            self.arm(obj, 0);
        }
    }

    fn notes(&self) -> Vec<String> {
        let days: Vec<String> = self
            .steps
            .iter()
            .map(|(d, t)| format!("{:.0} d → tier {}", *d as f64 / DAY_MS, t + 1))
            .collect();
        let from = if self.from_creation {
            "after creation"
        } else {
            "without access"
        };
        let exempt = self.exempt.iter().filter(|e| **e).count();
        let mut v = vec![format!("{} {from}", days.join(", "))];
        if exempt > 0 {
            v.push(format!("{exempt} objects too small for the rule stay on tier 1"));
        }
        v
    }
}

/// The fast tier as an LRU cache of fixed size over the cold tier: new objects are written to it,
/// a read of an object on the cold tier is served there and then promoted, and the least
/// recently used objects are evicted to the cold tier.
pub struct Lru {
    capacity: u64,
    hot: usize,
    cold: usize,
    used: u64,
    tick: u64,
    /// Per object: its tick in `order` (0 = not cached).
    stamp: Vec<u64>,
    order: BTreeMap<u64, u32>,
    sizes: Vec<u64>,
}

impl Lru {
    pub fn new(capacity: u64, hot: usize, cold: usize, sizes: &[u64]) -> Self {
        Self {
            capacity,
            hot,
            cold,
            used: 0,
            tick: 0,
            stamp: vec![0; sizes.len()],
            order: BTreeMap::new(),
            sizes: sizes.to_vec(),
        }
    }

    /// Evicts the least recently used objects to the cold tier until `size` more bytes fit.
    fn make_room(&mut self, m: &mut Meter, size: u64, now: Millis) {
        while self.used + size > self.capacity {
            let Some((_, victim)) = self.order.pop_first() else {
                break;
            };
            let victim = victim as usize;
            self.stamp[victim] = 0;
            self.used -= self.sizes[victim];
            m.migrate(victim, self.cold, now);
        }
    }

    fn forget(&mut self, obj: usize) {
        if self.stamp[obj] != 0 {
            self.order.remove(&self.stamp[obj]);
            self.stamp[obj] = 0;
            self.used -= self.sizes[obj];
        }
    }
}

impl Policy for Lru {
    fn name(&self) -> &str {
        "lru-hot-tier"
    }

    fn landing(&self, _obj: usize) -> usize {
        // Every write lands on the cache tier, as with every policy; one too large for the
        // cache is evicted right after (see `after`).
        self.hot
    }

    fn before(&mut self, m: &mut Meter, _i: usize, ev: &Ev) {
        let obj = ev.obj as usize;
        if ev.op != Op::Delete && m.tier_of(obj).is_none() && self.sizes[obj] <= self.capacity {
            // A new object is written to the cache: room first.
            self.make_room(m, self.sizes[obj], ev.ts);
        }
    }

    fn after(&mut self, m: &mut Meter, _i: usize, ev: &Ev) {
        let obj = ev.obj as usize;
        let size = self.sizes[obj];
        if ev.op == Op::Delete {
            self.forget(obj);
            return;
        }
        if size > self.capacity {
            if m.tier_of(obj) == Some(self.hot) {
                m.migrate(obj, self.cold, ev.ts);
            }
            return;
        }
        if m.tier_of(obj) != Some(self.hot) {
            // A miss, served from the cold tier: promote it.
            self.make_room(m, size, ev.ts);
            m.migrate(obj, self.hot, ev.ts);
        }
        self.forget(obj);
        self.tick += 1;
        self.stamp[obj] = self.tick;
        self.order.insert(self.tick, obj as u32);
        self.used += size;
    }

    fn notes(&self) -> Vec<String> {
        vec![format!(
            "cache {} on tier {}",
            bytesize::ByteSize(self.capacity),
            self.hot + 1
        )]
    }
}
