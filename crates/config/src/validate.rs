//! Checks on values the types alone cannot express (ranges, cross-field rules).

use std::collections::HashSet;

pub use super::invalid::Invalid;
use super::invalid::bad;
use super::{Backend, Config};

/// A check of sections this module does not own (the dashboard's keymap and theme): run after
/// the configuration's own validation by the `*_with` loaders, its problem located like any.
pub type SectionCheck = fn(&Config) -> Result<(), Invalid>;

fn fraction(key: &str, v: f64) -> Result<(), Invalid> {
    if !(0.0..=1.0).contains(&v) {
        return Err(bad(
            key,
            format!("must be between 0 and 1, got {v}"),
            "use a share such as 0.25",
        ));
    }
    Ok(())
}

fn positive(key: &str, v: f64, help: &str) -> Result<(), Invalid> {
    if !(v.is_finite() && v > 0.0) {
        return Err(bad(key, format!("must be greater than 0, got {v}"), help));
    }
    Ok(())
}

pub(super) fn validate(c: &Config, checks: &[SectionCheck]) -> Result<(), Invalid> {
    for check in checks {
        check(c)?;
    }
    validate_tiers(c)?;
    validate_sla(c)?;
    validate_workload(&c.events.embedded, c)?;
    validate_engine(c)?;
    super::validate_store::validate_store(&c.store)?;
    validate_replay(&c.replay)
}

/// At least one tier, each complete and named once, told apart by bucket and class; the SLA
/// reachable on the fastest.
fn validate_tiers(c: &Config) -> Result<(), Invalid> {
    if c.tiers.is_empty() {
        return Err(bad(
            "tiers",
            "no tiers are configured",
            "add at least one [[tiers]] table",
        ));
    }
    let mut seen = HashSet::new();
    for (i, t) in c.tiers.iter().enumerate() {
        let at = |f: &str| format!("tiers[{i}].{f}");
        let name_ok = !t.name.is_empty()
            && t.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !name_ok {
            return Err(bad(
                at("name"),
                format!("tier name {:?} is not usable", t.name),
                "use letters, digits, '-' and '_' only, e.g. \"aws-hot\"",
            ));
        }
        if !seen.insert(t.name.as_str()) {
            return Err(bad(
                at("name"),
                format!("tier name {:?} is used twice", t.name),
                "give every tier a unique name",
            ));
        }
        validate_prices(i, t)?;
        validate_tier(i, t)?;
    }
    validate_tier_set(c)
}

/// A tier's prices and billing durations: none negative.
fn validate_prices(i: usize, t: &super::TierConfig) -> Result<(), Invalid> {
    let at = |f: &str| format!("tiers[{i}].{f}");
    for (field, v) in [
        ("storage_gb_month", t.storage_gb_month),
        ("get_per_1k", t.get_per_1k),
        ("put_per_1k", t.put_per_1k),
        ("retrieval_gb", t.retrieval_gb),
        ("egress_gb", t.egress_gb),
        ("transition_per_1k", t.transition_per_1k.unwrap_or(0.0)),
        ("restore_per_1k", t.restore_per_1k),
        ("restore_gb", t.restore_gb),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad(
                at(field),
                format!("price must be 0 or more, got {v}"),
                "prices are in dollars: $/GB-month for storage, $/1k requests, $/GB for retrieval and egress",
            ));
        }
    }
    for (field, v, help) in [
        (
            "min_storage_days",
            t.min_storage_days,
            "days an object is billed at least once stored there, e.g. 30; 0 for none",
        ),
        (
            "restore_hours",
            t.restore_hours,
            "hours a restore takes before a read, e.g. 4; 0 if objects are readable directly",
        ),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad(at(field), format!("must be 0 or more, got {v}"), help));
        }
    }
    Ok(())
}

/// A tier's capacity and latency, and what its backend needs: a bucket, a restore, a KMS key.
fn validate_tier(i: usize, t: &super::TierConfig) -> Result<(), Invalid> {
    let at = |f: &str| format!("tiers[{i}].{f}");
    if let Some(gb) = t.capacity_gb {
        positive(
            &at("capacity_gb"),
            gb,
            "give the tier's capacity in GB, e.g. 100, or leave it out for no limit",
        )?;
    }
    positive(
        &at("latency_ms"),
        t.latency_ms,
        "give the tier's nominal first-byte latency in ms",
    )?;
    if t.backend == Backend::S3 && t.bucket.as_deref().unwrap_or("").is_empty() {
        return Err(bad(
            at("bucket"),
            "an s3 tier needs a bucket",
            "add bucket = \"NAME\" to this tier",
        ));
    }
    if let Some(r) = &t.restore
        && (!["Expedited", "Standard", "Bulk"].contains(&r.tier.as_str()) || r.days == 0 || r.poll_secs == 0)
    {
        return Err(bad(
            at("restore"),
            format!(
                "restore tier {:?} for {} days, checked every {} s",
                r.tier, r.days, r.poll_secs
            ),
            "restore = { tier = \"Standard\", days = 1 } (tier: Expedited, Standard or Bulk; days and poll_secs at least 1)",
        ));
    }
    if t.sse_kms_key_id.is_some() && t.sse != Some(super::Sse::Kms) {
        return Err(bad(
            at("sse_kms_key_id"),
            "a KMS key is set but the tier's sse is not \"aws:kms\"",
            "add sse = \"aws:kms\" to this tier, or remove sse_kms_key_id",
        ));
    }
    Ok(())
}

