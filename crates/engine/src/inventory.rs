//! Inventory: lists every tier in the background and registers what it finds, so objects put there by others are known and placed.

use crate::sync::lock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::clock::Clock;
use super::clock::{Millis, wall_now_ms};
use super::ingest::{Item, ObjectRecord, apply_items};
use super::store::scan::{self, ScanCursor, ScanEnd};
use super::store::tasks as task;
use super::store::{Store, StoreError, objects};
use super::tiers::{ObjectStore, OpError, Tiers};

pub const SOURCE: &str = "inventory";
/// Duplicates listed by name in the snapshot (all are counted and logged).
const DUPLICATES_SHOWN: usize = 20;

/// Where the inventory scan is; spelled in lower case in the snapshot's JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanState {
    #[default]
    Idle,
    Scanning,
    Done,
    /// A tier could not be listed (`errors` says which and why).
    Failed,
    /// The engine stopped it.
    Stopped,
}

/// Progress and findings of the current or last scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InventoryView {
    pub state: ScanState,
    /// The tier being listed.
    pub tier: Option<String>,
    pub listed: u64,
    pub bytes: u64,
    /// Objects found on more than one tier (outside migrations in flight): key and tiers.
    pub duplicates: u64,
    pub duplicate_keys: Vec<(String, Vec<String>)>,
    /// Tiers that could not be listed, with the error.
    pub errors: Vec<String>,
    pub started_ms: Option<Millis>,
    pub secs: f64,
}

/// Lists the scanner's tiers (fastest first) and registers what they hold, a page per transaction
/// on the store's writer (so ingest waits at most one page between its batches), each page with
/// the scan's place, so a restart resumes after the last page registered. An object on several
/// tiers is placed on the first that lists it (unless the store already places it) and reported.
/// `fresh` starts over even if a scan is unfinished. Returns the number of objects listed.
async fn scan(sc: &Scanner, fresh: bool) -> u64 {
    let view = &sc.view;
    let started = Instant::now();
    let Some(mut cur) = begin(sc, fresh).await else {
        return 0;
    };
    let first = cur
        .tier
        .as_ref()
        .and_then(|t| sc.order.iter().position(|n| n == t))
        .unwrap_or(0);
    for name in &sc.order[first..] {
        let Some(tier) = sc.tiers.get(name) else { continue };
        lock(view).tier = Some(name.clone());
        let after = cur.after.clone().filter(|_| cur.tier.as_ref() == Some(name));
        match list_tier(sc, tier.as_ref(), name, after.as_deref(), &mut cur).await {
            Listed::All => {}
            Listed::Stopped => {
                lock(view).state = ScanState::Stopped;
                return lock(view).listed;
            }
            Listed::Failed(e) => {
                tracing::warn!(target: "dim::inventory", tier = %name, error = %e, "could not list the tier");
                lock(view).errors.push(format!("{name}: {e}"));
            }
        }
    }
    finish(sc, &cur, started).await
}

/// The scan to run: the unfinished one unless `fresh` (or its tier is no longer configured), or
/// a new one; shown in the view. `None` if the store could not say.
async fn begin(sc: &Scanner, fresh: bool) -> Option<ScanCursor> {
    let order = sc.order.clone();
    let begun = sc
        .store
        .write(move |c| {
            let resumable = |cur: &ScanCursor| cur.tier.as_ref().is_none_or(|t| order.contains(t));
            match scan::unfinished(c)? {
                Some(cur) if !fresh && resumable(&cur) => Ok((cur, true)),
                _ => Ok((scan::begin(c, wall_now_ms())?, false)),
            }
        })
        .await;
    let (cur, resumed) = match begun {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(target: "dim::inventory", error = %e, "could not start an inventory scan");
            let mut v = lock(&sc.view);
            v.state = ScanState::Failed;
            v.errors = vec![format!("store: {e}")];
            return None;
        }
    };
    *lock(&sc.view) = InventoryView {
        state: ScanState::Scanning,
        started_ms: Some(cur.started_ms),
        listed: cur.listed,
        bytes: cur.bytes,
        ..InventoryView::default()
    };
    if resumed {
        tracing::info!(
            target: "dim::inventory",
            tier = cur.tier.as_deref().unwrap_or(""),
            after = cur.after.as_deref().unwrap_or(""),
            listed = cur.listed,
            "inventory scan resumed where it stopped"
        );
    } else {
        tracing::info!(target: "dim::inventory", tiers = sc.order.len(), "inventory scan started");
    }
    Some(cur)
}

