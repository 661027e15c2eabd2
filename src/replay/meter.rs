//! The cost meter of a replay: storage by tier-time, requests, retrieval, and each move's egress and
//! requests, priced from the configured tiers. No bytes move; every policy is charged by the same meter.

use serde::Serialize;

use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::placement::cost::move_cost;

/// A month of storage, as the tiers' `storage_gb_month` prices mean it (30 days).
pub const MONTH_MS: f64 = 30.0 * 24.0 * 3600.0 * 1000.0;
pub const GB: f64 = 1e9;

/// Request and retrieval cost of serving `op` on an object of `gb` gigabytes from `tier`.
pub fn serve_cost(tier: &TierConfig, op: Op, gb: f64) -> (f64, f64) {
    match op {
        Op::Get => (tier.get_per_1k / 1000.0, gb * tier.retrieval_gb),
        Op::Head => (tier.get_per_1k / 1000.0, 0.0),
        Op::Put => (tier.put_per_1k / 1000.0, 0.0),
        Op::Delete => (0.0, 0.0),
    }
}

/// What a policy cost, by part, in dollars.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Costs {
    pub storage: f64,
    pub requests: f64,
    pub retrieval: f64,
    pub migration: f64,
}

impl Costs {
    pub fn total(&self) -> f64 {
        self.storage + self.requests + self.retrieval + self.migration
    }
}

/// Where each object is since when, and everything charged so far.
#[derive(Debug, Clone)]
pub struct Meter {
    tiers: Vec<TierConfig>,
    sla_latency_ms: f64,
    /// Per object: its tier and since when it is stored there (None: not stored yet).
    placed: Vec<Option<(usize, Millis)>>,
    sizes: Vec<u64>,
    pub costs: Costs,
    pub migrations: u64,
    pub bytes_moved: u64,
    /// Reads served from a tier slower than the SLA.
    pub sla_violations: u64,
    /// Bytes stored per tier now, and the most ever.
    used: Vec<u64>,
    pub peak: Vec<u64>,
    /// Storage accruing and not yet charged: Σ rate (over stored objects, $/ms) and
    /// Σ rate × since, so the cost up to any time is O(1) (for the cumulative chart).
    rate: f64,
    rate_since: f64,
}

impl Meter {
    /// A meter for objects of `sizes` (index = object id) on `tiers`.
    pub fn new(tiers: &[TierConfig], sla_latency_ms: f64, sizes: Vec<u64>) -> Self {
        Self {
            tiers: tiers.to_vec(),
            sla_latency_ms,
            placed: vec![None; sizes.len()],
            sizes,
            costs: Costs::default(),
            migrations: 0,
            bytes_moved: 0,
            sla_violations: 0,
            used: vec![0; tiers.len()],
            peak: vec![0; tiers.len()],
            rate: 0.0,
            rate_since: 0.0,
        }
    }

    pub fn tiers(&self) -> &[TierConfig] {
        &self.tiers
    }

    pub fn size(&self, obj: usize) -> u64 {
        self.sizes[obj]
    }

    /// Everything charged up to `now`, storage accrued so far included (approximate in the
    /// last digits: for charts; `finish` charges exactly).
    pub fn total_at(&self, now: Millis) -> f64 {
        self.costs.total() + (self.rate * now as f64 - self.rate_since).max(0.0)
    }

    /// Storage price of `obj` on tier `t`, $/ms.
    fn rate_of(&self, obj: usize, t: usize) -> f64 {
        self.gb(obj) * self.tiers[t].storage_gb_month / MONTH_MS
    }

    /// `obj` is now stored on `t` from `now` (or, with None, no longer stored).
    fn place(&mut self, obj: usize, at: Option<(usize, Millis)>) {
        if let Some((t, since)) = self.placed[obj] {
            let r = self.rate_of(obj, t);
            self.rate -= r;
            self.rate_since -= r * since as f64;
            self.used[t] -= self.sizes[obj];
        }
        if let Some((t, since)) = at {
            let r = self.rate_of(obj, t);
            self.rate += r;
            self.rate_since += r * since as f64;
            self.used[t] += self.sizes[obj];
            self.peak[t] = self.peak[t].max(self.used[t]);
        }
        self.placed[obj] = at;
    }

    /// The tier holding `obj`, if it is stored.
    pub fn tier_of(&self, obj: usize) -> Option<usize> {
        self.placed[obj].map(|(t, _)| t)
    }

    pub fn gb(&self, obj: usize) -> f64 {
        self.sizes[obj] as f64 / GB
    }

    /// Charges `obj`'s storage on its tier up to `now` and restarts its interval there.
    fn settle(&mut self, obj: usize, now: Millis) {
        if let Some((t, since)) = self.placed[obj] {
            let months = (now - since).max(0) as f64 / MONTH_MS;
            self.costs.storage += self.gb(obj) * self.tiers[t].storage_gb_month * months;
            self.place(obj, Some((t, now)));
        }
    }

    /// `obj` is first written, at `now`, to `tier` (its PUT is charged there).
    pub fn create(&mut self, obj: usize, tier: usize, now: Millis) {
        self.settle(obj, now);
        self.place(obj, Some((tier, now)));
        self.costs.requests += self.tiers[tier].put_per_1k / 1000.0;
    }

