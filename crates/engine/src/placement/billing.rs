//! The billing model: what a cloud charges to store, read, write, restore and move one object on
//! a tier — minimum storage duration, minimum billable size, per-object overhead, restores,
//! same-provider copies and egress between providers. The planner's cost model and the replay's
//! meter both price through it, so a plan and a replay can never disagree on a bill.

use crate::config::TierConfig;
use crate::events::Op;

pub const GB: f64 = 1e9;
pub const DAY_MS: f64 = 86_400_000.0;
/// A month of storage, as `storage_gb_month` prices mean it (30 days).
pub const MONTH_MS: f64 = 30.0 * DAY_MS;

/// Bytes billed for storing an object of `size` bytes on `t`: at least the minimum billable
/// size, plus the per-object overhead.
pub fn billable_bytes(t: &TierConfig, size: u64) -> u64 {
    size.max(t.min_billable_bytes) + t.overhead_bytes
}

/// Storage price of an object of `size` bytes on `t`, $ per ms: its billed bytes, and the
/// tier's per-object monthly fee (monitoring, management) where the object is large enough.
pub fn storage_rate_ms(t: &TierConfig, size: u64) -> f64 {
    let fee = if t.object_fee_per_1k_month > 0.0 && size >= t.object_fee_min_bytes {
        t.object_fee_per_1k_month / 1000.0
    } else {
        0.0
    };
    (billable_bytes(t, size) as f64 / GB * t.storage_gb_month + fee) / MONTH_MS
}

/// Storage price of an object of `size` bytes on `t`, $ per month.
pub fn storage_month(t: &TierConfig, size: u64) -> f64 {
    storage_rate_ms(t, size) * MONTH_MS
}

/// The minimum storage duration of `t`, ms.
pub fn min_storage_ms(t: &TierConfig) -> f64 {
    t.min_storage_days * DAY_MS
}

/// What leaving `t` (delete, overwrite or move away) after `stayed_ms` there costs on top of
/// the storage already charged: the rest of the minimum duration.
pub fn early_exit(t: &TierConfig, size: u64, stayed_ms: f64) -> f64 {
    storage_rate_ms(t, size) * (min_storage_ms(t) - stayed_ms.max(0.0)).max(0.0)
}

/// Objects on `t` must be restored before they can be read or copied.
pub fn needs_restore(t: &TierConfig) -> bool {
    t.restore_hours > 0.0
}

/// The price of restoring an object of `size` bytes on `t` (0 where no restore is needed).
pub fn restore_cost(t: &TierConfig, size: u64) -> f64 {
    if needs_restore(t) {
        t.restore_per_1k / 1000.0 + size as f64 / GB * t.restore_gb
    } else {
        0.0
    }
}

/// A read from `t` misses a latency SLA of `sla_ms`: the tier is slower, or must restore first.
pub fn misses_sla(t: &TierConfig, sla_ms: f64) -> bool {
    t.latency_ms > sla_ms || needs_restore(t)
}

/// The SLA as a price: a read served from a tier slower than `latency_ms` (or one that must
/// restore first) costs `miss_cost` on top of the bill. The planner, the replay's meter and both
/// oracles price misses through this one type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaPrice {
    pub latency_ms: f64,
    pub miss_cost: f64,
}

impl SlaPrice {
    pub fn of(sla: &crate::config::SlaConfig) -> Self {
        Self {
            latency_ms: sla.hot_latency_ms,
            miss_cost: sla.miss_cost,
        }
    }

    /// Every read from `t` is slower than the SLA.
    pub fn slow(&self, t: &TierConfig) -> bool {
        misses_sla(t, self.latency_ms)
    }

    /// Serving `op` from `t` is a read slower than the SLA.
    pub fn missed(&self, t: &TierConfig, op: Op) -> bool {
        matches!(op, Op::Get | Op::Head) && self.slow(t)
    }

    /// What serving `op` from `t` adds for latency: `miss_cost` for a slow read, else 0.
    pub fn penalty(&self, t: &TierConfig, op: Op) -> f64 {
        if self.missed(t, op) { self.miss_cost } else { 0.0 }
    }
}

