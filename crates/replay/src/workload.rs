//! A trace as a replay sees it: objects numbered, each with one size (the largest seen), time
//! stretched by the time scale and starting at 0; with an inventory, the objects stored before
//! the trace enter it as already written.

use std::collections::HashMap;

use super::inventory::Inventory;
use super::trace::Trace;
use crate::engine::clock::Millis;
use crate::engine::events::Op;

/// One access of the replay: engine time (ms from the trace's start, scaled), object, operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ev {
    pub ts: Millis,
    pub obj: u32,
    pub op: Op,
}

#[derive(Debug, Clone, Default)]
pub struct Workload {
    pub keys: Vec<String>,
    pub sizes: Vec<u64>,
    /// In time order.
    pub events: Vec<Ev>,
    /// Engine time the replay ends (the last event).
    pub end: Millis,
    pub time_scale: f64,
    /// Trace time of the first event (ms, as the trace stamps it).
    pub trace_start_ms: Millis,
    /// Per object: it was stored before the trace (an inventory lists it), so its first event
    /// is the PUT that places it, which nobody is billed for. Empty: no inventory.
    pub listed: Vec<bool>,
}

/// What an inventory added to a replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Listing {
    /// Objects the inventory lists that the log never mentions.
    pub only_listed: usize,
    pub only_listed_bytes: u64,
    /// Listed objects last modified after the log ends: not stored during the replay.
    pub after_trace: usize,
}

impl Workload {
    pub fn from_trace(t: &Trace, time_scale: f64) -> Self {
        Self::numbered(t, time_scale).0
    }

    /// The workload of `t`, and the number of each key (borrowed from the trace).
    fn numbered(t: &Trace, time_scale: f64) -> (Self, HashMap<&str, u32>) {
        let mut order: Vec<usize> = (0..t.events.len()).collect();
        order.sort_by_key(|i| t.events[*i].ts_ms);
        let start = order.first().map_or(0, |i| t.events[*i].ts_ms);
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut w = Workload {
            time_scale,
            trace_start_ms: start,
            ..Workload::default()
        };
        w.events.reserve(order.len());
        for i in order {
            let e = &t.events[i];
            let obj = *ids.entry(e.key.as_str()).or_insert_with(|| {
                w.keys.push(e.key.clone());
                w.sizes.push(0);
                (w.keys.len() - 1) as u32
            });
            if let Some(s) = e.size {
                let size = &mut w.sizes[obj as usize];
                *size = (*size).max(s);
            }
            w.events.push(Ev {
                ts: ((e.ts_ms - start) as f64 * time_scale).round() as Millis,
                obj,
                op: e.op,
            });
        }
        w.end = w.events.last().map_or(0, |e| e.ts);
        (w, ids)
    }

    /// The trace, and the objects of `inv` stored from the trace's start (or from their
    /// last-modified time, when later) even if the trace never reads them.
    pub fn with_inventory<'a>(t: &'a Trace, inv: &'a Inventory, time_scale: f64) -> (Self, Listing) {
        let (mut w, mut ids) = Self::numbered(t, time_scale);
        let log_objects = w.keys.len();
        // Without a log, time starts at the newest write the inventory lists.
        if t.events.is_empty() {
            w.trace_start_ms = inv.objects.iter().filter_map(|o| o.last_modified_ms).max().unwrap_or(0);
        }
        let mut first: Vec<Option<Ev>> = vec![None; log_objects];
        for e in &w.events {
            first[e.obj as usize].get_or_insert(*e);
        }
        let mut listing = Listing::default();
        let mut created = Vec::new();
        w.listed = vec![false; log_objects];
        for o in &inv.objects {
            let at = o.last_modified_ms.map_or(0, |m| {
                (((m - w.trace_start_ms) as f64 * time_scale).round() as Millis).max(0)
            });
            let obj = match ids.get(o.key.as_str()) {
                Some(&obj) => obj,
                None if at > w.end => {
                    listing.after_trace += 1;
                    continue;
                }
                None => {
                    let obj = w.keys.len() as u32;
                    ids.insert(o.key.as_str(), obj);
                    w.keys.push(o.key.clone());
                    w.sizes.push(0);
                    w.listed.push(false);
                    first.push(None);
                    listing.only_listed += 1;
                    listing.only_listed_bytes += o.size;
                    obj
                }
            };
            let size = &mut w.sizes[obj as usize];
            *size = (*size).max(o.size);
            // Listed once already (two reports naming it), or the log writes it itself, or it
            // was there before the log's first access to it.
            let at = match first[obj as usize] {
                _ if w.listed[obj as usize] => continue,
                Some(f) if f.op == Op::Put => continue,
                Some(f) => at.min(f.ts),
                None => at,
            };
            w.listed[obj as usize] = true;
            created.push(Ev {
                ts: at,
                obj,
                op: Op::Put,
            });
        }
        // Stable, listed writes first: an object is stored before the log's first access at the
        // same instant.
        created.append(&mut w.events);
        created.sort_by_key(|e| e.ts);
        w.events = created;
        w.end = w.events.last().map_or(0, |e| e.ts);
        (w, listing)
    }

    /// Whether `obj` was stored before the trace (its first PUT is not billed).
    pub fn is_listed(&self, obj: usize) -> bool {
        self.listed.get(obj).copied().unwrap_or(false)
    }

    pub fn objects(&self) -> usize {
        self.keys.len()
    }

    pub fn bytes(&self) -> u64 {
        self.sizes.iter().sum()
    }

    /// Trace time (hours since the trace's first event) of engine time `ts`.
    pub fn trace_hours(&self, ts: Millis) -> f64 {
        ts as f64 / self.time_scale / 3_600_000.0
    }
}
