//! The cost model: what an object costs on each tier over the planning horizon, and what moving it there costs once.

use serde::Serialize;

use crate::config::{Config, TierConfig};

/// An object as the planner sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanObject {
    pub key: String,
    pub size: u64,
    /// Index of the tier holding it now.
    pub current: usize,
    pub p_hot: f64,
    /// Accesses per hour, recent (1 h decay) and long-run (1 w decay).
    pub rate_recent: f64,
    pub rate_long: f64,
    /// Moved too recently to move again, pinned, or a move in flight.
    pub fixed: bool,
    /// Index of the tier a move in flight takes it to: its bytes count there, not where it is
    /// (or a tier being drained would look fuller than it will be and be drained twice).
    pub heading: Option<usize>,
}

/// One tier's cost for one object, by part, over the horizon ($).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TierCost {
    pub tier: String,
    pub storage: f64,
    pub requests: f64,
    pub retrieval: f64,
    /// One-time cost of moving there from the current tier (0 when it is the current tier).
    pub migration: f64,
    pub total: f64,
    /// Latency SLA allows a hot object here.
    pub sla_ok: bool,
}

/// One-time cost of moving `gb` gigabytes from `src` to `dst`: a GET and the retrieval on the
/// source, egress when the providers differ, a PUT on the destination. The planner prices moves
/// with it and the replay's meter charges them with it.
pub fn move_cost(src: &TierConfig, dst: &TierConfig, gb: f64) -> f64 {
    let egress = if src.provider != dst.provider {
        gb * src.egress_gb
    } else {
        0.0
    };
    egress + gb * src.retrieval_gb + src.get_per_1k / 1000.0 + dst.put_per_1k / 1000.0
}

#[derive(Debug, Clone)]
pub struct CostModel {
    pub tiers: Vec<TierConfig>,
    pub horizon_days: f64,
    pub hot_k: f64,
    pub label_horizon_hours: f64,
    pub hot_threshold: f64,
    pub sla_latency_ms: f64,
}

impl CostModel {
    pub fn new(c: &Config) -> Self {
        Self {
            tiers: c.tiers.clone(),
            horizon_days: c.optimizer.horizon_days,
            hot_k: f64::from(c.model.hot_k),
            label_horizon_hours: c.model.horizon_secs as f64 / 3600.0,
            hot_threshold: c.sla.hot_threshold,
            sla_latency_ms: c.sla.hot_latency_ms,
        }
    }

    /// Expected GETs over the horizon: a hot object keeps at least the "hot" rate (k per label
    /// horizon) or its recent rate; a cold one falls back to its long-run rate.
    pub fn expected_gets(&self, o: &PlanObject) -> f64 {
        let hot_rate = o.rate_recent.max(self.hot_k / self.label_horizon_hours.max(1e-9));
        let per_hour = o.p_hot * hot_rate + (1.0 - o.p_hot) * o.rate_long;
        per_hour * self.horizon_days * 24.0
    }

    pub fn is_hot(&self, o: &PlanObject) -> bool {
        o.p_hot >= self.hot_threshold
    }

    /// Total cost of `o` on tier `j` over the horizon (move included) and whether the SLA
    /// allows it there; the planner's allocation-free path.
    pub fn total(&self, o: &PlanObject, j: usize) -> (f64, bool) {
        let c = self.parts(o, j);
        (c.total, c.sla_ok)
    }

    /// Cost of `o` on tier `j` over the horizon, with the one-time move from its current tier.
    pub fn cost(&self, o: &PlanObject, j: usize) -> TierCost {
        TierCost {
            tier: self.tiers[j].name.clone(),
            ..self.parts(o, j)
        }
    }

    fn parts(&self, o: &PlanObject, j: usize) -> TierCost {
        let t = &self.tiers[j];
        let gb = o.size as f64 / 1e9;
        let gets = self.expected_gets(o);
        let storage = gb * t.storage_gb_month * self.horizon_days / 30.0;
        let requests = gets * t.get_per_1k / 1000.0;
        let retrieval = gets * gb * t.retrieval_gb;
        let migration = if j == o.current {
            0.0
        } else {
            move_cost(&self.tiers[o.current], t, gb)
        };
        TierCost {
            tier: String::new(),
            storage,
            requests,
            retrieval,
            migration,
            total: storage + requests + retrieval + migration,
            sla_ok: !self.is_hot(o) || t.latency_ms <= self.sla_latency_ms,
        }
    }

    pub fn costs(&self, o: &PlanObject) -> Vec<TierCost> {
        (0..self.tiers.len()).map(|j| self.cost(o, j)).collect()
    }

    /// One-time cost of moving `o` from its current tier to `j`.
    pub fn migration(&self, o: &PlanObject, j: usize) -> f64 {
        self.parts(o, j).migration
    }

    /// Monthly running cost (storage, requests, retrieval; no moves) of `o` on tier `j`.
    pub fn monthly(&self, o: &PlanObject, j: usize) -> f64 {
        let c = self.parts(o, j);
        (c.storage + c.requests + c.retrieval) * 30.0 / self.horizon_days
    }
}
