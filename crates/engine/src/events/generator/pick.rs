//! Who gets read: Zipf popularity, recent objects, office hours and flash crowds on cold objects.

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use super::{DAY_MS, Flash, HOUR_MS, Workload};
use crate::clock::Millis;

impl Workload {
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
    pub(super) fn cold_slots(&mut self, n: usize) -> Vec<usize> {
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

    pub(super) fn occupied(&self, slot: usize) -> bool {
        self.slots[slot].is_some()
    }

    pub(super) fn pick_zipf(&mut self) -> Option<usize> {
        for _ in 0..16 {
            let r = self.zipf.sample(&mut self.rng) as usize;

            let slot = self.perm[r.saturating_sub(1).min(self.perm.len() - 1)];
            if self.occupied(slot) {
                return Some(slot);
            }
        }
        None
    }

    pub(super) fn pick_recent(&mut self, now_ms: Millis) -> Option<usize> {
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

    pub(super) fn pick_office(&mut self) -> Option<usize> {
        let n = self.slots.len();
        for _ in 0..16 {
            let slot = (self.rng.random_range(0..n.div_ceil(10)) * 10 + 3).min(n - 1);
            if self.occupied(slot) {
                return Some(slot);
            }
        }
        None
    }

    pub(super) fn in_office_hours(now_ms: Millis) -> bool {
        let hour = now_ms.rem_euclid(DAY_MS) / HOUR_MS;
        (8..18).contains(&hour)
    }

    /// Picks the object of the next access.
    pub(super) fn pick(&mut self, now_ms: Millis) -> Option<usize> {
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

    pub(super) fn maybe_start_flash(&mut self, now_ms: Millis) {
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

    pub(super) fn flash_gap(&mut self) -> Millis {
        let mean_ms = self.p.flash_every_secs * 1000.0;
        Exp::new(1.0 / mean_ms)
            .map(|d| d.sample(&mut self.rng) as Millis)
            .unwrap_or(mean_ms as Millis)
            .max(1)
    }
}