/// Records how scan `cur` ended, reports its duplicates, and returns how many objects it listed.
async fn finish(sc: &Scanner, cur: &ScanCursor, started: Instant) -> u64 {
    let failed = !lock(&sc.view).errors.is_empty();
    let (id, end) = (cur.id, if failed { ScanEnd::Failed } else { ScanEnd::Done });
    if let Err(e) = sc.store.write(move |c| scan::finish(c, id, end, wall_now_ms())).await {
        tracing::warn!(target: "dim::inventory", error = %e, "could not record the end of the scan");
    }
    let dups = duplicates(&sc.store, cur).await;
    let mut v = lock(&sc.view);
    v.duplicates = dups.len() as u64;
    v.duplicate_keys = dups.into_iter().take(DUPLICATES_SHOWN).collect();
    v.tier = None;
    v.secs = started.elapsed().as_secs_f64();
    v.state = if failed { ScanState::Failed } else { ScanState::Done };
    tracing::info!(
        target: "dim::inventory",
        objects = v.listed,
        mib = v.bytes / (1 << 20),
        duplicates = v.duplicates,
        secs = v.secs,
        "inventory scan finished"
    );
    v.listed
}

/// How listing one tier ended.
enum Listed {
    All,
    /// The engine stopped, or the store refused a page: the scan's place stays where it got to.
    Stopped,
    Failed(OpError),
}

/// Lists `tier` after `after` and registers it page by page, advancing `cur` with each page.
async fn list_tier(
    sc: &Scanner,
    tier: &dyn ObjectStore,
    name: &str,
    after: Option<&str>,
    cur: &mut ScanCursor,
) -> Listed {
    let (view, store, stop) = (&sc.view, &sc.store, &sc.stop);
    // Pages are handed over synchronously; each is registered while the next is listed.
    let (page_tx, mut page_rx) = mpsc::unbounded_channel();
    let listing = async {
        let r = tier
            .list_pages("", after, &mut |page| {
                let _ = page_tx.send(page);
            })
            .await;
        drop(page_tx);
        r
    };
    let forward = async {
        while let Some(page) = page_rx.recv().await {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let records: Vec<ObjectRecord> = page
                .into_iter()
                .map(|(key, meta)| ObjectRecord::found(key, name, meta))
                .collect();
            let (mut next, tier_name) = (cur.clone(), name.to_string());
            let written = store
                .write(move |c| scan::register_page(c, &mut next, &tier_name, &records).map(|d| (next, d)))
                .await;
            match written {
                Ok((next, dups)) => {
                    *cur = next;
                    let mut v = lock(view);
                    v.listed = cur.listed;
                    v.bytes = cur.bytes;
                    v.duplicates += dups.len() as u64;
                }
                Err(e) => {
                    tracing::error!(target: "dim::inventory", error = %e, "could not register listed objects");
                    return false;
                }
            }
        }
        true
    };
    let (listed, forwarded) = tokio::join!(listing, forward);
    if !forwarded || stop.load(Ordering::Relaxed) {
        return Listed::Stopped;
    }
    match listed {
        Ok(()) => Listed::All,
        Err(e) => Listed::Failed(e),
    }
}