/// Request and retrieval cost (a restore included) of serving `op` on an object of `size` bytes
/// from `t`.
pub fn serve_cost(t: &TierConfig, op: Op, size: u64) -> (f64, f64) {
    let gb = size as f64 / GB;
    match op {
        Op::Get => (t.get_per_1k / 1000.0, gb * t.retrieval_gb + restore_cost(t, size)),
        Op::Head => (t.get_per_1k / 1000.0, 0.0),
        Op::Put => (t.put_per_1k / 1000.0, 0.0),
        Op::Delete => (0.0, 0.0),
    }
}

/// One-time cost of moving an object of `size` bytes from `src` to `dst` (the minimum-duration
/// charge of leaving `src` early is the caller's: it depends on how long the object stayed).
/// Within one provider a move is a server-side copy: the copy request into `dst`, and the
/// retrieval (and restore) the source class charges for reading it. Between providers: a GET,
/// retrieval and restore on the source, egress, and a PUT on the destination.
pub fn move_cost(src: &TierConfig, dst: &TierConfig, size: u64) -> f64 {
    let gb = size as f64 / GB;
    let read = gb * src.retrieval_gb + restore_cost(src, size);
    if !src.provider.is_empty() && src.provider == dst.provider {
        read + dst.transition_per_1k.unwrap_or(dst.put_per_1k) / 1000.0
    } else {
        read + src.get_per_1k / 1000.0 + gb * src.egress_gb + dst.put_per_1k / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str) -> TierConfig {
        let mut t: toml::Table = toml::from_str(&format!(
            "name = \"t\"\nbackend = \"local\"\ncapacity_gb = 1\nclass = \"{name}\""
        ))
        .unwrap();
        crate::config::fill_class(&mut t).unwrap();
        toml::Value::Table(t).try_into().unwrap()
    }

    #[test]
    fn minimum_size_and_overhead_are_billed() {
        let ia = class("aws:s3-standard-ia");
        assert_eq!(billable_bytes(&ia, 1_000), 131_072);
        assert_eq!(billable_bytes(&ia, 1_000_000), 1_000_000);
        let deep = class("aws:s3-glacier-deep-archive");
        assert_eq!(billable_bytes(&deep, 1_000_000), 1_040_960);
        // 1 GB on Standard-IA for a month: 0.0125 $.
        assert!((storage_month(&ia, 1_000_000_000) - 0.0125).abs() < 1e-12);
    }

    #[test]
    fn leaving_early_pays_the_rest_of_the_minimum() {
        let ia = class("aws:s3-standard-ia");
        let gb = 1_000_000_000;
        // 10 of 30 days stayed: 20 days more, 2/3 of a month.
        assert!((early_exit(&ia, gb, 10.0 * DAY_MS) - 0.0125 * 20.0 / 30.0).abs() < 1e-12);
        assert_eq!(early_exit(&ia, gb, 31.0 * DAY_MS), 0.0);
    }

    #[test]
    fn moves_within_a_provider_are_copies_and_archives_restore_first() {
        let (std, ia) = (class("aws:s3-standard"), class("aws:s3-standard-ia"));
        let gb = 2_000_000_000;
        // Standard → IA: the copy request into IA only (no egress, no retrieval on Standard).
        assert!((move_cost(&std, &ia, gb) - 0.01 / 1000.0).abs() < 1e-15);
        // IA → Standard: retrieval on IA (2 GB × 0.01) + the copy into Standard.
        assert!((move_cost(&ia, &std, gb) - (0.02 + 0.005 / 1000.0)).abs() < 1e-12);
        let gcs = class("gcp:gcs-standard");
        // Across providers: GET + egress (2 × 0.09) + PUT.
        assert!((move_cost(&std, &gcs, gb) - (0.0004 / 1000.0 + 0.18 + 0.005 / 1000.0)).abs() < 1e-12);
        let glacier = class("aws:s3-glacier-flexible-retrieval");
        assert!(needs_restore(&glacier) && misses_sla(&glacier, 1e12));
        let restore = 0.05 / 1000.0 + 2.0 * 0.01;
        assert!((move_cost(&glacier, &std, gb) - (restore + 0.005 / 1000.0)).abs() < 1e-12);
        let (req, retr) = serve_cost(&glacier, Op::Get, gb);
        assert!((req - 0.0004 / 1000.0).abs() < 1e-15 && (retr - restore).abs() < 1e-12);
    }
}
