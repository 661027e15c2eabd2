//! `dim explain KEY`: why an object is where it is, for people or as JSON.

use std::path::Path;

use crate::config::Config;
use crate::engine::placement::explain::{Explanation, explain};
use crate::engine::store::{Location, open_reader_at};
use crate::format::human_bytes;

pub fn run(cfg: &Config, data_dir: &Path, key: &str, as_json: bool) -> anyhow::Result<()> {
    let conn = open_reader_at(&Location::of(&cfg.store, data_dir)?)?;
    let e = explain(&conn, cfg, key)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&e)?);
        return Ok(());
    }
    println!(
        "{}  ({}, on {})",
        e.key,
        human_bytes(e.size),
        e.tier.as_deref().unwrap_or("no tier")
    );
    println!(
        "p_hot {:.3} ({}) from the {} model{}",
        e.p_hot,
        if e.hot { "hot" } else { "cold" },
        e.model.serving,
        e.model
            .holdout
            .as_ref()
            .map(|h| format!(", holdout PR-AUC {:.3}", h.pr_auc))
            .unwrap_or_default()
    );
    println!(
        "rate {:.2}/h last hour, {:.3}/h day, {:.3}/h week, {:.4}/h long-run",
        e.rate_recent, e.rate_day, e.rate_week, e.rate_long
    );
    let shape: Vec<String> = e
        .expected_reads
        .iter()
        .map(|(n, r)| format!("{r:.1} next {n}"))
        .collect();
    println!(
        "reads expected (fading from the hour's rate to the long run): {}{}",
        shape.join(", "),
        e.life_days
            .map(|d| format!("; expected remaining life {d:.0} days"))
            .unwrap_or_default()
    );
    println!("\n{} — the chance of a read:", e.forecast_serving);
    for c in &e.chance_of_read {
        println!(
            "  within a {:<8} prior {:>6.3}   learned {}",
            c.within,
            c.prior,
            c.learned.map_or_else(|| "—".to_string(), |p| format!("{p:>6.3}"))
        );
    }
    println!("\nfeatures");
    for (n, v) in &e.features {
        println!("  {n:<24} {v:>10.4}");
    }
    print_costs(&e);
    if !e.constraints.is_empty() {
        println!("\nconstraints");
        for c in &e.constraints {
            println!("  {c}");
        }
    }
    if !e.tasks.is_empty() {
        println!("\ntasks");
        for t in &e.tasks {
            println!(
                "  #{} {} -> {}: {}{}",
                t.id,
                t.src,
                t.dst,
                t.state.as_str(),
                t.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// The table of what the object would cost on each tier, by part, the chosen tier marked.
fn print_costs(e: &Explanation) {
    if e.costs.is_empty() {
        return;
    }
    println!(
        "\n{:<14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  allowed",
        "tier", "storage", "requests", "retrieval", "restore", "SLA", "move", "min-days", "return", "margin", "total $"
    );
    for c in &e.costs {
        let mark = if Some(&c.tier) == e.chosen.as_ref() {
            " <- chosen"
        } else {
            ""
        };
        println!(
            "{:<14} {:>10.6} {:>10.6} {:>10.6} {:>10.6} {:>10.6} {:>10.6} {:>10.6} {:>10.6} {:>10.6} {:>10.6}  {}{}",
            c.tier,
            c.storage,
            c.requests,
            c.retrieval,
            c.restore,
            c.sla,
            c.migration,
            c.min_duration,
            c.return_trip,
            c.margin,
            c.total,
            if c.sla_ok { "ok" } else { "no" },
            mark
        );
    }
}
