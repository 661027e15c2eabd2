//! Snapshot publishing: builds a `Snapshot` from a read-only connection plus in-memory engine
//! state, and publishes it on the watch at a fixed cadence, only when it changed.

use crate::sync;
use crate::sync::lock;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::EngineError;
use super::clock::Clock;
use super::clock::Millis;
use super::control::Control;
use super::events::SourceShared;
use super::ingest::IngestStats;
use super::migrate::{self, Migrator};
use super::model::Model;
use super::model::features::StatsRow;
use super::placement::explain::Explanation;
use super::placement::{self, explain::explain_with};
use super::snapshot::{self, Snapshot, TierView};
use super::store::summary::{StoreSummary, hottest_with_stats, summary};
use super::store::{Connection, Store};
use super::tiers::{self, Tiers};
use crate::config::Config;

/// Publishes a snapshot every `every`, and at once when `nudge` is notified (a command was
/// applied: the next status shows it).
pub(super) async fn publish_snapshots(
    builder: Arc<SnapshotBuilder>,
    tx: watch::Sender<Arc<Snapshot>>,
    every: Duration,
    nudge: Arc<tokio::sync::Notify>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = nudge.notified() => {}
        }
        let b = builder.clone();
        match tokio::task::spawn_blocking(move || b.build()).await {
            Ok(Ok(snap)) => {
                tx.send_if_modified(|cur| {
                    if **cur == snap {
                        false
                    } else {
                        *cur = Arc::new(snap);
                        true
                    }
                });
            }
            Ok(Err(e)) => tracing::warn!(target: "dim::engine", error = %e, "snapshot failed"),
            Err(_) => return,
        }
        if tx.is_closed() {
            return;
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct RateTracker {
    last: Option<(Instant, u64, u64)>,
    rate: f64,
    mib_per_sec: f64,
    history: std::collections::VecDeque<u64>,
}

/// Builds snapshots from a read-only connection plus in-memory engine state.
pub(super) struct SnapshotBuilder {
    pub cfg: Config,
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub stats: Arc<IngestStats>,
    pub shared: Arc<SourceShared>,
    pub inventory: Arc<std::sync::Mutex<super::inventory::InventoryView>>,
    pub scenario: Arc<super::scenario::ScenarioShared>,
    pub rates: Mutex<RateTracker>,
    pub tiers: Tiers,
    pub migrator: Arc<Migrator>,
    pub brain: Arc<placement::runner::Brain>,
    /// The object the dashboard's detail view is open on (`Command::Inspect`).
    pub inspect: Arc<Mutex<Option<String>>>,
    /// The expected life the detail view prices with, and when it was read.
    pub life: Mutex<Option<(Instant, f64)>>,
    /// Commands applied so far (`Commands::applied`).
    pub applied: Arc<std::sync::atomic::AtomicU64>,
    /// This node's view of the cluster, when it is one.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl SnapshotBuilder {
    /// A builder over what the command executor `control` acts on: both see one engine.
    pub(super) fn new(
        cfg: Config,
        control: &Control,
        clock: Arc<dyn Clock>,
        stats: Arc<IngestStats>,
        applied: Arc<std::sync::atomic::AtomicU64>,
    ) -> Self {
        Self {
            cfg,
            store: control.store.clone(),
            clock,
            stats,
            shared: control.shared.clone(),
            inventory: control.scanner.view.clone(),
            scenario: control.scenario.clone(),
            rates: Mutex::new(RateTracker::default()),
            tiers: control.tiers.clone(),
            migrator: control.migrator.clone(),
            brain: control.brain.clone(),
            inspect: control.inspect.clone(),
            life: Mutex::new(None),
            applied,
            cluster: None,
        }
    }
}

const RATE_HISTORY: usize = 120;

impl SnapshotBuilder {
    /// The migrator's pane: what is in flight, the newest tasks per state, the running totals.
    fn migration_view(
        &self,
        deferred: Vec<migrate::task::Task>,
        restoring: Vec<migrate::task::Task>,
        failed: Vec<migrate::task::Task>,
        recent_done: Vec<migrate::task::Task>,
        mib_per_sec: f64,
    ) -> snapshot::MigrationView {
        let mstats = self.migrator.stats();
        snapshot::MigrationView {
            paused: self.migrator.is_paused(),
            in_flight: self.migrator.in_flight(),
            deferred,
            restoring,
            failed,
            recent_done,
            done: mstats.done.load(Ordering::Relaxed),
            failed_total: mstats.failed.load(Ordering::Relaxed),
            deferred_total: mstats.deferred.load(Ordering::Relaxed),
            deferred_growing: sync::lock(&mstats.deferred_by)
                .get(migrate::task::FILE_GROWING)
                .copied()
                .unwrap_or(0),
            cancelled: mstats.cancelled.load(Ordering::Relaxed),
            retries: mstats.retries.load(Ordering::Relaxed),
            bytes_moved: mstats.bytes_moved.load(Ordering::Relaxed),
            mib_per_sec,
        }
    }
}

/// How long the detail view's expected life is kept: it changes with deletions over days.
const LIFE_KEPT: Duration = Duration::from_secs(60);

impl SnapshotBuilder {
    fn life_hours(
        &self,
        conn: &super::store::Connection,
        now: crate::clock::Millis,
    ) -> Result<f64, super::store::StoreError> {
        let mut life = sync::lock(&self.life);
        if let Some((at, hours)) = *life
            && at.elapsed() < LIFE_KEPT
        {
            return Ok(hours);
        }
        let hours = placement::explain::life_hours(conn, now)?;
        *life = Some((Instant::now(), hours));
        Ok(hours)
    }

    /// The explanation of the object the dashboard inspects, or why there is none.
    fn detail(&self, conn: &Connection, model: &Model, now: Millis) -> (Option<Explanation>, Option<String>) {
        match sync::lock(&self.inspect).clone() {
            None => (None, None),
            Some(key) => match self
                .life_hours(conn, now)
                .map_err(placement::explain::ExplainError::from)
                .and_then(|life| explain_with(conn, &self.cfg, &key, model, now, life))
            {
                Ok(e) => (Some(e), None),
                Err(placement::explain::ExplainError::Unknown(k)) => {
                    (None, Some(format!("{k} is no longer in the store: it was deleted")))
                }
                Err(e) => (None, Some(e.to_string())),
            },
        }
    }

    /// Events per second and MiB moved per second since the last snapshot (measured over at least
    /// 0.2 s), and the history of the event rate.
    fn rates(&self, events_total: u64, bytes_moved: u64) -> (f64, f64, Vec<u64>) {
        let mut r = sync::lock(&self.rates);
        let t = Instant::now();
        if let Some((t0, n0, b0)) = r.last {
            let dt = t.duration_since(t0).as_secs_f64();
            if dt >= 0.2 {
                r.rate = (events_total.saturating_sub(n0)) as f64 / dt;
                r.mib_per_sec = bytes_moved.saturating_sub(b0) as f64 / dt / (1 << 20) as f64;
                let v = r.rate.round() as u64;
                r.history.push_back(v);
                if r.history.len() > RATE_HISTORY {
                    r.history.pop_front();
                }
                r.last = Some((t, events_total, bytes_moved));
            }
        } else {
            r.last = Some((t, events_total, bytes_moved));
        }
        (r.rate, r.mib_per_sec, r.history.iter().copied().collect())
    }

    /// Each configured tier: what the store places there, its chaos and measured latency.
    fn tier_views(&self, store: &StoreSummary) -> Vec<TierView> {
        self.cfg
            .tiers
            .iter()
            .map(|t| {
                let totals = store.tiers.get(&t.name).cloned().unwrap_or_default();
                let chaos = self.tiers.get(&t.name);
                let stat = |f: fn(&tiers::chaos::TierStats) -> &std::sync::atomic::AtomicU64| {
                    chaos.map_or(0, |c| f(&c.stats).load(Ordering::Relaxed))
                };
                TierView {
                    measured_latency_ms: stat(|s| &s.latency_ewma_us) as f64 / 1000.0,
                    ops: stat(|s| &s.ops),
                    errors: stat(|s| &s.errors),
                    last_error: chaos.and_then(|c| c.last_error()),
                    chaos: chaos.map(|c| c.settings()).unwrap_or_default(),
                    name: t.name.clone(),
                    provider: t.provider.clone(),
                    backend: t.backend.to_string(),
                    objects: totals.objects,
                    bytes: totals.bytes,
                    capacity_bytes: self.brain.capacity_of(&t.name).or_else(|| t.capacity_bytes()),
                    latency_ms: t.latency_ms,
                    monthly_storage_cost: totals.bytes as f64 / 1e9 * t.storage_gb_month,
                }
            })
            .collect()
    }

    pub(crate) fn build(&self) -> Result<Snapshot, EngineError> {
        // Read before the state: every command counted here is already in what follows.
        let commands_applied = self.applied.load(Ordering::Acquire);
        let now = self.clock.now_ms();
        let reader = self.store.reader()?;
        let conn: &super::store::Connection = &reader;
        let store = summary(conn)?;
        let model = self.brain.model();
        let (mut hot, rows): (Vec<_>, Vec<StatsRow>) =
            hottest_with_stats(conn, self.cfg.ui.top_k, now)?.into_iter().unzip();
        let refs: Vec<&StatsRow> = rows.iter().collect();
        for (o, p) in hot.iter_mut().zip(model.p_hot(&refs, now)) {
            o.p_hot = p;
        }
        let (detail, detail_error) = self.detail(conn, &model, now);
        use migrate::task::{TaskState, in_state};
        let deferred = in_state(conn, TaskState::Deferred, 20)?;
        let restoring = in_state(conn, TaskState::Restoring, 20)?;
        let failed = in_state(conn, TaskState::Failed, 20)?;
        let recent_done = in_state(conn, TaskState::Done, 10)?;
        drop(reader);
        let bytes_moved = self.migrator.stats().bytes_moved.load(Ordering::Relaxed);

        let events_total = self.stats.events.load(Ordering::Relaxed) + self.stats.rejected.load(Ordering::Relaxed);
        let (rate, mib_per_sec, history) = self.rates(events_total, bytes_moved);

        let tiers = self.tier_views(&store);
        let monthly = tiers.iter().map(|t| t.monthly_storage_cost).sum();
        let mut source = lock(&self.shared.state).clone();
        source.partitions = lock(&self.shared.partitions).clone();
        source.lag = source.partitions.iter().map(|p| p.lag).sum();
        let workload = lock(&self.shared.view).clone();
        Ok(Snapshot {
            commands_applied,
            now_ms: now,
            clock_speed: self.clock.speed(),
            source,
            store,
            events_per_sec: rate,
            events_per_sec_history: history,
            tiers,
            hottest: hot,
            workload,
            migrations: self.migration_view(deferred, restoring, failed, recent_done, mib_per_sec),
            monthly_storage_cost: monthly,
            last_commit_ms: self.stats.last_commit_us.load(Ordering::Relaxed) as f64 / 1000.0,
            model: model.info.clone(),
            detail,
            detail_error,
            inventory: lock(&self.inventory).clone(),
            plan: self.brain.last_plan(),
            scenario: self.scenario.view(),
            cluster: self.cluster.as_ref().map(|c| c.view()),
        })
    }
}
