//! The break-even idle times of the `ski-rental` rule: how long an object must sit unread before
//! moving it to a cheaper tier pays, per object size and tier pair, from the billing model.

use crate::config::TierConfig;
use crate::engine::clock::Millis;
use crate::engine::events::Op;
use crate::engine::placement::billing::{SlaPrice, min_storage_ms, move_cost, serve_cost, storage_rate_ms};

/// The idle times (cumulative from the last access) at which the break-even rule moves an
/// object of `size` bytes down from `home`, and where to: from the tier it is on, to the tier
/// whose saving pays soonest for the move, the rest of that tier's minimum duration and one
/// return home with a read there; each next tier cheaper to store than the last.
pub fn break_even_steps(tiers: &[TierConfig], sla: SlaPrice, home: usize, size: u64) -> Vec<(Millis, usize)> {
    let rate = |j: usize| storage_rate_ms(&tiers[j], size);
    let (mut at, mut from, mut idle) = (home, Vec::new(), 0.0f64);
    loop {
        let best = (0..tiers.len())
            .filter(|j| *j != at && rate(*j) < rate(at))
            .map(|j| {
                let (get, retrieval) = serve_cost(&tiers[j], Op::Get, size);
                let once = move_cost(&tiers[at], &tiers[j], size)
                    + rate(j) * min_storage_ms(&tiers[j])
                    + move_cost(&tiers[j], &tiers[home], size)
                    + get
                    + retrieval
                    + sla.penalty(&tiers[j], Op::Get);
                (j, once / (rate(at) - rate(j)))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let Some((j, wait)) = best else { break };
        idle += wait;
        if !idle.is_finite() || idle > 1e15 {
            break;
        }
        from.push((idle as Millis, j));
        at = j;
    }
    from
}
