//! The embedded event source: seeds the landing tier with real files, then runs the workload generator live.

use crate::sync::lock;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc;

use super::SourceShared;
use super::generator::{Effect, GenObject, Generated, Workload};
use super::source::{SourceState, WorkloadView};
use crate::clock::{Clock, Millis, wall_now_ms};
use crate::config::{Backend, Config};
use crate::ingest::{Item, ObjectRecord, SourceBatch};
use crate::store::tasks as task;
use crate::store::{Connection, Store, StoreError, objects, stored_offset};
use crate::tiers::local::LocalTier;

pub const SOURCE: &str = "embedded";
const TICK: Duration = Duration::from_millis(20);
/// Never produce more than this much wall time of events at once, whatever the stall was:
/// a slow store slows the workload down instead of queueing a backlog that delays shutdown.
const MAX_CATCH_UP: f64 = 0.1;
/// Objects kept growing are written this often (wall time), this much each time.
const GROW_EVERY: Duration = Duration::from_millis(500);
const GROW_BYTES: u64 = 64 * 1024;

/// Deterministic content for an object: the same key and size always give the same bytes.
pub fn object_bytes(key: &str, size: u64) -> Vec<u8> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    size.hash(&mut h);
    let mut rng = StdRng::seed_from_u64(h.finish());
    let mut buf = vec![0u8; size as usize];
    rng.fill_bytes(&mut buf);
    buf
}

pub struct EmbeddedSource {
    pub cfg: Config,
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub tx: mpsc::Sender<SourceBatch>,
    pub shared: Arc<SourceShared>,
    pub stop: Arc<AtomicBool>,
    pub tiers: HashMap<String, LocalTier>,
}

/// The local tiers of a config, rooted under the data directory.
pub fn local_tiers(cfg: &Config, data_dir: &Path) -> Result<HashMap<String, LocalTier>, crate::tiers::TierError> {
    let mut out = HashMap::new();
    for t in cfg.tiers.iter().filter(|t| t.backend == Backend::Local) {
        out.insert(
            t.name.clone(),
            LocalTier::new(&t.name, crate::tiers::local_root(t, data_dir))?,
        );
    }
    Ok(out)
}

