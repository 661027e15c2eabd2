//! The command executor: what each `Command` does to the engine, answered with accepted or why not.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::clock::wall_now_ms;
use super::command::{Answer, Command, Refusal, Request};
use super::events::SourceShared;
use super::migrate::{self, Migrator};
use super::store::{self, Store, StoreError};
use super::sync::lock;
use super::tiers::Tiers;
use super::{inventory, placement, scenario};
use crate::config::SourceKind;

/// What Commands act on.
pub(crate) struct Control {
    pub shared: Arc<SourceShared>,
    pub inspect: Arc<std::sync::Mutex<Option<String>>>,
    pub migrator: Arc<Migrator>,
    pub tiers: Tiers,
    pub store: Arc<Store>,
    pub brain: Arc<placement::runner::Brain>,
    pub scanner: inventory::Scanner,
    pub scenario: Arc<scenario::ScenarioShared>,
    pub source_kind: SourceKind,
}

impl Control {
    /// The executor of commands over the engine's parts.
    pub(crate) fn new(
        cfg: &crate::config::Config,
        store: &Arc<Store>,
        tiers: &Tiers,
        clock: &Arc<dyn crate::clock::Clock>,
        migrator: &Arc<Migrator>,
        brain: &Arc<placement::runner::Brain>,
        stop: &Arc<std::sync::atomic::AtomicBool>,
    ) -> Self {
        let order = cfg.tiers.iter().map(|t| t.name.clone()).collect();
        Control {
            shared: Arc::new(SourceShared::new(cfg.events.source)),
            inspect: Arc::default(),
            migrator: migrator.clone(),
            tiers: tiers.clone(),
            store: store.clone(),
            brain: brain.clone(),
            scanner: inventory::Scanner::new(tiers.clone(), order, clock.clone(), store.clone(), stop.clone()),
            scenario: Arc::default(),
            source_kind: cfg.events.source,
        }
    }

    /// On a cluster, what every node applies at its next heartbeat: a pause or chaos sent to
    /// one node acts on all of them.
    async fn order_cluster(&self, f: impl FnOnce(&mut crate::cluster::Orders) + Send + 'static) -> Result<(), Refusal> {
        if self.store.node().is_none() {
            return Ok(());
        }
        self.store
            .write(move |c| crate::cluster::Orders::update(c, f))
            .await
            .map_err(store_failed)
    }

    /// Injects `settings` on `tier` (or on every tier: a clear), here and, on a cluster, on
    /// every node.
    async fn chaos(&self, tier: Option<String>, settings: crate::ChaosSettings) -> Result<(), Refusal> {
        match &tier {
            Some(name) => {
                let t = self
                    .tiers
                    .get(name)
                    .ok_or_else(|| Refusal::UnknownTier { tier: name.clone() })?;
                t.set(settings.clone());
            }
            None => {
                for t in self.tiers.values() {
                    t.set(settings.clone());
                }
            }
        }
        self.order_cluster(move |o| match tier {
            Some(t) if settings != crate::ChaosSettings::default() => {
                o.chaos.insert(t, settings);
            }
            Some(t) => {
                o.chaos.remove(&t);
            }
            None => o.chaos.clear(),
        })
        .await
    }

    async fn apply(&self, cmd: Command) -> Answer {
        cmd.check()?;
        if cmd.drives_workload() && self.source_kind == SourceKind::Kafka {
            return Err(Refusal::WorkloadOnKafka);
        }
        match cmd {
            Command::SetEventRate { per_sec } => *lock(&self.shared.rate) = Some(per_sec),
            Command::SetSkew { skew } => *lock(&self.shared.skew) = Some(skew),
            Command::FlashCrowd { objects } => *lock(&self.shared.flash) = Some(objects),
            Command::PutBurst { objects } => *lock(&self.shared.put_burst) = Some(objects),
            Command::GrowObjects { objects, engine_secs } => {
                *lock(&self.shared.grow) = Some((objects, engine_secs as i64 * 1000));
            }
            Command::SetCapacity { tier, bytes } => {
                self.known_tier(&tier)?;
                tracing::info!(target: "dim::placement", tier = %tier, bytes, "capacity changed");
                self.brain.set_capacity(&tier, bytes);
            }
            Command::PauseScenario { paused } => {
                if !self.scenario.set_paused(paused) {
                    return Err(Refusal::NoScenario);
                }
            }
            Command::Chaos { tier, settings } => self.chaos(Some(tier), settings).await?,
            Command::ChaosClear { tier } => self.chaos(tier, Default::default()).await?,
            Command::Pin { key, pinned } => self.pin(key, pinned).await?,
            Command::Inspect { key } => {
                *lock(&self.inspect) = key;
            }
            Command::Rescan => {
                if !self.scanner.rescan() {
                    return Err(Refusal::ScanRunning);
                }
            }
            Command::OptimizeNow => self.brain.optimize_now(),
            Command::RetrainNow => self.brain.retrain_now(),
            c @ (Command::PauseMigrations | Command::ResumeMigrations) => {
                let paused = matches!(c, Command::PauseMigrations);
                self.migrator.set_paused(paused);
                self.order_cluster(move |o| o.migrations_paused = paused).await?;
            }
            Command::RetryFailed => {
                let n = self
                    .store
                    .write(|c| migrate::task::retry_failed(c, wall_now_ms()))
                    .await
                    .map_err(store_failed)?;
                tracing::info!(target: "dim::migrate", tasks = n, "failed tasks queued again");
                self.migrator.wake();
            }
            Command::CancelTask { id } => self.cancel_task(id).await?,
            Command::MigrateNow { key, tier } => self.migrate_now(key, tier).await?,
        }
        Ok(())
    }

