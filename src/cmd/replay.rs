//! `dim replay TRACE`: read the trace (and the inventory), replay it through the policies, print
//! the table or JSON, draw the chart.

use std::path::Path;

use anyhow::{Context, bail};

use crate::cli::ReplayArgs;
use crate::config::Config;
use crate::replay::inventory;
use crate::replay::report::{InventoryInfo, TraceInfo};
use crate::replay::trace::{self, Format};
use crate::replay::workload::Workload;

/// The format named, or the one the file's extension suggests (CLF otherwise).
fn format_of(path: &Path, named: Option<Format>) -> Format {
    if let Some(f) = named {
        return f;
    }
    // `log.csv.gz` is a CSV.
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = name.trim_end_matches(".gz").rsplit('.').next().unwrap_or("");
    match ext {
        "jsonl" | "ndjson" => Format::Jsonl,
        "csv" => Format::Csv,
        _ => Format::Clf,
    }
}

pub fn run(cfg: &Config, o: ReplayArgs) -> anyhow::Result<()> {
    let names = crate::replay::policy_names(&o.policies)?;
    let scale = o.time_scale.unwrap_or(cfg.replay.time_scale);
    if !(scale.is_finite() && scale > 0.0) {
        bail!("--time-scale must be a number > 0 (e.g. 720 turns 12 trace hours into 360 days), got {scale}");
    }
    let format = format_of(&o.trace, o.format);
    let t = trace::open(&o.trace)
        .and_then(|input| trace::read(input, format))
        .with_context(|| format!("cannot read the trace {}", o.trace.display()))?;
    let inv = if o.inventory.is_empty() {
        None
    } else {
        Some(inventory::read(&o.inventory, o.inventory_schema.as_deref())?)
    };
    let listed = inv.as_ref().map_or(0, |i| i.objects.len());
    if t.events.is_empty() && listed == 0 {
        let first = t
            .first_bad
            .first()
            .map(|b| format!("; line {}: {}", b.line, b.reason))
            .unwrap_or_default();
        bail!(
            "{}: no usable events in {} lines ({} bad{first}); it was read as {}: if it is another \
             format, name it with --format ({})",
            o.trace.display(),
            t.lines,
            t.bad,
            format.name(),
            Format::names()
        );
    }
    let (w, inventory) = match &inv {
        None => (Workload::from_trace(&t, scale), None),
        Some(i) => {
            let (w, listing) = Workload::with_inventory(&t, i, scale);
            let info = InventoryInfo {
                paths: o.inventory.iter().map(|p| p.display().to_string()).collect(),
                rows: i.rows,
                bad_rows: i.bad,
                first_bad: i.first_bad.clone(),
                delete_markers: i.delete_markers,
                by_class: i.by_class(),
                listing,
            };
            (w, Some(info))
        }
    };
    tracing::info!(target: "dim::replay", events = w.events.len(), objects = w.objects(), policies = names.len(), "replaying");
    let lifted;
    let cfg = if o.ignore_capacity {
        lifted = crate::replay::without_capacity(cfg);
        &lifted
    } else {
        cfg
    };
    let mut r = crate::replay::compare(cfg, &w, &names)?;
    r.ignore_capacity = o.ignore_capacity;
    r.trace = Some(TraceInfo {
        path: o.trace.display().to_string(),
        format: format.name().to_string(),
        lines: t.lines,
        bad_lines: t.bad,
        first_bad: t.first_bad.clone(),
        failed_requests: t.requests.failed,
        requests: t.requests,
        inventory,
    });
    // The report first: a chart that cannot be written must not lose it.
    if o.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", r.table());
    }
    if let Some(path) = &o.chart {
        crate::replay::chart::draw(&r, path)?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}
