//! A trace as a replay sees it: objects numbered, each with one size (the largest seen), time
//! stretched by the time scale and starting at 0.

use std::collections::HashMap;

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
}

impl Workload {
    pub fn from_trace(t: &Trace, time_scale: f64) -> Self {
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
        w
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