    /// An access to a stored object, served by its tier. An access to an object not stored yet
    /// stores it first on `landing` (a trace starts in the middle of an object's life).
    pub fn access(&mut self, obj: usize, op: Op, now: Millis, landing: usize) {
        let Some(t) = self.tier_of(obj) else {
            if op == Op::Delete {
                return;
            }
            self.create(obj, landing, now);
            if op == Op::Put {
                return;
            }
            return self.access(obj, op, now, landing);
        };
        let tier = &self.tiers[t];
        if op == Op::Delete {
            self.settle(obj, now);
            self.place(obj, None);
            return;
        }
        let (requests, retrieval) = serve_cost(tier, op, self.gb(obj));
        self.costs.requests += requests;
        self.costs.retrieval += retrieval;
        if matches!(op, Op::Get | Op::Head) && tier.latency_ms > self.sla_latency_ms {
            self.sla_violations += 1;
        }
    }

    /// Moves `obj` to `to` at `now`: a GET (and retrieval) on the source, egress when the
    /// providers differ, a PUT on the destination. Moving to where it is does nothing.
    pub fn migrate(&mut self, obj: usize, to: usize, now: Millis) {
        let Some(from) = self.tier_of(obj) else { return };
        if from == to {
            return;
        }
        self.settle(obj, now);
        self.costs.migration += move_cost(&self.tiers[from], &self.tiers[to], self.gb(obj));
        self.place(obj, Some((to, now)));
        self.migrations += 1;
        self.bytes_moved += self.sizes[obj];
    }

    /// Charges every stored object's storage up to `end`.
    pub fn finish(&mut self, end: Millis) {
        for obj in 0..self.placed.len() {
            self.settle(obj, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prices: storage $/GB-month, GET and PUT $/1k, retrieval and egress $/GB; latency ms.
    fn tier(name: &str, provider: &str, [storage, get, put, retr, egress, lat]: [f64; 6]) -> TierConfig {
        let mut t = crate::config::Config::embedded_default().unwrap().tiers[0].clone();
        t.name = name.into();
        t.provider = provider.into();
        t.storage_gb_month = storage;
        t.get_per_1k = get;
        t.put_per_1k = put;
        t.retrieval_gb = retr;
        t.egress_gb = egress;
        t.latency_ms = lat;
        t
    }

    /// Two objects (2 GB and 1 GB) for exactly one month: every part computed by hand.
    #[test]
    fn charges_are_exact() {
        let tiers = [
            tier("hot", "aws", [0.02, 0.4, 5.0, 0.0, 0.09, 20.0]),
            tier("cold", "gcp", [0.004, 10.0, 20.0, 0.03, 0.12, 150.0]),
        ];
        let month = MONTH_MS as Millis;
        let mut m = Meter::new(&tiers, 50.0, vec![2_000_000_000, 1_000_000_000]);
        m.access(0, Op::Put, 0, 0); // created on hot: one PUT, 5/1000
        m.access(1, Op::Get, 0, 1); // first seen by a GET: stored on cold (PUT 20/1000), then read
        m.access(0, Op::Get, month / 2, 0); // hot GET: 0.4/1000, no retrieval, within the SLA
        m.migrate(0, 1, month / 2); // GET on hot 0.4/1000 + PUT on cold 20/1000 + egress 2 × 0.09
        m.access(0, Op::Get, month, 0); // cold GET: 10/1000 + retrieval 2 × 0.03, an SLA violation
        let accrued = m.total_at(month);
        m.finish(month);
        assert!(
            (accrued - m.costs.total()).abs() < 1e-12,
            "the running total is the final one"
        );
        assert_eq!(m.peak, [2_000_000_000, 3_000_000_000]);
        let c = &m.costs;
        // Storage: object 0 half a month on hot (2 × 0.02 / 2) + half on cold (2 × 0.004 / 2);
        // object 1 a month on cold (1 × 0.004).
        let storage = 0.02 + 0.004 + 0.004;
        assert!((c.storage - storage).abs() < 1e-12, "{}", c.storage);
        let requests = 0.005 + 0.020 + 0.010 + 0.0004 + 0.010;
        assert!((c.requests - requests).abs() < 1e-12, "{}", c.requests);
        // Object 1's first read on cold (1 × 0.03) and object 0's (2 × 0.03).
        assert!((c.retrieval - 0.09).abs() < 1e-12, "{}", c.retrieval);
        let migration = 0.0004 + 0.020 + 2.0 * 0.09;
        assert!((c.migration - migration).abs() < 1e-12, "{}", c.migration);
        assert_eq!((m.migrations, m.bytes_moved), (1, 2_000_000_000));
        assert_eq!(m.sla_violations, 2, "both reads on cold");
        assert!((c.total() - (storage + requests + 0.09 + migration)).abs() < 1e-12);
    }

    #[test]
    fn a_deleted_object_stops_costing_and_moves_within_a_provider_have_no_egress() {
        let tiers = [
            tier("a", "aws", [0.02, 0.0, 0.0, 0.0, 0.09, 20.0]),
            tier("b", "aws", [0.01, 0.0, 0.0, 0.0, 0.09, 20.0]),
        ];
        let month = MONTH_MS as Millis;
        let mut m = Meter::new(&tiers, 50.0, vec![1_000_000_000]);
        m.create(0, 0, 0);
        m.migrate(0, 1, 0);
        m.migrate(0, 1, 0);
        assert_eq!(m.migrations, 1, "a move to where it is is no move");
        m.access(0, Op::Delete, 0, 0);
        m.access(0, Op::Delete, 0, 0);
        m.create(0, 1, 0);
        assert_eq!(m.costs.migration, 0.0, "same provider, free requests");
        m.access(0, Op::Delete, month / 2, 0);
        m.finish(month);
        assert!((m.costs.storage - 0.005).abs() < 1e-12, "{}", m.costs.storage);
        assert_eq!(m.tier_of(0), None);
    }
}