    /// Pins or unpins `key` (plans leave a pinned object where it is).
    async fn pin(&self, key: String, pinned: bool) -> Answer {
        let k = key.clone();
        let found = self
            .store
            .write(move |c| store::set_pinned(c, &k, pinned))
            .await
            .map_err(store_failed)?;
        if !found {
            return Err(Refusal::UnknownObject { key });
        }
        tracing::info!(target: "dim::placement", key = %key, pinned, "pin changed");
        Ok(())
    }

    /// Cancels task `id` and removes the copy it may have left on its destination.
    async fn cancel_task(&self, id: i64) -> Answer {
        let task = self
            .store
            .write(move |c| {
                let t = migrate::task::get(c, id)?;
                let ok = migrate::task::cancel(c, id, wall_now_ms())?;
                Ok(t.filter(|_| ok))
            })
            .await
            .map_err(store_failed)?;
        let t = task.ok_or(Refusal::UnknownTask { id })?;
        // A copy it may have left on the destination goes, unless the pointer names it.
        self.migrator.ctx().remove_copy(&t).await;
        Ok(())
    }

    /// Queues a move of `key` to `tier` now, whatever the plan says.
    async fn migrate_now(&self, key: String, tier: String) -> Answer {
        self.known_tier(&tier)?;
        let k = key.clone();
        let dst = tier.clone();
        let id = self
            .store
            .write(move |c| {
                let src = store::placement(c, &k)?.ok_or_else(|| StoreError::NoObject(k.clone()))?;
                match src {
                    Some(src) if src != dst => migrate::task::enqueue(c, &k, &src, &dst, wall_now_ms()),
                    _ => Ok(None),
                }
            })
            .await
            .map_err(|e| match e {
                StoreError::NoObject(key) => Refusal::UnknownObject { key },
                e => store_failed(e),
            })?;
        match id {
            Some(id) => tracing::info!(target: "dim::migrate", id, key = %key, to = %tier, "migration queued"),
            None => return Err(Refusal::NothingToMove { key, tier }),
        }
        self.migrator.wake();
        Ok(())
    }

    fn known_tier(&self, tier: &str) -> Answer {
        match self.tiers.contains_key(tier) {
            true => Ok(()),
            false => Err(Refusal::UnknownTier { tier: tier.to_string() }),
        }
    }
}

fn store_failed(e: StoreError) -> Refusal {
    Refusal::Store { message: e.to_string() }
}

/// Carries out commands one at a time, in the order they came, and answers each; counts each
/// in `applied` and nudges the publisher, so the next snapshot shows it.
pub(crate) async fn dispatch_commands(
    mut rx: mpsc::Receiver<Request>,
    ctl: Control,
    applied: Arc<AtomicU64>,
    nudge: Arc<tokio::sync::Notify>,
) {
    while let Some(Request { command, answer }) = rx.recv().await {
        tracing::info!(target: "dim::engine", command = %command, "command");
        let result = ctl.apply(command).await;
        if let Err(e) = &result {
            tracing::warn!(target: "dim::engine", error = %e, "command refused");
        }
        applied.fetch_add(1, Ordering::Release);
        nudge.notify_one();
        // The client may have gone (a dashboard that quit): the command still took effect.
        let _ = answer.send(result);
    }
}
