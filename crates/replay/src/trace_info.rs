//! What a replay says of its input: the trace's lines, the bad ones, the requests that were not
//! object accesses, and what an inventory added.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::inventory::ClassTotal;
use super::trace::{BadLine, Requests};
use super::workload::Listing;

/// The trace as read (filled in by the command; absent for generated traces).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TraceInfo {
    pub path: String,
    pub format: String,
    pub lines: usize,
    pub bad_lines: usize,
    pub first_bad: Vec<BadLine>,
    /// Requests that failed (4xx/5xx), skipped.
    pub failed_requests: usize,
    /// The requests that were not whole object accesses, by kind.
    pub requests: Requests,
    pub inventory: Option<InventoryInfo>,
}

/// What the inventory (`--inventory`) held and added.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryInfo {
    pub paths: Vec<String>,
    pub rows: usize,
    pub bad_rows: usize,
    pub first_bad: Vec<BadLine>,
    pub delete_markers: usize,
    /// Objects and bytes by storage class, as listed.
    pub by_class: BTreeMap<String, ClassTotal>,
    #[serde(flatten)]
    pub listing: Listing,
}

impl TraceInfo {
    /// The lines the table opens with.
    pub fn describe(&self, events: usize) -> String {
        let t = self;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "trace {} ({}): {} lines, {} events, {} bad lines, {} failed requests skipped",
            t.path, t.format, t.lines, events, t.bad_lines, t.failed_requests
        );
        for b in &t.first_bad {
            let _ = writeln!(s, "  line {}: {} — {}", b.line, b.reason, b.text);
        }
        let r = &t.requests;
        if r.billed_errors + r.partial_reads + r.edge_hits + r.other > 0 {
            let _ = writeln!(
                s,
                "  {} of the failed requests are billed (4xx, the same for every policy, not in the costs); {} range reads replayed as whole GETs; {} edge-cache hits and {} other requests never read an object",
                r.billed_errors, r.partial_reads, r.edge_hits, r.other
            );
        }
        if let Some(i) = &t.inventory {
            let classes: Vec<String> = i
                .by_class
                .iter()
                .map(|(c, n)| format!("{c} {} objects {}", n.objects, bytesize::ByteSize(n.bytes)))
                .collect();
            let _ = writeln!(
                s,
                "inventory {}: {} rows, {} bad, {} delete markers; {}; {} objects ({}) stored but never in the log, {} written after it",
                i.paths.join(", "),
                i.rows,
                i.bad_rows,
                i.delete_markers,
                classes.join(", "),
                i.listing.only_listed,
                bytesize::ByteSize(i.listing.only_listed_bytes),
                i.listing.after_trace
            );
            for b in &i.first_bad {
                let _ = writeln!(s, "  row {}: {} — {}", b.line, b.reason, b.text);
            }
        }
        s
    }
}
