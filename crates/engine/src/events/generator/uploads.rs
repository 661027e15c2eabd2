//! The object-store population: objects written once, read a few times within their first hours,
//! then never again; larger than the popular ones; a third deleted after weeks. Not in the
//! popularity ranking, so nothing reads them after their first hours.

use std::cmp::Reverse;

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use super::due::Due;
use super::{Effect, Generated, HOUR_MS, Workload};
use crate::clock::Millis;
use crate::events::Op;

/// Reads of a new upload come within this mean time of its write (exponential).
const READ_WITHIN_MS: f64 = 2.0 * HOUR_MS as f64;
/// A deleted upload lives this long on average (exponential).
const LIFE_MS: f64 = 30.0 * 24.0 * HOUR_MS as f64;
/// Share of uploads that are deleted.
const DELETED_SHARE: f64 = 1.0 / 3.0;
/// Uploads are this many times larger than the popular objects' median.
const SIZE_FACTOR: f64 = 16.0;
/// Most reads one upload gets.
const MAX_READS: u32 = 4;

fn prefix(id: u64) -> &'static str {
    ["uploads", "logs", "builds"][(id % 3) as usize]
}

impl Workload {
    /// Writes a new upload now and schedules what follows: 1 to 4 reads within its first hours
    /// (each read again with probability ½), and for a third of them a delete after weeks.
    pub(super) fn create_upload(&mut self, now_ms: Millis, out: &mut Vec<Generated>) {
        self.next_id += 1;
        let id = self.next_id;
        let size = ((self.draw_size() as f64 * SIZE_FACTOR) as u64).min(self.p.size_max_bytes);
        let key = format!("{}/{id:07}.bin", prefix(id));
        out.push(Generated {
            event: Self::event(now_ms, &key, Op::Put, Some(size)),
            effect: Some(Effect::Create { key: key.clone(), size }),
        });
        let after_write = Exp::new(1.0 / READ_WITHIN_MS).ok();
        let mut n = 1;
        while n < MAX_READS && self.rng.random_bool(0.5) {
            n += 1;
        }
        for _ in 0..n {
            let after = after_write
                .map_or(HOUR_MS, |d| d.sample(&mut self.rng) as Millis)
                .max(1);
            self.schedule(now_ms + after, &key, Op::Get, size);
        }
        if self.rng.random_bool(DELETED_SHARE) {
            let after = Exp::new(1.0 / LIFE_MS)
                .map_or(LIFE_MS as Millis, |d| d.sample(&mut self.rng) as Millis)
                // After its reads, so a deleted upload was read like the others.
                .max(24 * HOUR_MS);
            self.schedule(now_ms + after, &key, Op::Delete, size);
        }
    }

    fn schedule(&mut self, at: Millis, key: &str, op: Op, size: u64) {
        self.due_seq += 1;
        self.due.push(Reverse(Due {
            at,
            seq: self.due_seq,
            key: key.to_string(),
            op,
            size,
        }));
    }

    /// The next scheduled upload access due by `now_ms`, if any.
    pub(super) fn take_due(&mut self, now_ms: Millis, out: &mut Vec<Generated>) -> bool {
        if self.due.peek().is_none_or(|d| d.0.at > now_ms) {
            return false;
        }
        let Some(Reverse(d)) = self.due.pop() else {
            return false;
        };
        let effect = (d.op == Op::Delete).then(|| Effect::Delete { key: d.key.clone() });
        let size = (d.op == Op::Get).then_some(d.size);
        out.push(Generated {
            event: Self::event(now_ms, &d.key, d.op, size),
            effect,
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::collections::HashMap;

    /// Every upload is written, read 1 to 4 times within a day of its write and never after;
    /// about a third are deleted, none before a day.
    #[test]
    fn uploads_are_read_in_their_first_hours_then_never() {
        let mut p = Config::embedded_default().unwrap().events.embedded;
        p.object_store_share = 1.0;
        p.new_object_fraction = 1.0;
        p.put_fraction = 0.05;
        let mut w = Workload::new(&p);
        w.seed_objects(200, 10_000_000, 0);
        let mut out = Vec::new();
        let day = 24 * HOUR_MS;
        for i in 0..200_000 {
            w.next(i * 60_000, &mut out);
        }
        let mut written: HashMap<String, Millis> = HashMap::new();
        let (mut reads, mut deletes) = (HashMap::<String, u32>::new(), 0usize);
        for g in &out {
            let e = &g.event;
            if !e.key.starts_with("uploads/") && !e.key.starts_with("logs/") && !e.key.starts_with("builds/") {
                continue;
            }
            match e.op {
                Op::Put => {
                    written.insert(e.key.clone(), e.ts);
                }
                Op::Get => {
                    let at = written[&e.key];
                    assert!(
                        e.ts - at <= day,
                        "{} read {} h after its write",
                        e.key,
                        (e.ts - at) / HOUR_MS
                    );
                    *reads.entry(e.key.clone()).or_default() += 1;
                }
                Op::Delete => {
                    assert!(e.ts - written[&e.key] >= day);
                    deletes += 1;
                }
                Op::Head => {}
            }
        }
        assert!(written.len() > 1000, "{} uploads", written.len());
        assert!(reads.values().all(|n| (1..=MAX_READS).contains(n)));
        let share = deletes as f64 / written.len() as f64;
        assert!((0.15..0.4).contains(&share), "{share} deleted (the rest not yet due)");
    }
}
