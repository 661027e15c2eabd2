//! The cost meter of a replay: storage by tier-time, requests, retrieval, restores, each move's
//! requests and egress, and the minimum-duration charges of leaving a tier early, all priced by
//! the billing model the planner uses. No bytes move; every policy is charged by the same meter.

use serde::Serialize;

use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::placement::billing::{SlaPrice, early_exit, move_cost, serve_cost, storage_rate_ms};

/// What a policy cost, by part, in dollars.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Costs {
    pub storage: f64,
    pub requests: f64,
    pub retrieval: f64,
    pub migration: f64,
    /// Storage charged for the rest of a tier's minimum duration when an object left it early
    /// (deleted, overwritten or moved away).
    pub min_duration: f64,
    /// Reads served slower than the SLA, priced at `sla.miss_cost` each: not on the cloud's
    /// bill, but what a slow read costs the user.
    pub sla: f64,
}

impl Costs {
    /// What the cloud bills: storage, minimum durations, requests, retrieval, moves.
    pub fn bill(&self) -> f64 {
        self.storage + self.requests + self.retrieval + self.migration + self.min_duration
    }

    /// The bill plus the price of the slow reads: what every policy is judged on.
    pub fn total(&self) -> f64 {
        self.bill() + self.sla
    }
}

/// Where each object is since when, and everything charged so far.
#[derive(Debug, Clone)]
pub struct Meter {
    tiers: Vec<TierConfig>,
    sla: SlaPrice,
    /// Per object: its tier and since when it is stored there (None: not stored yet).
    placed: Vec<Option<(usize, Millis)>>,
    /// Per object: when its current stay on its tier began (for minimum durations).
    entered: Vec<Millis>,
    sizes: Vec<u64>,
    /// Per object: stored before the trace, so its first write is not billed (see `listed`).
    listed: Vec<bool>,
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
    /// A meter for objects of `sizes` (index = object id) on `tiers`, slow reads counted against
    /// an SLA of `sla_latency_ms` and priced at nothing (see `priced`).
    pub fn new(tiers: &[TierConfig], sla_latency_ms: f64, sizes: Vec<u64>) -> Self {
        Self::priced(
            tiers,
            SlaPrice {
                latency_ms: sla_latency_ms,
                miss_cost: 0.0,
            },
            sizes,
        )
    }

