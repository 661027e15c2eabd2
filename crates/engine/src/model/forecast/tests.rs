//! The learner on synthetic histories whose decay is known.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;

const H: Millis = 3_600_000;

/// An object's reads (sorted times) and when it was written.
struct Life {
    born: Millis,
    reads: Vec<Millis>,
}

impl Life {
    fn row(&self, t: Millis) -> StatsRow {
        let done: Vec<Millis> = self.reads.iter().copied().filter(|r| *r <= t).collect();
        StatsRow {
            size: 1_000_000,
            first_seen: Some(self.born),
            last_access: Some(done.last().copied().unwrap_or(self.born)),
            reads: done.len() as u64,
            writes: 1,
            ..StatsRow::default()
        }
    }

    fn reads_in(&self, from: Millis, to: Millis) -> u32 {
        self.reads.iter().filter(|r| **r > from && **r <= to).count() as u32
    }
}

/// The sample of object `object` at `t` (its row, in `state`) and what followed it by `now`.
fn observed(
    state: State,
    row: StatsRow,
    t: Millis,
    now: Millis,
    object: u64,
    reads_in: impl Fn(Millis, Millis) -> u32,
) -> Observed {
    Observed {
        outcome: outcome(state, t, now, reads_in),
        row,
        ts: t,
        object,
    }
}

/// Half the objects are read once within their first hour and never again; the other half
/// are read every week. Objects are born over `days`; each is sampled at random times.
fn population(days: i64, now: Millis, rng: &mut StdRng) -> (Vec<Life>, Vec<Observed>) {
    let mut lives = Vec::new();
    for i in 0..2000 {
        let born = rng.random_range(0..days * 24 * H);
        let reads = if i % 2 == 0 {
            vec![born + rng.random_range(1..H)]
        } else {
            (1..)
                .map(|w| born + w * 168 * H)
                .take_while(|t| *t <= now + 400 * 24 * H)
                .collect()
        };
        lives.push(Life { born, reads });
    }
    let mut obs = Vec::new();
    for _ in 0..40_000 {
        let i = rng.random_range(0..lives.len());
        let l = &lives[i];
        if l.born >= now {
            continue;
        }
        let t = rng.random_range(l.born..now);
        let row = l.row(t);
        obs.push(observed(State::of(&row, t), row, t, now, i as u64, |a, b| {
            l.reads_in(a, b)
        }));
    }
    (lives, obs)
}

#[test]
fn recovers_read_once_then_never_against_read_weekly_and_is_calibrated() {
    let mut rng = StdRng::seed_from_u64(3);
    let now = 120 * 24 * H;
    let (lives, obs) = population(110, now, &mut rng);
    let flat = |_: &StatsRow, _: Millis, _: f64| 0.5;
    let (learner, info) = fit(&obs, &flat);
    let learner = learner.expect("the learned forecast beats a flat prior");
    assert_eq!(info.serving, "learned", "{info:?}");
    // A read-once object two days after its read: never read again.
    let once = &lives[0];
    let t = once.reads[0] + 48 * H;
    let s = State::of(&once.row(t), t);
    for hours in [24.0, 720.0, 8760.0] {
        assert!(
            learner.p_any(&s, hours) < 0.05,
            "read-once at {hours} h: {}",
            learner.p_any(&s, hours)
        );
    }
    // A weekly object three days after a read: read within the week, surely within the year.
    let weekly = &lives[1];
    let t = weekly.reads[3] + 72 * H;
    let s = State::of(&weekly.row(t), t);
    assert!(learner.p_any(&s, 168.0) > 0.9, "{}", learner.p_any(&s, 168.0));
    assert!(learner.p_any(&s, 8760.0) > 0.95);
    assert!(
        learner.p_any(&s, 24.0) < 0.5,
        "weekly, read 3 days ago: not within a day"
    );
    // Calibration within 0.1 in every band holding 50+ held-out samples, at every horizon measured.
    assert!(!info.horizons.is_empty());
    for h in &info.horizons {
        for b in h.learned.bands.iter().filter(|b| b.samples >= 50) {
            assert!(
                (b.predicted - b.observed).abs() < 0.1,
                "{} h: predicted {:.3}, observed {:.3} in {} samples",
                h.hours,
                b.predicted,
                b.observed,
                b.samples
            );
        }
    }
    assert!(info.brier_learned.unwrap() < 0.05, "{info:?}");
}