/// The tiers together: those sharing a bucket have their own classes, and the SLA is reachable
/// on the fastest.
fn validate_tier_set(c: &Config) -> Result<(), Invalid> {
    // Tiers sharing a bucket are told apart by their storage class.
    for (i, a) in c.tiers.iter().enumerate() {
        for (j, b) in c.tiers.iter().enumerate().skip(i + 1) {
            if a.shares_bucket_with(b) && a.s3_class() == b.s3_class() {
                return Err(bad(
                    format!("tiers[{j}].storage_class"),
                    format!(
                        "tiers {} and {} share bucket {} with the same storage class {}",
                        a.name,
                        b.name,
                        b.bucket.as_deref().unwrap_or(""),
                        b.s3_class()
                    ),
                    "give each tier of one bucket its own storage_class (or class), or its own bucket",
                ));
            }
        }
    }
    let fastest = c
        .tiers
        .iter()
        .min_by(|a, b| a.latency_ms.total_cmp(&b.latency_ms))
        .map(|t| (t.name.clone(), t.latency_ms));
    if let Some((name, lat)) = fastest
        && c.sla.hot_latency_ms < lat
    {
        return Err(bad(
            "sla.hot_latency_ms",
            format!(
                "SLA of {} ms is below every tier's latency (fastest: {name} at {lat} ms), so no hot object could be placed",
                c.sla.hot_latency_ms
            ),
            format!("raise sla.hot_latency_ms to at least {lat}, or add a faster tier"),
        ));
    }
    Ok(())
}

/// The SLA's threshold, price per slow read and hard prefixes; the optimizer's margin.
fn validate_sla(c: &Config) -> Result<(), Invalid> {
    fraction("sla.hot_threshold", c.sla.hot_threshold)?;
    if !(c.sla.miss_cost.is_finite() && c.sla.miss_cost >= 0.0) {
        return Err(bad(
            "sla.miss_cost",
            format!("must be 0 or more dollars per slow read, got {}", c.sla.miss_cost),
            "e.g. miss_cost = 0.0001 (a hundredth of a cent per read served slower than the SLA), or 0 to price latency at nothing",
        ));
    }
    if let Some(i) = c.sla.hard_prefixes.iter().position(|p| p.is_empty()) {
        return Err(bad(
            format!("sla.hard_prefixes[{i}]"),
            "an empty prefix would make every key hard",
            "name a key prefix such as \"invoices/\", or remove it",
        ));
    }
    if !(c.optimizer.move_margin.is_finite() && c.optimizer.move_margin >= 0.0) {
        return Err(bad(
            "optimizer.move_margin",
            format!("must be 0 or more, got {}", c.optimizer.move_margin),
            "e.g. 0.5: a move must save 1.5 times its one-time costs",
        ));
    }
    Ok(())
}

/// The embedded workload: its landing tier, rate, skew, shares of operations and object sizes.
fn validate_workload(e: &super::EmbeddedConfig, c: &Config) -> Result<(), Invalid> {
    let ek = |f: &str| format!("events.embedded.{f}");
    if !e.landing_tier.is_empty() && c.tier(&e.landing_tier).is_none() {
        let names: Vec<_> = c.tiers.iter().map(|t| t.name.as_str()).collect();
        return Err(bad(
            ek("landing_tier"),
            format!("no tier is named {:?}", e.landing_tier),
            format!("use one of: {}", names.join(", ")),
        ));
    }
    if !(e.rate.is_finite() && e.rate >= 0.0) {
        return Err(bad(
            ek("rate"),
            format!("must be 0 or more events/s, got {}", e.rate),
            "e.g. rate = 1000",
        ));
    }
    positive(&ek("skew"), e.skew, "a Zipf exponent such as 1.1")?;
    for (f, v) in [
        ("put_fraction", e.put_fraction),
        ("new_object_fraction", e.new_object_fraction),
        ("head_fraction", e.head_fraction),
        ("recent_share", e.recent_share),
        ("office_share", e.office_share),
        ("diurnal_amplitude", e.diurnal_amplitude),
        ("flash_share", e.flash_share),
        ("dormant_share", e.dormant_share),
        ("object_store_share", e.object_store_share),
    ] {
        fraction(&ek(f), v)?;
    }
    if e.put_fraction + e.head_fraction > 1.0 {
        return Err(bad(
            ek("head_fraction"),
            "put_fraction + head_fraction exceed 1",
            "lower one of them",
        ));
    }
    positive(&ek("recent_tau_secs"), e.recent_tau_secs, "engine seconds, e.g. 43200")?;
    positive(
        &ek("flash_every_secs"),
        e.flash_every_secs,
        "engine seconds, e.g. 21600",
    )?;
    positive(&ek("size_sigma"), e.size_sigma, "e.g. 1.5")?;
    if e.size_median_bytes == 0 || e.size_max_bytes < e.size_median_bytes {
        return Err(bad(
            ek("size_max_bytes"),
            "size_median_bytes must be > 0 and size_max_bytes at least the median",
            "e.g. size_median_bytes = 32768, size_max_bytes = 33554432",
        ));
    }
    if e.max_objects < e.seed_objects.max(1) {
        return Err(bad(
            ek("max_objects"),
            format!(
                "max_objects ({}) is below seed_objects ({})",
                e.max_objects, e.seed_objects
            ),
            "raise max_objects or lower seed_objects",
        ));
    }
    Ok(())
}

