//! What this node reports of itself at each heartbeat, read from the engine's parts.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::events::SourceShared;
use crate::ingest::IngestStats;
use crate::migrate::Migrator;
use crate::sync;

/// What this node says of itself at each heartbeat: partitions' lag, moves in flight, ingest rate.
pub fn node_report(shared: &Arc<SourceShared>, migrator: &Arc<Migrator>, ingest: &Arc<IngestStats>) -> super::Report {
    let (shared, migrator, ingest) = (shared.clone(), migrator.clone(), ingest.clone());
    let last = std::sync::Mutex::new((Instant::now(), 0u64));
    Box::new(move || {
        let events = ingest.events.load(Ordering::Relaxed);
        let mut l = sync::lock(&last);
        let secs = l.0.elapsed().as_secs_f64().max(1e-3);
        let rate = events.saturating_sub(l.1) as f64 / secs;
        *l = (Instant::now(), events);
        super::NodeInfo {
            lag: sync::lock(&shared.partitions).iter().map(|p| p.lag).sum(),
            tasks_in_flight: migrator.in_flight().len(),
            events_per_sec: rate,
            ..super::NodeInfo::default()
        }
    })
}
