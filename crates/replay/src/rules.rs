//! The rules users run today: everything on one tier, S3 Intelligent-Tiering, FabricPool `auto`,
//! age-based lifecycle transitions, and an LRU-managed hot tier.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::break_even::break_even_steps;
use super::meter::Meter;
use super::policy::Policy;
use super::products::PriceSet;
use super::workload::Ev;
use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::placement::billing::SlaPrice;

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

/// When a `Timed` rule moves an object, as (idle or age, tier) steps with rising times.
enum Steps {
    /// One schedule for every object (days named by the rule).
    Shared(Vec<(Millis, usize)>),
    /// One per object (break-even times depend on its size).
    PerObject(Vec<Vec<(Millis, usize)>>),
}

impl Steps {
    /// Step k after `days[k]`, to `tiers[k]`.
    fn days(days: &[f64], tiers: &[usize]) -> Self {
        Self::Shared(
            days.iter()
                .zip(tiers)
                .map(|(d, t)| ((d * DAY_MS) as Millis, *t))
                .collect(),
        )
    }

    fn of(&self, obj: usize) -> &[(Millis, usize)] {
        match self {
            Self::Shared(s) => s,
            Self::PerObject(v) => &v[obj],
        }
    }
}

/// Objects start on the first tier and step down a list of tiers after a number of days, counted
/// from the last access (Intelligent-Tiering, FabricPool) or from creation (lifecycle rules);
/// an access that `returns` brings the object back to the first tier.
pub struct Timed {
    name: &'static str,
    steps: Steps,
    from_creation: bool,
    returns: fn(Op) -> bool,
    /// Tiers an access does not bring an object back from (Azure's auto-tier to hot acts on
    /// Cool only).
    stays_on: Vec<usize>,
    /// The product's own price set, when it is metered on one.
    price: Option<PriceSet>,
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
    fn new(name: &'static str, steps: Steps, from_creation: bool, objects: usize, returns: fn(Op) -> bool) -> Self {
        Self {
            exempt: vec![false; objects],
            name,
            steps,
            from_creation,
            returns,
            stays_on: Vec::new(),
            price: None,
            base: vec![0; objects],
            generation: vec![0; objects],
            creating: false,
            timers: BinaryHeap::new(),
        }
    }

    /// S3 Intelligent-Tiering: after `days[k]` without access, tier k + 1; any access, back to
    /// the first. Objects under the monitoring minimum (128 KB) stay on the first tier, and the
    /// others pay the monitoring fee: on its own access tiers where the configured tiers are
    /// AWS's (`products.rs`), else on the configured tiers.
    pub fn intelligent_tiering(days: &[f64], price: PriceSet, sizes: &[u64], limits: &RuleLimits) -> Self {
        let tiers: Vec<usize> = (1..price.tiers.len()).collect();
        let mut r = Self::new(
            "s3-intelligent-tiering",
            Steps::days(days, &tiers),
            false,
            sizes.len(),
            |_| true,
        );
        r.exempt = sizes.iter().map(|s| *s < limits.it_min_bytes).collect();
        r.price = Some(price);
        r
    }

    /// GCS Autoclass: after 30 days without access Nearline, 90 Coldline, 365 Archive; a read
    /// brings an object back to Standard; objects under 128 KiB stay in Standard.
    pub fn autoclass(price: PriceSet, sizes: &[u64]) -> Self {
        let tiers: Vec<usize> = (1..price.tiers.len()).collect();
        let mut r = Self::new(
            "gcs-autoclass",
            Steps::days(&[30.0, 90.0, 365.0], &tiers),
            false,
            sizes.len(),
            |op| matches!(op, Op::Get | Op::Head),
        );
        r.exempt = sizes
            .iter()
            .map(|s| *s < super::products::OBJECT_FEE_MIN_BYTES)
            .collect();
        r.price = Some(price);
        r
    }

    /// Azure Blob lifecycle on last access time: Cool after 30 days without access, Cold after
    /// 90; with `enableAutoTierToHotFromCool`, a read of a Cool blob brings it back to Hot (a
    /// Cold one stays).
    pub fn azure_last_access(price: PriceSet, objects: usize) -> Self {
        let tiers: Vec<usize> = (1..price.tiers.len().min(3)).collect();
        let mut r = Self::new(
            "azure-last-access",
            Steps::days(&[30.0, 90.0], &tiers),
            false,
            objects,
            |op| matches!(op, Op::Get | Op::Head),
        );
        r.stays_on = (2..price.tiers.len()).collect();
        r.price = Some(price);
        r
    }

    /// The price-derived idle timer (`ski-rental`): an object idle long enough that the storage
    /// it would have saved on a cheaper tier pays the move there, that tier's minimum duration
    /// and one return (with its read there) moves there — per object size and tier pair, from
    /// the billing model; then on down the same way; a read brings it back to `home`. The
    /// break-even rule, 2-competitive against the offline optimum for one tier pair.
    pub fn ski_rental(tiers: &[TierConfig], sla: SlaPrice, home: usize, sizes: &[u64]) -> Self {
        let steps = Steps::PerObject(sizes.iter().map(|s| break_even_steps(tiers, sla, home, *s)).collect());
        Self::new("ski-rental", steps, false, sizes.len(), |op| {
            matches!(op, Op::Get | Op::Head)
        })
    }

    /// FabricPool `auto`: after the cooling period without access, the cheapest tier; a read
    /// (or an overwrite) brings the object back to the performance tier.
    pub fn fabricpool(cooling_days: f64, cold: usize, objects: usize) -> Self {
        Self::new(
            "fabricpool-auto",
            Steps::days(&[cooling_days], &[cold]),
            false,
            objects,
            |op| matches!(op, Op::Get | Op::Put),
        )
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
        let mut r = Self::new("age-lifecycle", Steps::days(&days, &tiers), true, sizes.len(), |_| {
            false
        });
        r.exempt = sizes.iter().map(|s| *s < limits.lc_min_bytes).collect();
        r
    }

    fn arm(&mut self, obj: usize, step: usize) {
        if self.exempt[obj] {
            return;
        }
        if let Some((delay, _)) = self.steps.of(obj).get(step) {
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
            let to = self.steps.of(obj)[step as usize].1;
            if m.tier_of(obj).is_some_and(|t| t != to) {
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
        if (self.returns)(ev.op) && m.tier_of(obj).is_some_and(|t| t != 0 && !self.stays_on.contains(&t)) {
            m.migrate(obj, 0, ev.ts);
        }
        if m.tier_of(obj) == Some(0) {
            self.generation[obj] += 1;
            self.base[obj] = ev.ts;
            self.arm(obj, 0);
        }
    }

    fn price_set(&self) -> Option<&PriceSet> {
        self.price.as_ref()
    }

    fn notes(&self) -> Vec<String> {
        let days: Vec<String> = match &self.steps {
            Steps::Shared(s) => s
                .iter()
                .map(|(d, t)| format!("{:.0} d → tier {}", *d as f64 / DAY_MS, t + 1))
                .collect(),
            Steps::PerObject(_) => vec!["per object size and tier pair, at break-even".into()],
        };
        let from = if self.from_creation {
            "after creation"
        } else {
            "without access"
        };
        let exempt = self.exempt.iter().filter(|e| **e).count();
        let mut v = vec![format!("{} {from}", days.join(", "))];
        if let Some(p) = &self.price {
            v.push(p.note.clone());
        }
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