/// Every object is read exactly ten days after each sample point and the present cuts the
/// newest samples short: those must not count as "never read".
#[test]
fn censored_samples_are_not_counted_as_never_read() {
    let now = 200 * 24 * H;
    let mut obs = Vec::new();
    for i in 0..3000u64 {
        let t = now - (i as Millis % 180) * 24 * H - 1;
        let row = StatsRow {
            first_seen: Some(t - 24 * H),
            last_access: Some(t - 24 * H),
            reads: 2,
            ..StatsRow::default()
        };
        let read_at = t + 240 * H;
        obs.push(observed(State::of(&row, t), row, t, now, i, |a, b| {
            u32::from(read_at > a && read_at <= b)
        }));
    }
    let learner = Learner::fit(obs.iter().map(|o| &o.outcome)).unwrap();
    let s = obs[0].outcome.state;
    // Within 30 days: always (only samples 30+ days old are counted there); within a week: never.
    assert!(learner.p_any(&s, 720.0) > 0.97, "{}", learner.p_any(&s, 720.0));
    assert!(learner.p_any(&s, 168.0) < 0.03, "{}", learner.p_any(&s, 168.0));
    // The samples of the last 30 days know nothing of 30 days yet.
    assert!(
        obs.iter()
            .filter(|o| o.ts > now - 720 * H)
            .all(|o| o.outcome.reads[4].is_none())
    );
}

/// With history of a week only, a year is chained through ever idler states.
#[test]
fn long_horizons_are_chained_from_short_history() {
    let mut rng = StdRng::seed_from_u64(5);
    let now = 9 * 24 * H;
    let (lives, obs) = population(8, now, &mut rng);
    let learner = Learner::fit(obs.iter().map(|o| &o.outcome)).unwrap();
    assert!(learner.longest_h() <= 168.0);
    let once = &lives[0];
    let t = once.reads[0] + 30 * H;
    let s = State::of(&once.row(t), t);
    assert!(learner.p_any(&s, 8760.0) < 0.1, "{}", learner.p_any(&s, 8760.0));
}

/// Two applications write objects that look the same (one read, the same age, the same size):
/// `logs/*.gz` are never read again, `reports/*.pdf` a week after their first read. Only the
/// siblings tell them apart, and the learner does.
#[test]
fn siblings_tell_apart_objects_that_look_the_same() {
    let mut rng = StdRng::seed_from_u64(7);
    let now = 120 * 24 * H;
    let mut obs = Vec::new();
    for i in 0..4000u64 {
        let (key, again) = if i % 2 == 0 {
            ("logs/2026/app.gz", None)
        } else {
            ("reports/q3.pdf", Some(168 * H))
        };
        let born = rng.random_range(0..100 * 24 * H);
        let first = born + H;
        let t = first + rng.random_range(1..72) * H;
        let life = Life {
            born,
            reads: [Some(first), again.map(|a| first + a)].into_iter().flatten().collect(),
        };
        let row = life.row(t);
        obs.push(observed(State::of(&row, t).with_key(key), row, t, now, i, |a, b| {
            life.reads_in(a, b)
        }));
    }
    let learner = Learner::fit(obs.iter().map(|o| &o.outcome)).unwrap();
    let row = Life {
        born: 0,
        reads: vec![H],
    }
    .row(25 * H);
    let logs = State::of(&row, 25 * H).with_key("logs/2027/other.gz");
    let reports = State::of(&row, 25 * H).with_key("reports/q4.pdf");
    assert!(learner.p_any(&logs, 720.0) < 0.05, "{}", learner.p_any(&logs, 720.0));
    assert!(
        learner.p_any(&reports, 720.0) > 0.95,
        "{}",
        learner.p_any(&reports, 720.0)
    );
}