impl EmbeddedSource {
    pub fn run(self) -> Result<(), StoreError> {
        let reader = self.store.reader()?;
        let mut workload = Workload::new(&self.cfg.events.embedded);
        let existing = load_objects(&reader)?;
        let landing = self.cfg.landing_tier().name.clone();
        if existing.is_empty() && self.cfg.events.embedded.seed_objects > 0 {
            if !self.seed(&mut workload, &landing)? {
                return Ok(());
            }
        } else {
            tracing::info!(target: "dim::embedded", objects = existing.len(), "resuming with existing objects");
            workload.adopt(existing);
        }
        let mut seq = stored_offset(&reader, SOURCE, 0)?.unwrap_or(0);
        self.shared
            .set_state(SourceState::Running, format!("{} objects", workload.len()));

        let mut last = Instant::now();
        let mut carry = 0.0f64;
        let mut out: Vec<Generated> = Vec::new();
        let mut growing = Growing::default();
        while !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(TICK);
            out.clear();
            let now = self.clock.now_ms();
            self.apply_controls(&mut workload, &mut growing, &reader, now, &mut out);
            growing.tick(&mut workload, now, &mut out);
            let dt = last.elapsed().as_secs_f64().min(MAX_CATCH_UP);
            last = Instant::now();
            carry += workload.rate_at(now) * dt;
            let n = carry.floor() as usize;
            carry -= n as f64;
            for _ in 0..n {
                workload.next(now, &mut out);
            }
            *lock(&self.shared.view) = Some(WorkloadView {
                rate: workload.params().rate,
                skew: workload.params().skew,
                flash_key: workload.flash_key().map(str::to_string),
                flash_objects: workload.flash_objects(),
                growing: growing.keys.clone(),
            });
            if out.is_empty() {
                continue;
            }
            let mut items = Vec::with_capacity(out.len() + 4);
            for g in out.drain(..) {
                // A PUT writes real bytes (fsync included), so a chunk can take long on a slow
                // disk: stop between writes. What was generated but not sent is never counted.
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Some(effect) = &g.effect
                    && let Some(rec) = self.carry_out(effect, &reader, &landing, now)
                {
                    items.push(Item::Register(rec));
                }
                items.push(Item::Event(g.event));
            }
            if items.is_empty() {
                break;
            }
            seq += items.iter().filter(|i| matches!(i, Item::Event(_))).count() as i64;
            let batch = SourceBatch {
                source: SOURCE.into(),
                items,
                offsets: vec![(0, seq)],
                caught_up: false,
                generation: 0,
            };
            if self.tx.blocking_send(batch).is_err() {
                break;
            }
        }
        self.shared.set_state(SourceState::Stopped, String::new());
        Ok(())
    }

    fn apply_controls(
        &self,
        w: &mut Workload,
        growing: &mut Growing,
        reader: &Connection,
        now: Millis,
        out: &mut Vec<Generated>,
    ) {
        if let Some(rate) = lock(&self.shared.rate).take() {
            w.set_rate(rate);
            tracing::info!(target: "dim::workload", rate, "event rate changed");
        }
        if let Some(skew) = lock(&self.shared.skew).take() {
            w.set_skew(skew);
            tracing::info!(target: "dim::workload", skew, "popularity skew changed");
        }
        if let Some(objects) = lock(&self.shared.flash).take() {
            let keys = w.flash_crowd(now, objects);
            tracing::info!(target: "dim::workload", objects = keys.len(), first = keys.first().map(String::as_str).unwrap_or(""), "flash crowd starts (command)");
        }
        if let Some(n) = lock(&self.shared.put_burst).take() {
            let before = out.len();
            w.put_burst(now, n, out);
            tracing::info!(target: "dim::workload", objects = out.len() - before, "burst of PUTs");
        }
        if let Some((n, for_ms)) = lock(&self.shared.grow).take() {
            // Objects the optimizer is about to move first: that is where a write racing a
            // migration matters (the migrator must defer them, not copy a file mid-write).
            let mut keys = queued_keys(reader, n, &self.tiers);
            keys.extend(w.cold_keys(n.saturating_sub(keys.len())));
            tracing::info!(target: "dim::workload", objects = keys.len(), engine_secs = for_ms / 1000, keys = %keys.join(", "), "objects keep growing");
            growing.start(keys, now + for_ms);
        }
    }

    /// Creates the initial objects as real files on the landing tier and registers them.
    /// Returns false if asked to stop meanwhile.
    fn seed(&self, w: &mut Workload, landing: &str) -> Result<bool, StoreError> {
        let Some(tier) = self.tiers.get(landing) else {
            tracing::warn!(target: "dim::embedded", tier = landing, "landing tier is not local: not seeding (use `dim seed` for S3 tiers)");
            return Ok(true);
        };
        let e = &self.cfg.events.embedded;
        let now = self.clock.now_ms();
        let objs = w.seed_objects(e.seed_objects, e.seed_total_bytes, now);
        let total: u64 = objs.iter().map(|o| o.size).sum();
        tracing::info!(target: "dim::embedded", objects = objs.len(), mib = total / (1 << 20), tier = landing, "seeding the landing tier");
        self.shared.set_state(SourceState::Seeding, format!("0/{}", objs.len()));
        let started = Instant::now();
        // Failed writes are counted and said once, not one line per object.
        let (mut failed, mut first_failure) = (0usize, None::<String>);
        let mut full = false;
        for (i, chunk) in objs.chunks(100).enumerate() {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            let mut items = Vec::with_capacity(chunk.len());
            for o in chunk {
                if let Err(err) = tier.put_bytes(&o.key, &object_bytes(&o.key, o.size)) {
                    if err.is_full() {
                        tracing::error!(target: "dim::embedded", tier = landing, error = %err, "seeding stopped: the landing tier's disk is full; free space, or seed fewer objects (events.embedded.seed_objects)");
                        full = true;
                        break;
                    }
                    failed += 1;
                    first_failure.get_or_insert_with(|| format!("{}: {err}", o.key));
                    continue;
                }
                items.push(Item::Register(ObjectRecord {
                    key: o.key.clone(),
                    tier: landing.to_string(),
                    size: o.size,
                    etag: None,
                    last_modified: wall_now_ms(),
                    created: o.created_ms,
                }));
            }
            self.shared
                .set_state(SourceState::Seeding, format!("{}/{}", (i + 1) * 100, objs.len()));
            let batch = SourceBatch {
                source: SOURCE.into(),
                items,
                offsets: vec![],
                caught_up: false,
                generation: 0,
            };
            if self.tx.blocking_send(batch).is_err() {
                return Ok(false);
            }
            if full {
                break;
            }
        }
        if let Some(first) = first_failure {
            tracing::error!(target: "dim::embedded", failed, of = objs.len(), first = %first, "seeding could not write some objects");
        }
        tracing::info!(target: "dim::embedded", secs = started.elapsed().as_secs_f64(), "seeding done");
        Ok(true)
    }

    /// Carries out a generated write or delete on the tier that holds the object.
    fn carry_out(&self, effect: &Effect, reader: &Connection, landing: &str, now: Millis) -> Option<ObjectRecord> {
        let result = match effect {
            Effect::Create { key, size } => self.tiers.get(landing).map(|t| {
                t.put_bytes(key, &object_bytes(key, *size)).map(|()| {
                    Some(ObjectRecord {
                        key: key.clone(),
                        tier: landing.to_string(),
                        size: *size,
                        etag: None,
                        last_modified: wall_now_ms(),
                        created: now,
                    })
                })
            }),
            Effect::Overwrite { key, size } => {
                let tier = tier_of(reader, key).unwrap_or_else(|| landing.to_string());
                self.tiers
                    .get(&tier)
                    .map(|t| t.put_bytes(key, &object_bytes(key, *size)).map(|()| None))
            }
            Effect::Delete { key } => {
                let tier = tier_of(reader, key).unwrap_or_else(|| landing.to_string());
                self.tiers.get(&tier).map(|t| t.remove(key).map(|()| None))
            }
        };
        match result {
            Some(Ok(rec)) => rec,
            Some(Err(err)) => {
                tracing::warn!(target: "dim::embedded", error = %err, "workload write failed");
                None
            }
            None => None,
        }
    }
}

