//! `dim replay TRACE`: read the trace, replay it through the policies, print the table or JSON,
//! draw the chart.

use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, bail};

use super::report::TraceInfo;
use super::trace::{self, Format};
use super::workload::Workload;
use crate::cli::ReplayArgs;
use crate::config::Config;

/// The format named, or the one the file's extension suggests (CLF otherwise).
fn format_of(path: &Path, named: Option<&str>) -> anyhow::Result<Format> {
    if let Some(n) = named {
        return Format::parse(n).with_context(|| format!("unknown trace format {n:?}: use clf, jsonl or csv"));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    Ok(match ext {
        "jsonl" | "ndjson" => Format::Jsonl,
        "csv" => Format::Csv,
        _ => Format::Clf,
    })
}

pub fn run(cfg: &Config, o: ReplayArgs) -> anyhow::Result<()> {
    let names = super::policy_names(&o.policies)?;
    let scale = o.time_scale.unwrap_or(cfg.replay.time_scale);
    if !(scale.is_finite() && scale > 0.0) {
        bail!("--time-scale must be a number > 0 (e.g. 720 turns 12 trace hours into 360 days), got {scale}");
    }
    let format = format_of(&o.trace, o.format.as_deref())?;
    let file = std::fs::File::open(&o.trace).with_context(|| format!("cannot open the trace {}", o.trace.display()))?;
    let t = trace::read(BufReader::new(file), format)
        .with_context(|| format!("cannot read the trace {}", o.trace.display()))?;
    if t.events.is_empty() {
        let first = t
            .first_bad
            .first()
            .map(|b| format!("; line {}: {}", b.line, b.reason))
            .unwrap_or_default();
        bail!(
            "{}: no usable events in {} lines ({} bad{first}); is --format right ({:?})?",
            o.trace.display(),
            t.lines,
            t.bad,
            format
        );
    }
    let w = Workload::from_trace(&t, scale);
    tracing::info!(target: "dim::replay", events = w.events.len(), objects = w.objects(), policies = names.len(), "replaying");
    let lifted;
    let cfg = if o.ignore_capacity {
        lifted = super::without_capacity(cfg);
        &lifted
    } else {
        cfg
    };
    let mut r = super::compare(cfg, &w, &names)?;
    r.ignore_capacity = o.ignore_capacity;
    r.trace = Some(TraceInfo {
        path: o.trace.display().to_string(),
        format: format!("{format:?}").to_lowercase(),
        lines: t.lines,
        bad_lines: t.bad,
        first_bad: t.first_bad.clone(),
        failed_requests: t.failed_requests,
    });
    if let Some(path) = &o.chart {
        super::chart::draw(&r, path)?;
        eprintln!("chart written to {}", path.display());
    }
    if o.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", r.table());
    }
    Ok(())
}
