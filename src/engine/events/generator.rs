//! A seedable generator of realistic object access: Zipf popularity, ageing, office hours, flash crowds, PUT churn.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal, Zipf};

use super::{AccessEvent, Op};
use crate::config::EmbeddedConfig;
use crate::engine::clock::Millis;

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
    pub fn listed(key: String, meta: &crate::engine::tiers::ObjectMeta) -> Self {
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

    /// Starts a flash crowd on `objects` cold objects (they share the crowd's attention); returns their keys.
    pub fn flash_crowd(&mut self, now_ms: Millis, objects: usize) -> Vec<String> {
        let slots = self.cold_slots(objects.max(1));
        if slots.is_empty() {
            return Vec::new();
        }
        let keys = slots
            .iter()
            .filter_map(|s| self.slots[*s].as_ref().map(|o| o.key.clone()))
            .collect();
        self.flash = Some(Flash {
            slots,
            until_ms: now_ms + (self.p.flash_duration_secs * 1000.0) as Millis,
        });
        keys
    }

    /// Up to `n` distinct occupied slots from the unpopular half of the ranking.
    fn cold_slots(&mut self, n: usize) -> Vec<usize> {
        let len = self.slots.len();
        let mut out: Vec<usize> = Vec::with_capacity(n);
        for _ in 0..(64 * n) {
            if out.len() >= n {
                break;
            }
            let r = self.rng.random_range(len / 2..len);
            let slot = self.perm[r];
            if self.occupied(slot) && !out.contains(&slot) {
                out.push(slot);
            }
        }
        out
    }

    /// Keys of up to `n` cold objects (nobody is reading them).
    pub fn cold_keys(&mut self, n: usize) -> Vec<String> {
        self.cold_slots(n)
            .into_iter()
            .filter_map(|s| self.slots[s].as_ref().map(|o| o.key.clone()))
            .collect()
    }

    /// The key currently under a flash crowd (the first, when it spans several), if any.
    pub fn flash_key(&self) -> Option<&str> {
        self.flash
            .as_ref()
            .and_then(|f| f.slots.first())
            .and_then(|s| self.slots[*s].as_ref())
            .map(|o| o.key.as_str())
    }

    /// How many objects the current flash crowd spans.
    pub fn flash_objects(&self) -> usize {
        self.flash.as_ref().map_or(0, |f| f.slots.len())
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

    fn occupied(&self, slot: usize) -> bool {
        self.slots[slot].is_some()
    }

    fn pick_zipf(&mut self) -> Option<usize> {
        for _ in 0..16 {
            let r = self.zipf.sample(&mut self.rng) as usize;

            let slot = self.perm[r.saturating_sub(1).min(self.perm.len() - 1)];
            if self.occupied(slot) {
                return Some(slot);
            }
        }
        None
    }

    fn pick_recent(&mut self, now_ms: Millis) -> Option<usize> {
        let tau_ms = self.p.recent_tau_secs * 1000.0;
        let age = Exp::new(1.0 / tau_ms).ok()?.sample(&mut self.rng) as Millis;
        let target = now_ms - age;
        let i = self.by_age.partition_point(|(c, _)| *c < target);
        if i >= self.by_age.len() {
            return self.by_age.back().map(|x| x.1);
        }
        // Older than everything we hold: interest in ancient data is the Zipf part's job.
        if i == 0 && self.by_age.front().is_some_and(|(c, _)| *c > target) {
            return None;
        }
        Some(self.by_age[i].1)
    }

    fn pick_office(&mut self) -> Option<usize> {
        let n = self.slots.len();
        for _ in 0..16 {
            let slot = (self.rng.random_range(0..n.div_ceil(10)) * 10 + 3).min(n - 1);
            if self.occupied(slot) {
                return Some(slot);
            }
        }
        None
    }

    fn in_office_hours(now_ms: Millis) -> bool {
        let hour = now_ms.rem_euclid(DAY_MS) / HOUR_MS;
        (8..18).contains(&hour)
    }

    /// Picks the object of the next access.
    fn pick(&mut self, now_ms: Millis) -> Option<usize> {
        if let Some(f) = &self.flash {
            let live: Vec<usize> = f.slots.iter().copied().filter(|s| self.occupied(*s)).collect();
            if now_ms >= f.until_ms || live.is_empty() {
                self.flash = None;
            } else if self.rng.random::<f64>() < self.p.flash_share {
                return Some(live[self.rng.random_range(0..live.len())]);
            }
        }
        let u = self.rng.random::<f64>();
        let picked = if u < self.p.recent_share {
            self.pick_recent(now_ms)
        } else if Self::in_office_hours(now_ms) && u < self.p.recent_share + self.p.office_share {
            self.pick_office()
        } else {
            None
        };
        picked
            .or_else(|| self.pick_zipf())
            .or_else(|| self.by_age.back().map(|x| x.1))
    }

    fn maybe_start_flash(&mut self, now_ms: Millis) {
        if self.next_flash_ms == 0 {
            self.next_flash_ms = now_ms + self.flash_gap();
        }
        if now_ms >= self.next_flash_ms {
            self.next_flash_ms = now_ms + self.flash_gap();
            if self.flash.is_none()
                && let Some(key) = self.flash_crowd(now_ms, 1).pop()
            {
                tracing::info!(target: "dim::workload", key = %key, "flash crowd starts");
            }
        }
    }

    fn flash_gap(&mut self) -> Millis {
        let mean_ms = self.p.flash_every_secs * 1000.0;
        Exp::new(1.0 / mean_ms)
            .map(|d| d.sample(&mut self.rng) as Millis)
            .unwrap_or(mean_ms as Millis)
            .max(1)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::collections::HashMap;

    fn params() -> EmbeddedConfig {
        Config::embedded_default().unwrap().events.embedded
    }

    const T0: Millis = 1_800_000_000_000;

    #[test]
    fn seeding_respects_count_and_budget() {
        let mut w = Workload::new(&params());
        let objs = w.seed_objects(2000, 200_000_000, T0);
        assert_eq!(objs.len(), 2000);
        assert!(objs.iter().map(|o| o.size).sum::<u64>() <= 200_000_000);
        assert!(objs.iter().all(|o| o.created_ms <= T0 && o.size >= 1));
        let distinct: std::collections::HashSet<_> = objs.iter().map(|o| &o.key).collect();
        assert_eq!(distinct.len(), 2000);
    }

    #[test]
    fn same_seed_same_workload() {
        let run = || {
            let mut w = Workload::new(&params());
            w.seed_objects(500, 10_000_000, T0);
            let mut out = Vec::new();
            for i in 0..2000 {
                w.next(T0 + i * 100, &mut out);
            }
            out
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn popularity_is_skewed() {
        let mut p = params();
        p.max_objects = 600;
        p.put_fraction = 0.0;
        let mut w = Workload::new(&p);
        w.seed_objects(600, 10_000_000, T0);
        let mut out = Vec::new();
        for i in 0..50_000 {
            w.next(T0 + i * 1000, &mut out);
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for g in &out {
            *counts.entry(g.event.key.as_str()).or_default() += 1;
        }
        let mut v: Vec<usize> = counts.values().copied().collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        let top10: usize = v.iter().take(10).sum();
        // Zipf(1.1) over 600 slots gives the top 10 ranks ~45 % of the Zipf-chosen accesses, which
        // are ~70 % of all here; uniform access would give them 10/600 = 1.7 %.
        assert!(top10 as f64 > 0.2 * out.len() as f64, "top10 {top10} of {}", out.len());
    }

    #[test]
    fn churn_keeps_the_population_bounded() {
        let mut p = params();
        p.max_objects = 600;
        p.put_fraction = 0.2;
        p.new_object_fraction = 0.5;
        let mut w = Workload::new(&p);
        w.seed_objects(500, 10_000_000, T0);
        let mut out = Vec::new();
        for i in 0..50_000 {
            w.next(T0 + i * 1000, &mut out);
        }
        assert_eq!(w.len(), 600);
        let creates = out
            .iter()
            .filter(|g| matches!(g.effect, Some(Effect::Create { .. })))
            .count();
        let deletes = out
            .iter()
            .filter(|g| matches!(g.effect, Some(Effect::Delete { .. })))
            .count();
        assert_eq!(500 + creates - deletes, 600);
        assert!(out.iter().any(|g| matches!(g.effect, Some(Effect::Overwrite { .. }))));
        // Every DELETE retires the oldest object: deleted keys are never accessed again.
        let mut deleted = std::collections::HashSet::new();
        for g in &out {
            if g.event.op == Op::Delete {
                deleted.insert(g.event.key.clone());
            } else {
                assert!(!deleted.contains(&g.event.key), "{} accessed after delete", g.event.key);
            }
        }
    }

    #[test]
    fn new_objects_are_hot_then_cool() {
        let mut p = params();
        p.put_fraction = 0.0;
        p.recent_share = 0.5;
        p.office_share = 0.0;
        p.flash_share = 0.0;
        let mut w = Workload::new(&p);
        w.seed_objects(1000, 10_000_000, T0);
        // The newest seeded object is far more popular than the median-aged one on average.
        let mut out = Vec::new();
        for i in 0..100_000 {
            w.next(T0 + i, &mut out);
        }
        let newest = w.by_age.back().map(|x| x.1).unwrap();
        let newest_key = w.slots[newest].as_ref().unwrap().key.clone();
        let hits = out.iter().filter(|g| g.event.key == newest_key).count();
        assert!(hits > 100, "newest object got {hits} of 100000 accesses");
    }

    #[test]
    fn flash_crowd_targets_a_cold_object() {
        let mut p = params();
        p.flash_share = 0.5;
        let mut w = Workload::new(&p);
        w.seed_objects(1000, 10_000_000, T0);
        let key = w.flash_crowd(T0, 1).pop().unwrap();
        let mut out = Vec::new();
        for i in 0..1000 {
            w.next(T0 + i, &mut out);
        }
        let hits = out.iter().filter(|g| g.event.key == key).count();
        assert!(hits > 400, "flash target got {hits}");
    }

    #[test]
    fn a_flash_crowd_on_several_objects_shares_the_attention() {
        let mut p = params();
        p.flash_share = 0.6;
        let mut w = Workload::new(&p);
        w.seed_objects(1000, 10_000_000, T0);
        let keys = w.flash_crowd(T0, 3);
        assert_eq!(keys.len(), 3);
        assert_eq!(w.flash_objects(), 3);
        let mut out = Vec::new();
        for i in 0..3000 {
            w.next(T0 + i, &mut out);
        }
        for k in &keys {
            let hits = out.iter().filter(|g| &g.event.key == k).count();
            assert!(hits > 400, "{k} got {hits} of ~600 expected");
        }
    }

    #[test]
    fn bursts_create_objects_and_growth_grows_one() {
        let mut w = Workload::new(&params());
        w.seed_objects(100, 10_000_000, T0);
        let before = w.len();
        let mut out = Vec::new();
        w.put_burst(T0, 20, &mut out);
        assert_eq!(w.len(), before + 20);
        assert_eq!(
            out.iter()
                .filter(|g| matches!(g.effect, Some(Effect::Create { .. })))
                .count(),
            20
        );
        let key = w.cold_keys(1).pop().unwrap();
        let a = w.grow(T0, &key, 1000).unwrap();
        let b = w.grow(T0, &key, 1000).unwrap();
        assert_eq!(b.event.size.unwrap(), a.event.size.unwrap() + 1000);
        assert!(matches!(b.effect, Some(Effect::Overwrite { .. })));
        assert!(w.grow(T0, "no/such.key", 10).is_none());
    }

    #[test]
    fn diurnal_rate_swings() {
        let w = Workload::new(&params());
        let day = T0 - T0.rem_euclid(DAY_MS);
        let afternoon = w.rate_at(day + 15 * HOUR_MS);
        let night = w.rate_at(day + 3 * HOUR_MS);
        assert!(afternoon > 1.4 * night);
    }

    #[test]
    fn key_ids_roundtrip() {
        assert_eq!(id_of_key(&key_for(42, 100)), Some(42));
        assert_eq!(id_of_key(&key_for(1234567, 10_000_000)), Some(1234567));
    }
}
