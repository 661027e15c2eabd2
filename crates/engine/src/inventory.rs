//! Inventory: lists every tier in the background and registers what it finds, so objects put there by others are known and placed.

use crate::sync::lock;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::clock::Clock;
use super::clock::{Millis, wall_now_ms};
use super::ingest::{Item, ObjectRecord, apply_items};
use super::store::tasks as task;
use super::store::{Store, StoreError, objects};
use super::tiers::{Listing, ObjectStore, Tiers};

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
/// on the store's writer (so ingest waits at most one page between its batches).
/// An object on several tiers is placed on the first that lists it (unless the store already
/// places it) and reported. Returns the number of objects listed.
async fn scan(sc: &Scanner) -> u64 {
    let (view, store, stop) = (&sc.view, &sc.store, &sc.stop);
    let started = Instant::now();
    let started_ms = wall_now_ms();
    *lock(view) = InventoryView {
        state: ScanState::Scanning,
        started_ms: Some(started_ms),
        ..InventoryView::default()
    };
    tracing::info!(target: "dim::inventory", tiers = sc.order.len(), "inventory scan started");
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    let mut dup_keys: Vec<String> = Vec::new();
    for name in &sc.order {
        let Some(tier) = sc.tiers.get(name) else { continue };
        lock(view).tier = Some(name.clone());
        // Pages are handed over synchronously; each is registered while the next is listed.
        let (page_tx, mut page_rx) = mpsc::unbounded_channel();
        let listing = async {
            let r = tier
                .list_pages("", &mut |page| {
                    let _ = page_tx.send(page);
                })
                .await;
            drop(page_tx);
            r
        };
        let forward = async {
            while let Some(page) = page_rx.recv().await {
                let (items, bytes) = discovered(page, name, &mut seen, &mut dup_keys);
                {
                    let mut v = lock(view);
                    v.listed += items.len() as u64;
                    v.bytes += bytes;
                }
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                if let Err(e) = apply_items(store, SOURCE, items, sc.clock.now_ms()).await {
                    tracing::error!(target: "dim::inventory", error = %e, "could not register listed objects");
                    return false;
                }
            }
            true
        };
        let (listed, forwarded) = tokio::join!(listing, forward);
        if !forwarded || stop.load(Ordering::Relaxed) {
            lock(view).state = ScanState::Stopped;
            return lock(view).listed;
        }
        if let Err(e) = listed {
            tracing::warn!(target: "dim::inventory", tier = %name, error = %e, "could not list the tier");
            lock(view).errors.push(format!("{name}: {e}"));
        }
    }
    let dups = duplicates(store, started_ms, dup_keys, seen).await;
    let mut v = lock(view);
    v.duplicates = dups.len() as u64;
    v.duplicate_keys = dups.into_iter().take(DUPLICATES_SHOWN).collect();
    v.tier = None;
    v.secs = started.elapsed().as_secs_f64();
    v.state = if v.errors.is_empty() {
        ScanState::Done
    } else {
        ScanState::Failed
    };
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

/// A listed page of tier `name` as items to register, and their bytes; notes which tiers each key
/// was seen on and the keys seen on a second tier.
fn discovered(
    page: Listing,
    name: &str,
    seen: &mut HashMap<String, Vec<String>>,
    dup_keys: &mut Vec<String>,
) -> (Vec<Item>, u64) {
    let mut items = Vec::with_capacity(page.len());
    let mut bytes = 0;
    for (key, meta) in page {
        bytes += meta.size;
        let tiers_of = seen.entry(key.clone()).or_default();
        tiers_of.push(name.to_string());
        if tiers_of.len() == 2 {
            dup_keys.push(key.clone());
        }
        items.push(Item::Discovered(ObjectRecord::found(key, name, meta)));
    }
    (items, bytes)
}

/// The keys found on more than one tier with their tiers, sorted, each of the first ones logged;
/// keys being moved since the scan began are left out (two copies are expected there).
async fn duplicates(
    store: &Arc<Store>,
    started_ms: Millis,
    dup_keys: Vec<String>,
    mut seen: HashMap<String, Vec<String>>,
) -> Vec<(String, Vec<String>)> {
    let moving = match store.read(move |c| task::moving_keys(c, started_ms)).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(target: "dim::inventory", error = %e, "could not read the migration queue");
            HashSet::new()
        }
    };
    let mut dups: Vec<(String, Vec<String>)> = dup_keys
        .into_iter()
        .filter(|k| !moving.contains(k))
        .filter_map(|k| seen.remove(&k).map(|t| (k, t)))
        .collect();
    dups.sort();
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
    /// Starts a scan unless one is running; returns whether it started.
    pub fn start(&self) -> bool {
        if self.running.swap(true, Ordering::AcqRel) {
            return false;
        }
        let s = self.clone();
        tokio::spawn(async move {
            scan(&s).await;
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
