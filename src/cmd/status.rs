//! `dim status`: what a store holds, read-only, safe while a daemon is writing it.

use crate::format::human_bytes;
use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::config::Config;
use crate::engine::store::summary::{StoreSummary, summary};
use crate::engine::store::{Location, open_reader_at, stored_offsets};

/// Next offset consumed per source and partition.
type Offsets = Vec<(String, i32, i64)>;

/// What `dim status` reads from the store at `at`: its summary and the consumed offsets.
pub fn read(at: &Location) -> anyhow::Result<(StoreSummary, Offsets)> {
    let conn = open_reader_at(at)?;
    let s = summary(&conn).context("reading the store summary")?;
    let offsets = stored_offsets(&conn).context("reading the consumed offsets")?;
    Ok((s, offsets))
}

pub fn run(cfg: &Config, data_dir: &Path, as_json: bool) -> anyhow::Result<()> {
    let at = Location::of(&cfg.store, data_dir)?;
    let (s, offsets) = read(&at)?;
    if as_json {
        let out = json!({
            "objects": s.objects,
            "bytes": s.bytes,
            "unplaced": s.unplaced,
            "tiers": s.tiers,
            "events": {
                "ingested": s.events.ingested,
                "rejected": s.events.rejected,
                "rejected_by_reason": s.events.rejected_by_reason,
            },
            "tasks": s.tasks,
            "offsets": offsets
                .iter()
                .map(|(source, partition, next)| json!({"source": source, "partition": partition, "next_offset": next}))
                .collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("store     {at}");
    println!(
        "objects   {} ({}), {} on no tier",
        s.objects,
        human_bytes(s.bytes),
        s.unplaced
    );
    println!(
        "events    {} ingested, {} rejected",
        s.events.ingested, s.events.rejected
    );
    for (reason, n) in &s.events.rejected_by_reason {
        println!("            {n:>10}  {reason}");
    }
    println!();
    println!("{:<16} {:>10} {:>12}", "TIER", "OBJECTS", "BYTES");
    for t in &cfg.tiers {
        let v = s.tiers.get(&t.name).cloned().unwrap_or_default();
        println!("{:<16} {:>10} {:>12}", t.name, v.objects, human_bytes(v.bytes));
    }
    let kafka: Vec<_> = offsets.iter().filter(|o| o.0.starts_with("kafka:")).collect();
    if !kafka.is_empty() {
        println!();
        println!("{:<32} {:>9} {:>12}", "CONSUMED", "PARTITION", "NEXT OFFSET");
        for (source, partition, next) in kafka {
            println!("{source:<32} {partition:>9} {next:>12}");
        }
    }
    if !s.tasks.is_empty() {
        println!();
        println!("{:<16} {:>10}", "TASKS", "COUNT");
        for (state, n) in &s.tasks {
            println!("{state:<16} {n:>10}");
        }
    }
    Ok(())
}