/// The keys scan `cur` found on more than one tier with their tiers, sorted, each of the first
/// ones logged; keys being moved since the scan began are left out (two copies are expected there).
async fn duplicates(store: &Arc<Store>, cur: &ScanCursor) -> Vec<(String, Vec<String>)> {
    let (id, started_ms) = (cur.id, cur.started_ms);
    let found = store
        .read(move |c| Ok((scan::duplicates(c, id)?, task::moving_keys(c, started_ms)?)))
        .await;
    let (dups, moving) = match found {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(target: "dim::inventory", error = %e, "could not read the duplicates found");
            return Vec::new();
        }
    };
    let dups: Vec<(String, Vec<String>)> = dups.into_iter().filter(|(k, _)| !moving.contains(k)).collect();
    for (key, on) in dups.iter().take(DUPLICATES_SHOWN) {
        tracing::warn!(
            target: "dim::inventory",
            key = %key,
            tiers = %on.join(", "),
            "object found on more than one tier: placed on {} (the store's copy wins if it had one); remove the other copy or keep it deliberately",
            on[0]
        );
    }
    dups
}

/// Starts scans in the background, one at a time.
#[derive(Clone)]
pub struct Scanner {
    pub tiers: Tiers,
    /// Tier names, fastest first.
    pub order: Vec<String>,
    pub clock: Arc<dyn Clock>,
    pub view: Arc<Mutex<InventoryView>>,
    pub store: Arc<Store>,
    pub stop: Arc<AtomicBool>,
    pub running: Arc<AtomicBool>,
}

impl Scanner {
    /// A scanner of `tiers` (names fastest first in `order`), idle until started.
    pub fn new(
        tiers: Tiers,
        order: Vec<String>,
        clock: Arc<dyn Clock>,
        store: Arc<Store>,
        stop: Arc<AtomicBool>,
    ) -> Self {
        Self {
            tiers,
            order,
            clock,
            view: Arc::default(),
            store,
            stop,
            running: Arc::default(),
        }
    }

    /// Carries on with an unfinished scan, or starts one, unless one is running; returns whether
    /// it started.
    pub fn start(&self) -> bool {
        self.spawn(false)
    }

    /// Starts a scan of every tier from the beginning, unless one is running; returns whether it
    /// started.
    pub fn rescan(&self) -> bool {
        self.spawn(true)
    }

    fn spawn(&self, fresh: bool) -> bool {
        if self.running.swap(true, Ordering::AcqRel) {
            return false;
        }
        let s = self.clone();
        tokio::spawn(async move {
            scan(&s, fresh).await;
            s.running.store(false, Ordering::Release);
        });
        true
    }
}

/// Unplaced objects looked up per round, newest events first.
const RESOLVE_BATCH: usize = 1000;

/// Objects that PUT events named but no tier held when they were seen (written after the last
/// listing): every few seconds, those with a PUT since the last round are looked up on the tiers
/// (HEAD, fastest first) and registered where found. Returns how many were placed.
pub async fn resolve_unplaced(scanner: &Scanner, since_ms: Millis) -> Result<u64, StoreError> {
    let keys = scanner
        .store
        .read(move |c| objects::unplaced_since(c, since_ms, RESOLVE_BATCH))
        .await?;
    let mut items = Vec::new();
    for key in keys {
        for name in &scanner.order {
            let Some(tier) = scanner.tiers.get(name) else { continue };
            if let Ok(Some(meta)) = tier.head(&key).await {
                items.push(Item::Discovered(ObjectRecord::found(key, name, meta)));
                break;
            }
        }
    }
    if items.is_empty() {
        return Ok(0);
    }
    let n = items.len() as u64;
    apply_items(&scanner.store, SOURCE, items, scanner.clock.now_ms()).await?;
    tracing::info!(target: "dim::inventory", objects = n, "objects named by events found on a tier and registered");
    Ok(n)
}

/// Runs `resolve_unplaced` every `every` until the engine stops.
pub async fn resolve_loop(scanner: Scanner, every: std::time::Duration) {
    let mut since = 0;
    loop {
        tokio::time::sleep(every).await;
        if scanner.stop.load(Ordering::Relaxed) {
            return;
        }
        let now = scanner.clock.now_ms();
        match resolve_unplaced(&scanner, since).await {
            Ok(_) => since = now,
            Err(e) => tracing::warn!(target: "dim::inventory", error = %e, "could not look up unplaced objects"),
        }
    }
}
