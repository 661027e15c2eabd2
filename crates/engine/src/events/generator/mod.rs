//! A seedable generator of realistic object access: Zipf popularity, ageing, office hours, flash crowds, PUT churn.

mod due;
mod pick;
#[cfg(test)]
mod tests;
mod uploads;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, Zipf};

use super::{AccessEvent, Op};
use crate::clock::Millis;
use crate::config::EmbeddedConfig;

const HOUR_MS: Millis = 3_600_000;
const DAY_MS: Millis = 24 * HOUR_MS;
/// Seeded objects get creation times spread over this many days before the start.
const SEED_AGE_DAYS: f64 = 30.0;

/// An object the generator knows about.
#[derive(Debug, Clone, PartialEq)]
pub struct GenObject {
    pub key: String,
    pub size: u64,
    pub created_ms: Millis,
}

impl GenObject {
    /// An object a tier listed: events can name it (its creation time is unknown: the last
    /// modification stands in).
    pub fn listed(key: String, meta: &crate::tiers::ObjectMeta) -> Self {
        Self {
            key,
            size: meta.size,
            created_ms: meta.last_modified_ms,
        }
    }
}

/// The storage side effect of a generated event, for the embedded source to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Create { key: String, size: u64 },
    Overwrite { key: String, size: u64 },
    Delete { key: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub event: AccessEvent,
    pub effect: Option<Effect>,
}

#[derive(Debug, Clone)]
struct Flash {
    /// The objects under the crowd (the first is the one the dashboard names).
    slots: Vec<usize>,
    until_ms: Millis,
}

/// The generator: objects live in popularity slots; slot `perm[r]` has Zipf rank `r`.
pub struct Workload {
    p: EmbeddedConfig,
    rng: StdRng,
    slots: Vec<Option<GenObject>>,
    perm: Vec<usize>,
    /// Occupied slots in creation order (oldest first), for ageing and retirement.
    by_age: VecDeque<(Millis, usize)>,
    free: Vec<usize>,
    zipf: Zipf<f64>,
    sizes: LogNormal<f64>,
    flash: Option<Flash>,
    next_flash_ms: Millis,
    next_id: u64,
    /// Scheduled accesses of the object-store population (`uploads.rs`), soonest first.
    due: BinaryHeap<Reverse<due::Due>>,
    due_seq: u64,
}

/// Key prefixes by size class, so listings look like a real bucket.
fn key_for(id: u64, size: u64) -> String {
    let (prefix, ext) = match size {
        0..=65_535 => ("thumbs", "jpg"),
        65_536..=1_048_575 => ("docs", "pdf"),
        1_048_576..=8_388_607 => ("media", "mp4"),
        _ => ("backups", "tar.gz"),
    };
    format!("{prefix}/{id:07}.{ext}")
}

/// The numeric id inside a generated key, so a restart continues numbering after it.
pub fn id_of_key(key: &str) -> Option<u64> {
    let name = key.rsplit('/').next()?;
    name.split('.').next()?.parse().ok()
}

