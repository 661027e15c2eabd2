//! `dim explain KEY`: why an object is where it is, for people or as JSON.

use std::path::Path;

use crate::config::Config;
use crate::engine::placement::explain::explain;
use crate::engine::store::open_reader;
use crate::status::human_bytes;

pub fn run(cfg: &Config, data_dir: &Path, key: &str, as_json: bool) -> anyhow::Result<()> {
    let conn = open_reader(&data_dir.join(&cfg.store.file))?;
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
        "rate {:.2}/h recent, {:.3}/h long-run: {:.0} GETs expected over {:.0} days",
        e.rate_recent, e.rate_long, e.expected_gets, e.horizon_days
    );
    println!("\nfeatures");
    for (n, v) in &e.features {
        println!("  {n:<24} {v:>10.4}");
    }
    if !e.costs.is_empty() {
        println!(
            "\n{:<14} {:>10} {:>10} {:>10} {:>10} {:>10}  sla",
            "tier", "storage", "requests", "retrieval", "move", "total $"
        );
        for c in &e.costs {
            let mark = if Some(&c.tier) == e.chosen.as_ref() {
                " <- chosen"
            } else {
                ""
            };
            println!(
                "{:<14} {:>10.6} {:>10.6} {:>10.6} {:>10.6} {:>10.6}  {}{}",
                c.tier,
                c.storage,
                c.requests,
                c.retrieval,
                c.migration,
                c.total,
                if c.sla_ok { "ok" } else { "no" },
                mark
            );
        }
    }
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