/// Objects written continuously until an engine time.
#[derive(Debug, Default)]
struct Growing {
    keys: Vec<String>,
    until_ms: Millis,
    last: Option<Instant>,
}

impl Growing {
    fn start(&mut self, keys: Vec<String>, until_ms: Millis) {
        for k in keys {
            if !self.keys.contains(&k) {
                self.keys.push(k);
            }
        }
        self.until_ms = self.until_ms.max(until_ms);
    }

    /// One more write to each, every GROW_EVERY of wall time, until the engine time is reached.
    fn tick(&mut self, w: &mut Workload, now: Millis, out: &mut Vec<Generated>) {
        if self.keys.is_empty() {
            return;
        }
        if now >= self.until_ms {
            tracing::info!(target: "dim::workload", objects = self.keys.len(), "objects stopped growing");
            self.keys.clear();
            return;
        }
        if self.last.is_some_and(|l| l.elapsed() < GROW_EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        // A key the workload deleted meanwhile stops growing.
        self.keys.retain(|k| match w.grow(now, k, GROW_BYTES) {
            Some(g) => {
                out.push(g);
                true
            }
            None => false,
        });
    }
}

/// Keys of up to `n` objects with a migration queued from one of the local tiers.
fn queued_keys(reader: &Connection, n: usize, tiers: &HashMap<String, LocalTier>) -> Vec<String> {
    let queued = task::queued(reader, n * 4).unwrap_or_else(|e| {
        tracing::warn!(target: "dim::workload", error = %e, "cannot read the queued moves; growing cold objects instead");
        Vec::new()
    });
    let mut keys: Vec<String> = Vec::new();
    for (key, src) in queued {
        if keys.len() < n && tiers.contains_key(&src) && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

fn tier_of(reader: &Connection, key: &str) -> Option<String> {
    crate::store::tier_of(reader, key).ok().flatten()
}

fn load_objects(reader: &Connection) -> Result<Vec<GenObject>, StoreError> {
    Ok(objects::placed_sizes(reader)?
        .into_iter()
        .map(|o| GenObject {
            key: o.key,
            size: o.size,
            created_ms: o.created,
        })
        .collect())
}