impl Workload {
    /// A generator with no objects yet; `seed_objects` or `adopt` fills it.
    pub fn new(p: &EmbeddedConfig) -> Self {
        let mut rng = StdRng::seed_from_u64(p.seed);
        let n = p.max_objects.max(1);
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            perm.swap(i, j);
        }
        let mut free: Vec<usize> = (0..n).collect();
        // Random order of free slots: new objects take a random popularity.
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            free.swap(i, j);
        }
        let active = (((1.0 - p.dormant_share) * n as f64).ceil() as usize).max(1);
        Self {
            zipf: zipf(active, p.skew),
            sizes: lognormal(p),
            p: p.clone(),
            rng,
            slots: vec![None; n],
            perm,
            by_age: VecDeque::new(),
            free,
            flash: None,
            next_flash_ms: 0,
            next_id: 0,
            due: BinaryHeap::new(),
            due_seq: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.by_age.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_age.is_empty()
    }

    /// Current parameters (Commands can change rate, skew and flash crowds at run time).
    pub fn params(&self) -> &EmbeddedConfig {
        &self.p
    }

    pub fn set_rate(&mut self, rate: f64) {
        self.p.rate = rate.max(0.0);
    }

    pub fn set_skew(&mut self, skew: f64) {
        if skew > 0.0 && skew.is_finite() {
            self.p.skew = skew;
            self.zipf = zipf(self.active_ranks(), skew);
        }
    }

    fn active_ranks(&self) -> usize {
        (((1.0 - self.p.dormant_share) * self.slots.len() as f64).ceil() as usize).max(1)
    }

    /// Draws an object size from the configured log-normal distribution.
    pub fn draw_size(&mut self) -> u64 {
        let s = self.sizes.sample(&mut self.rng);
        (s as u64).clamp(512, self.p.size_max_bytes)
    }

    /// Creates the initial population: `n` objects whose sizes total at most `total_bytes`,
    /// created at times spread over the month before `now_ms`.
    pub fn seed_objects(&mut self, n: usize, total_bytes: u64, now_ms: Millis) -> Vec<GenObject> {
        let n = n.min(self.slots.len());
        let mut sizes: Vec<u64> = (0..n).map(|_| self.draw_size()).collect();
        let sum: u64 = sizes.iter().sum();
        if sum > total_bytes && sum > 0 {
            let scale = total_bytes as f64 / sum as f64;
            for s in &mut sizes {
                *s = ((*s as f64 * scale) as u64).max(1);
            }
        }
        let mut created: Vec<Millis> = (0..n)
            .map(|_| now_ms - (self.rng.random::<f64>() * SEED_AGE_DAYS * DAY_MS as f64) as Millis)
            .collect();
        created.sort_unstable();
        let objs: Vec<GenObject> = sizes
            .into_iter()
            .zip(created)
            .map(|(size, created_ms)| {
                self.next_id += 1;
                GenObject {
                    key: key_for(self.next_id, size),
                    size,
                    created_ms,
                }
            })
            .collect();
        self.adopt(objs.clone());
        objs
    }

    /// Takes over existing objects (after a restart), oldest first.
    pub fn adopt(&mut self, mut objs: Vec<GenObject>) {
        objs.sort_by_key(|o| o.created_ms);
        for o in objs {
            if let Some(id) = id_of_key(&o.key) {
                self.next_id = self.next_id.max(id);
            }
            let Some(slot) = self.free.pop() else { break };
            self.by_age.push_back((o.created_ms, slot));
            self.slots[slot] = Some(o);
        }
    }

    /// Events per wall second right now: the configured rate with the diurnal swing.
    pub fn rate_at(&self, now_ms: Millis) -> f64 {
        let hour = (now_ms.rem_euclid(DAY_MS)) as f64 / HOUR_MS as f64;
        // Peak mid-afternoon, trough in the small hours; averages to `rate` over a day.
        let swing = (std::f64::consts::TAU * (hour - 9.0) / 24.0).sin();
        self.p.rate * (1.0 + self.p.diurnal_amplitude * swing)
    }

    /// A burst of `n` new objects written now (a bulk upload): PUTs that create them.
    pub fn put_burst(&mut self, now_ms: Millis, n: usize, out: &mut Vec<Generated>) {
        for _ in 0..n {
            self.create(now_ms, out);
        }
    }

    /// One more write to `key` that grows it by `by` bytes (a log or a backup still being
    /// written); None when the generator does not know the key.
    pub fn grow(&mut self, now_ms: Millis, key: &str, by: u64) -> Option<Generated> {
        let max = self.p.size_max_bytes;
        let o = self.slots.iter_mut().flatten().find(|o| o.key == key)?;
        o.size = (o.size + by).min(max);
        let (key, size) = (o.key.clone(), o.size);
        Some(Generated {
            event: Self::event(now_ms, &key, Op::Put, Some(size)),
            effect: Some(Effect::Overwrite { key, size }),
        })
    }

    fn event(ts: Millis, key: &str, op: Op, size: Option<u64>) -> AccessEvent {
        AccessEvent {
            ts,
            key: key.to_string(),
            op,
            size,
            client: None,
        }
    }

    /// Retires the oldest object to make room.
    fn retire_oldest(&mut self, now_ms: Millis, out: &mut Vec<Generated>) {
        if let Some((_, slot)) = self.by_age.pop_front()
            && let Some(o) = self.slots[slot].take()
        {
            self.free.push(slot);
            out.push(Generated {
                event: Self::event(now_ms, &o.key, Op::Delete, None),
                effect: Some(Effect::Delete { key: o.key }),
            });
        }
    }

    fn create(&mut self, now_ms: Millis, out: &mut Vec<Generated>) {
        if self.p.object_store_share > 0.0 && self.rng.random::<f64>() < self.p.object_store_share {
            return self.create_upload(now_ms, out);
        }
        if self.free.is_empty() {
            self.retire_oldest(now_ms, out);
        }
        let size = self.draw_size();
        let Some(slot) = self.free.pop() else { return };
        self.next_id += 1;
        let key = key_for(self.next_id, size);
        self.slots[slot] = Some(GenObject {
            key: key.clone(),
            size,
            created_ms: now_ms,
        });
        self.by_age.push_back((now_ms, slot));
        out.push(Generated {
            event: Self::event(now_ms, &key, Op::Put, Some(size)),
            effect: Some(Effect::Create { key, size }),
        });
    }

    /// Generates the next access (and any object it creates or retires) at engine time `now_ms`.
    pub fn next(&mut self, now_ms: Millis, out: &mut Vec<Generated>) {
        if self.take_due(now_ms, out) {
            return;
        }
        self.maybe_start_flash(now_ms);
        let u = self.rng.random::<f64>();
        if u < self.p.put_fraction {
            if self.by_age.is_empty() || self.rng.random::<f64>() < self.p.new_object_fraction {
                self.create(now_ms, out);
                return;
            }
            let Some(slot) = self.pick(now_ms) else {
                return;
            };
            let grow = self.rng.random_range(0.9..1.2);
            let max = self.p.size_max_bytes;
            let Some(o) = self.slots[slot].as_mut() else {
                return;
            };
            o.size = ((o.size as f64 * grow) as u64).clamp(1, max);
            let (key, size) = (o.key.clone(), o.size);
            out.push(Generated {
                event: Self::event(now_ms, &key, Op::Put, Some(size)),
                effect: Some(Effect::Overwrite { key, size }),
            });
            return;
        }
        let op = if u < self.p.put_fraction + self.p.head_fraction {
            Op::Head
        } else {
            Op::Get
        };
        let Some(slot) = self.pick(now_ms) else {
            return;
        };
        if let Some(o) = &self.slots[slot] {
            let size = (op == Op::Get).then_some(o.size);
            out.push(Generated {
                event: Self::event(now_ms, &o.key, op, size),
                effect: None,
            });
        }
    }
}

fn zipf(n: usize, skew: f64) -> Zipf<f64> {
    Zipf::new(n.max(1) as f64, skew)
        .or_else(|_| Zipf::new(n.max(1) as f64, 1.0))
        .unwrap_or_else(|_| unreachable_zipf())
}

// Zipf::new(n >= 1, s = 1.0) cannot fail; this keeps the types simple without an unwrap.
fn unreachable_zipf() -> Zipf<f64> {
    match Zipf::new(1.0, 1.0) {
        Ok(z) => z,
        Err(_) => unreachable!("Zipf(1, 1) is valid"),
    }
}

fn lognormal(p: &EmbeddedConfig) -> LogNormal<f64> {
    let mu = (p.size_median_bytes.max(1) as f64).ln();
    LogNormal::new(mu, p.size_sigma)
        .or_else(|_| LogNormal::new(mu, 1.0))
        .unwrap_or_else(|_| match LogNormal::new(10.0, 1.0) {
            Ok(d) => d,
            Err(_) => unreachable!("LogNormal(10, 1) is valid"),
        })
}