    /// A meter whose slow reads cost `sla.miss_cost` each.
    pub fn priced(tiers: &[TierConfig], sla: SlaPrice, sizes: Vec<u64>) -> Self {
        Self {
            tiers: tiers.to_vec(),
            sla,
            placed: vec![None; sizes.len()],
            entered: vec![0; sizes.len()],
            sizes,
            listed: Vec::new(),
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

    /// Objects an inventory lists as stored before the trace: their first write places them
    /// without a PUT on the bill.
    pub fn listed(mut self, listed: Vec<bool>) -> Self {
        self.listed = listed;
        self
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
        storage_rate_ms(&self.tiers[t], self.sizes[obj])
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

    /// Charges `obj`'s storage on its tier up to `now` and restarts its interval there.
    fn settle(&mut self, obj: usize, now: Millis) {
        if let Some((t, since)) = self.placed[obj] {
            self.costs.storage += self.rate_of(obj, t) * (now - since).max(0) as f64;
            self.place(obj, Some((t, now)));
        }
    }

    /// `obj` leaves its stay on its tier at `now` (deleted, overwritten or moved away): its
    /// storage up to now, and the rest of the tier's minimum duration if it leaves early.
    fn leave(&mut self, obj: usize, now: Millis) {
        if let Some((t, _)) = self.placed[obj] {
            let entered = self.entered[obj];
            self.settle(obj, now);
            self.costs.min_duration += early_exit(&self.tiers[t], self.sizes[obj], (now - entered) as f64);
        }
    }

    /// `obj` is first written, at `now`, to `tier` (its PUT is charged there).
    pub fn create(&mut self, obj: usize, tier: usize, now: Millis) {
        self.leave(obj, now);
        self.place(obj, Some((tier, now)));
        self.entered[obj] = now;
        match self.listed.get_mut(obj) {
            Some(l) if *l => *l = false,
            _ => self.costs.requests += self.tiers[tier].put_per_1k / 1000.0,
        }
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
        if op == Op::Delete {
            self.leave(obj, now);
            self.place(obj, None);
            return;
        }
        if op == Op::Put {
            // An overwrite replaces the stored version: the old one leaves (early, maybe), the
            // new one starts its own stay on the same tier.
            self.leave(obj, now);
            self.entered[obj] = now;
        }
        let tier = &self.tiers[t];
        let (requests, retrieval) = serve_cost(tier, op, self.sizes[obj]);
        self.costs.requests += requests;
        self.costs.retrieval += retrieval;
        if self.sla.missed(tier, op) {
            self.sla_violations += 1;
            self.costs.sla += self.sla.miss_cost;
        }
    }

    /// Moves `obj` to `to` at `now`, priced by the billing model (a copy within a provider, GET,
    /// egress and PUT between providers, the source's minimum duration if it leaves early).
    /// Moving to where it is does nothing.
    pub fn migrate(&mut self, obj: usize, to: usize, now: Millis) {
        let Some(from) = self.tier_of(obj) else { return };
        if from == to {
            return;
        }
        self.leave(obj, now);
        self.costs.migration += move_cost(&self.tiers[from], &self.tiers[to], self.sizes[obj]);
        self.place(obj, Some((to, now)));
        self.entered[obj] = now;
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
    use crate::engine::placement::billing::MONTH_MS;

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

    fn class(name: &str, tier_name: &str) -> TierConfig {
        let mut t: toml::Table = toml::from_str(&format!(
            "name = \"{tier_name}\"\nbackend = \"local\"\ncapacity_gb = 1\nclass = \"{name}\""
        ))
        .unwrap();
        crate::config::fill_class(&mut t).unwrap();
        toml::Value::Table(t).try_into().unwrap()
    }

    const DAY: Millis = 86_400_000;

    /// S3 Standard → Standard-IA → Deep Archive, every charge computed by hand from the catalog.
    #[test]
    fn minimum_durations_sizes_overheads_copies_and_restores_are_billed_by_hand() {
        let tiers = [
            class("aws:s3-standard", "std"),
            class("aws:s3-standard-ia", "ia"),
            class("aws:s3-glacier-deep-archive", "deep"),
        ];
        let gb = 1_000_000_000u64;
        // Object 0: 1 GB, to IA on day 0, moved back to Standard on day 10 (20 IA days owed).
        // Object 1: 1 kB on IA (billed as 128 KiB) for 30 days, deleted on day 30 (nothing owed).
        // Object 2: 1 GB, to Deep Archive on day 0, read (restored) on day 60, deleted on day 90
        //           (90 of 180 days owed), plus 40 KiB of overhead billed the whole time.
        // Object 3: 1 GB on IA, overwritten on day 5 and deleted on day 20 (25 + 15 days owed).
        let mut m = Meter::new(&tiers, 50.0, vec![gb, 1_000, gb, gb]);
        m.create(0, 0, 0);
        m.migrate(0, 1, 0);
        m.migrate(0, 0, 10 * DAY);
        m.create(1, 1, 0);
        m.access(1, Op::Delete, 30 * DAY, 0);
        m.create(2, 0, 0);
        m.migrate(2, 2, 0);
        m.access(2, Op::Get, 60 * DAY, 0);
        m.access(2, Op::Delete, 90 * DAY, 0);
        m.create(3, 1, 0);
        m.access(3, Op::Put, 5 * DAY, 1);
        m.access(3, Op::Delete, 20 * DAY, 1);
        m.finish(90 * DAY);
        let c = &m.costs;
        let month = |gb: f64, price: f64, days: f64| gb * price * days / 30.0;
        let deep_gb = (gb + 40_960) as f64 / 1e9;
        let storage = month(1.0, 0.0125, 10.0) + month(1.0, 0.023, 80.0) // object 0
            + month(131_072.0 / 1e9, 0.0125, 30.0) // object 1
            + month(deep_gb, 0.00099, 90.0) // object 2
            + month(1.0, 0.0125, 20.0); // object 3
        assert!(
            (c.storage - storage).abs() < 1e-12,
            "storage {} vs {storage}",
            c.storage
        );
        let min_duration = month(1.0, 0.0125, 20.0) + month(deep_gb, 0.00099, 90.0) + month(1.0, 0.0125, 25.0 + 15.0);
        assert!(
            (c.min_duration - min_duration).abs() < 1e-12,
            "min-duration {} vs {min_duration}",
            c.min_duration
        );
        // Copies within a provider: the copy request into the destination, and reading out of IA
        // (1 GB × 0.01) or out of Deep Archive (a restore: 0.10/1k + 1 GB × 0.02).
        let migration = 0.01 / 1000.0 + (0.01 + 0.005 / 1000.0) + 0.05 / 1000.0;
        assert!((c.migration - migration).abs() < 1e-12, "migration {}", c.migration);
        // The Deep Archive read pays the restore and misses the SLA.
        assert!(
            (c.retrieval - (0.10 / 1000.0 + 0.02)).abs() < 1e-12,
            "retrieval {}",
            c.retrieval
        );
        assert_eq!(m.sla_violations, 1);
        // PUTs: four creations (std, ia, std, ia) and the overwrite on IA; the GET on Deep Archive.
        let requests =
            0.005 / 1000.0 + 0.01 / 1000.0 + 0.005 / 1000.0 + 0.01 / 1000.0 + 0.01 / 1000.0 + 0.0004 / 1000.0;
        assert!((c.requests - requests).abs() < 1e-12, "requests {}", c.requests);
    }
}
