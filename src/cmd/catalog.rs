//! `dim catalog`: the built-in storage classes a tier can name, and the configured tiers as the
//! billing model prices them.

use serde::Serialize;

use crate::config::{Config, StorageClass, catalog_classes};

#[derive(Serialize)]
struct Catalog<'a> {
    classes: Vec<StorageClass>,
    /// The tiers of the configuration in force, after their classes filled them.
    tiers: &'a [crate::config::TierConfig],
}

fn bytes(b: u64) -> String {
    if b == 0 {
        "—".into()
    } else {
        bytesize::ByteSize(b).to_string()
    }
}

pub fn run(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let classes = catalog_classes();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&Catalog {
                classes,
                tiers: &cfg.tiers
            })?
        );
        return Ok(());
    }
    println!(
        "{:<34} {:>9} {:>8} {:>8} {:>8} {:>7} {:>6} {:>9} {:>9} {:>9} {:>8}",
        "class",
        "$/GB-mo",
        "GET/1k",
        "PUT/1k",
        "copy/1k",
        "retr/GB",
        "egress",
        "min days",
        "min size",
        "overhead",
        "restore"
    );
    for StorageClass { tier: c, .. } in &classes {
        let restore = if c.restore_hours > 0.0 {
            format!("{} h", c.restore_hours)
        } else {
            "—".into()
        };
        println!(
            "{:<34} {:>9} {:>8} {:>8} {:>8} {:>7} {:>6} {:>9} {:>9} {:>9} {:>8}",
            c.name,
            c.storage_gb_month,
            c.get_per_1k,
            c.put_per_1k,
            c.transition_per_1k.unwrap_or(c.put_per_1k),
            c.retrieval_gb,
            c.egress_gb,
            c.min_storage_days,
            bytes(c.min_billable_bytes),
            bytes(c.overhead_bytes),
            restore
        );
    }
    println!(
        "\nList prices of us-east-1 (AWS), East US LRS (Azure), us-east1 (GCP) as published in 2025;\n\
         the file with its sources: config/catalog.toml. Name one in a tier with class = \"NAME\";\n\
         fields the tier sets win.\n\nConfigured tiers:"
    );
    for t in &cfg.tiers {
        println!(
            "  {:<16} {:<34} ${}/GB-mo, min {} days, min size {}, overhead {}, {}",
            t.name,
            t.class.as_deref().unwrap_or("(own prices)"),
            t.storage_gb_month,
            t.min_storage_days,
            bytes(t.min_billable_bytes),
            bytes(t.overhead_bytes),
            if t.restore_hours > 0.0 {
                format!("restore {} h", t.restore_hours)
            } else {
                "readable directly".into()
            }
        );
    }
    Ok(())
}
