//! `dim bench …`: measurements of the real code paths on this machine.

pub mod cluster;
mod consumer;
pub mod ingest;
pub mod kafka;
pub mod migrate;
pub mod model;
pub mod optimize;
pub mod replay;
pub mod scale;
mod scale_training;
pub mod tui;

/// Peak resident set size of this process so far, MiB (Linux `VmHWM`).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The median of `v` (the mean of the middle two when their number is even); NaN when empty.
pub(crate) fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `work` while `train` runs back to back on a training thread (lower priority, as the
/// brain's): what `work` returned and how many trainings `train` counted (returned true).
pub(crate) fn beside_trainings<R>(
    train: impl Fn() -> bool + Send + 'static,
    work: impl FnOnce() -> R,
) -> anyhow::Result<(R, usize)> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let trainer = {
        let stop = stop.clone();
        crate::engine::model::training::spawn_named("dim-bench-train", move || {
            let mut done = 0;
            while !stop.load(Ordering::Relaxed) {
                done += usize::from(train());
            }
            done
        })
        .map_err(|e| anyhow::anyhow!("starting the training thread: {e}"))?
    };
    let r = work();
    stop.store(true, Ordering::Relaxed);
    let trainings = trainer
        .join()
        .map_err(|_| anyhow::anyhow!("the training thread panicked"))?;
    Ok((r, trainings))
}

/// Prints a bench result: pretty JSON with `--json`, else the human lines `human` makes.
pub fn report<T: serde::Serialize>(r: &T, as_json: bool, human: impl FnOnce(&T) -> String) -> anyhow::Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else {
        println!("{}", human(r));
    }
    Ok(())
}

/// Registers `records` in `store` as one ingest batch from the source "bench", as seeding or an
/// inventory would (what a benchmark sets up before it measures).
pub fn register(
    store: &crate::engine::store::Store,
    records: Vec<crate::engine::ingest::ObjectRecord>,
    now: crate::engine::clock::Millis,
    rejected_keep: u32,
) -> anyhow::Result<()> {
    use crate::engine::ingest::{Item, Pending, SourceBatch, apply};
    let mut p = Pending::default();
    p.add(SourceBatch {
        source: "bench".into(),
        items: records.into_iter().map(Item::Register).collect(),
        offsets: vec![],
        caught_up: false,
        generation: 0,
    });
    apply(&mut store.writer(), &p, now, rejected_keep)?;
    Ok(())
}