/// Batches, partitions, the migrator, chaos steps, the control API, the model and the dashboard.
fn validate_engine(c: &Config) -> Result<(), Invalid> {
    if c.events.batch_max_events == 0 {
        return Err(bad("events.batch_max_events", "must be at least 1", "e.g. 10000"));
    }
    if c.events.partitions == 0 {
        return Err(bad("events.partitions", "must be at least 1", "e.g. 3"));
    }
    positive(
        "clock.speed",
        c.clock.speed,
        "1 = real time, 3600 = one engine hour per second",
    )?;
    if c.migrator.workers == 0 {
        return Err(bad("migrator.workers", "must be at least 1", "e.g. 4"));
    }
    if c.migrator.max_attempts == 0 {
        return Err(bad("migrator.max_attempts", "must be at least 1", "e.g. 6"));
    }
    if c.migrator.backoff_cap_ms < c.migrator.backoff_base_ms {
        return Err(bad(
            "migrator.backoff_cap_ms",
            "the cap is below the base delay",
            "make backoff_cap_ms >= backoff_base_ms",
        ));
    }
    for (i, r) in c.chaos.error_rate_steps.iter().enumerate() {
        if !(0.0..=100.0).contains(r) {
            return Err(bad(
                format!("chaos.error_rate_steps[{i}]"),
                format!("{r} is not a percentage"),
                "use values from 0 to 100",
            ));
        }
    }
    if !c.control.listen.is_empty() && c.control.token_file.is_empty() && c.control.token_env.is_empty() {
        return Err(bad(
            "control.listen",
            format!("the control API on TCP ({}) needs a bearer token", c.control.listen),
            "set control.token_file (a file holding the token) or control.token_env (a variable holding it), or listen = \"\" and use the socket",
        ));
    }
    if c.model.hot_k == 0 {
        return Err(bad("model.hot_k", "must be at least 1", "e.g. 3 accesses"));
    }
    if c.model.sample_every_secs == 0 || c.model.horizon_secs == 0 {
        return Err(bad(
            "model.sample_every_secs",
            "sampling period and horizon must be > 0",
            "e.g. 3600 and 21600",
        ));
    }
    if c.ui.top_k == 0 {
        return Err(bad("ui.top_k", "must be at least 1", "e.g. 200"));
    }
    Ok(())
}

fn validate_replay(r: &super::ReplayConfig) -> Result<(), Invalid> {
    if !(r.time_scale.is_finite() && r.time_scale > 0.0) {
        return Err(bad(
            "replay.time_scale",
            "must be a number > 0",
            "e.g. 1, or 720 to turn 12 trace hours into 360 days",
        ));
    }
    if r.plan_every_secs == 0 || r.retrain_every_secs == 0 {
        return Err(bad(
            "replay.plan_every_secs",
            "planning and retraining periods must be > 0",
            "e.g. 86400 and 2592000",
        ));
    }
    if r.train_samples < super::MIN_TRAIN_SAMPLES {
        return Err(bad(
            "replay.train_samples",
            format!(
                "{} is fewer than the {} samples a forest needs",
                r.train_samples,
                super::MIN_TRAIN_SAMPLES
            ),
            "e.g. 20000",
        ));
    }
    for (key, days) in [
        ("replay.intelligent_tiering_days", &r.intelligent_tiering_days),
        ("replay.lifecycle_days", &r.lifecycle_days),
    ] {
        if days.iter().any(|d| !(d.is_finite() && *d >= 0.0)) || days.windows(2).any(|w| w[1] <= w[0]) {
            return Err(bad(
                key,
                format!("{days:?} is not a rising list of days"),
                "e.g. [30, 90]: the days of each transition to the next tier",
            ));
        }
    }
    if !(r.fabricpool_cooling_days.is_finite() && r.fabricpool_cooling_days >= 0.0) {
        return Err(bad(
            "replay.fabricpool_cooling_days",
            "must be a number of days >= 0",
            "e.g. 31 (FabricPool's default)",
        ));
    }
    fraction("replay.lru_share", r.lru_share)?;
    for (key, v, help) in [
        (
            "replay.tail_days",
            r.tail_days,
            "e.g. 30: days the final placement is still charged",
        ),
        (
            "replay.lifecycle_ia_min_days",
            r.lifecycle_ia_min_days,
            "e.g. 30 (S3's minimum age before a transition to Standard-IA)",
        ),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad(key, format!("must be a number of days >= 0, got {v}"), help));
        }
    }
    Ok(())
}
