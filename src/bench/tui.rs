//! `dim bench tui`: with N objects in the store, how long the engine takes to build a snapshot and
//! the dashboard takes to render a frame of it (p50/p99), through the real code on both sides.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde::Serialize;

use crate::config::Config;
use crate::engine::Engine;
use crate::engine::clock::wall_now_ms;
use crate::engine::command::Command;
use crate::engine::events::{AccessEvent, Op};
use crate::engine::ingest::{Item, ObjectRecord, Pending, SourceBatch, apply};
use crate::engine::migrate::task::{self, TaskState};
use crate::engine::snapshot::Snapshot;
use crate::engine::store::Store;
use crate::tui::app::App;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;
use crate::tui::view;

#[derive(Debug, Serialize)]
pub struct TuiBench {
    pub objects: usize,
    pub snapshots: usize,
    pub snapshot_ms_p50: f64,
    pub snapshot_ms_p99: f64,
    pub frames: usize,
    pub frame_ms_p50: f64,
    pub frame_ms_p99: f64,
    pub width: u16,
    pub height: u16,
    pub peak_rss_mib: Option<f64>,
    /// With --attached: snapshots the attached client received over the control socket while
    /// the builds above were timed, their size, and its time to read each (p99).
    pub attached: bool,
    pub streamed: usize,
    pub streamed_bytes_p50: f64,
    pub stream_parse_ms_p99: f64,
}

/// What the attached client saw: each snapshot's size and time to parse, and the last one.
#[derive(Default)]
struct Received {
    bytes: Vec<f64>,
    parse_ms: Vec<f64>,
    last: Option<crate::engine::snapshot::Snapshot>,
}

pub(super) fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

/// Registers `n` objects, gives a tenth of them accesses and queues some tasks, as a busy store has.
fn populate(store: &Store, cfg: &Config, n: usize) -> anyhow::Result<()> {
    let now = wall_now_ms();
    let tiers: Vec<String> = cfg.tiers.iter().map(|t| t.name.clone()).collect();
    let mut rng = StdRng::seed_from_u64(5);
    let key = |i: usize| format!("bench/{:02}/{i:08}.dat", i % 97);
    for start in (0..n).step_by(50_000) {
        let mut p = Pending::default();
        p.add(SourceBatch {
            source: "bench".into(),
            items: (start..(start + 50_000).min(n))
                .map(|i| {
                    Item::Register(ObjectRecord {
                        key: key(i),
                        tier: tiers[i % tiers.len()].clone(),
                        size: 1024 + (i as u64 * 7919) % (64 << 20),
                        etag: None,
                        last_modified: now - 86_400_000,
                        created: now - 86_400_000,
                    })
                })
                .collect(),
            offsets: vec![],
            caught_up: false,
            generation: 0,
        });
        apply(&mut store.writer(), &p, now, cfg.events.rejected_keep)?;
    }
    for round in 0..10 {
        let mut p = Pending::default();
        p.add(SourceBatch {
            source: "bench".into(),
            items: (0..50_000)
                .map(|_| {
                    Item::Event(AccessEvent {
                        ts: now - 3_600_000 + round * 60_000,
                        key: key(rng.random_range(0..n.max(1) / 10 + 1).min(n.saturating_sub(1))),
                        op: Op::Get,
                        size: None,
                        client: None,
                    })
                })
                .collect(),
            offsets: vec![],
            caught_up: false,
            generation: 0,
        });
        apply(&mut store.writer(), &p, now, cfg.events.rejected_keep)?;
    }
    let w = store.writer();
    for i in 0..2000.min(n) {
        let o = i * 13 % n.max(1);
        let (src, dst) = (&tiers[o % tiers.len()], &tiers[(o + 1) % tiers.len()]);
        // A history of finished work for the queue pane, and nothing for the migrator to claim
        // (the bench objects have no bytes on the tiers).
        if let Some(id) = task::enqueue(&w, &key(o), src, dst, now)? {
            let (to, reason) = if id % 10 == 0 {
                (TaskState::Failed, Some("503 SlowDown after 6 attempts".to_string()))
            } else {
                (TaskState::Done, None)
            };
            let change = task::Change {
                reason,
                ..task::Change::default()
            };
            task::transition(&w, id, TaskState::Pending, to, &change, now)?;
        }
    }
    Ok(())
}

/// `cfg` for an engine started on a store the bench filled: its own source seeds nothing and
/// adds little, and no planning cycle runs during the measurement (it would queue moves of
/// objects with no bytes on the tiers).
pub(super) fn quiet_engine(cfg: &Config) -> Config {
    let mut cfg = cfg.clone();
    cfg.events.embedded.seed_objects = 0;
    cfg.events.embedded.rate = 200.0;
    cfg.optimizer.interval_secs = 3600;
    cfg
}

pub fn run(cfg: &Config, objects: usize, attached: bool, as_json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("creating a scratch directory")?;
    let cfg = quiet_engine(cfg);
    {
        let store = Store::open(&dir.path().join(&cfg.store.file), cfg.store.cache_mib)?;
        populate(&store, &cfg, objects).context("populating the store")?;
    }
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    let claim = crate::control::claim(&cfg, dir.path()).context("claiming the control socket")?;
    let engine = rt
        .block_on(async { Engine::start(cfg.clone(), crate::tiers::engine_options(dir.path())) })
        .context("starting the engine")?;
    let received = Arc::new(std::sync::Mutex::new(Received::default()));
    let _control = if attached {
        Some(follow_snapshots(&rt, claim, &cfg, &engine, &received)?)
    } else {
        drop(claim);
        None
    };
    let (mut snap_ms, last) = snapshot_times(&rt, &engine, attached, objects)?;

    let (w, h) = (120, 40);
    let mut app = App::new(cfg.clone(), Keymap::default_map(), Theme::builtins(), 0);
    let mut term = Terminal::new(TestBackend::new(w, h)).context("creating the test terminal")?;
    // Attached, the frames draw what came over the socket, as `dim attach` does.
    let (mut streamed_bytes, mut stream_parse_ms, streamed_last) = {
        let mut r = crate::engine::sync::lock(&received);
        (
            std::mem::take(&mut r.bytes),
            std::mem::take(&mut r.parse_ms),
            r.last.take(),
        )
    };
    anyhow::ensure!(
        !attached || streamed_last.is_some(),
        "the attached client received no snapshot"
    );
    let snap = Arc::new(streamed_last.unwrap_or(last));
    let mut frame_ms = frame_times(&mut app, &mut term, &snap)?;
    rt.block_on(engine.shutdown()).context("stopping the engine")?;

    let r = TuiBench {
        objects,
        snapshots: snap_ms.len(),
        snapshot_ms_p50: percentile(&mut snap_ms, 0.5),
        snapshot_ms_p99: percentile(&mut snap_ms, 0.99),
        frames: frame_ms.len(),
        frame_ms_p50: percentile(&mut frame_ms, 0.5),
        frame_ms_p99: percentile(&mut frame_ms, 0.99),
        width: w,
        height: h,
        peak_rss_mib: super::peak_rss_mib(),
        attached,
        streamed: streamed_bytes.len(),
        streamed_bytes_p50: percentile(&mut streamed_bytes, 0.5),
        stream_parse_ms_p99: percentile(&mut stream_parse_ms, 0.99),
    };
    super::report(&r, as_json, human)?;
    Ok(())
}

/// Serves the control API and follows its snapshot stream as `dim attach` does, noting each
/// snapshot's size and parse time in `received`.
fn follow_snapshots(
    rt: &tokio::runtime::Runtime,
    claim: crate::control::Claim,
    cfg: &Config,
    engine: &crate::engine::EngineHandle,
    received: &Arc<std::sync::Mutex<Received>>,
) -> anyhow::Result<crate::control::ControlServer> {
    let server = rt.block_on(crate::control::start(claim, cfg, engine))?;
    let socket = server
        .socket
        .clone()
        .context("control.socket is off in this configuration")?;
    let ep = crate::control::client::Endpoint::Socket(socket);
    let sink = received.clone();
    rt.spawn(async move {
        let _ = ep
            .follow("/v1/snapshots", |line| {
                let t = Instant::now();
                let parsed = serde_json::from_slice::<crate::engine::snapshot::Snapshot>(line);
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let mut r = crate::engine::sync::lock(&sink);
                r.bytes.push(line.len() as f64);
                r.parse_ms.push(ms);
                r.last = parsed.ok();
                true
            })
            .await;
    });
    Ok(server)
}

/// Draws 300 frames of `snap` (the detail view opened half way), each timed, ms.
pub(super) fn frame_times(
    app: &mut App,
    term: &mut Terminal<TestBackend>,
    snap: &Arc<Snapshot>,
) -> anyhow::Result<Vec<f64>> {
    let mut frame_ms = Vec::new();
    for i in 0..300 {
        // A new snapshot every frame: the histories grow as they do live.
        app.on_snapshot(snap.clone());
        if i == 150 {
            app.act(crate::tui::keymap::Action::Detail);
        }
        let t = Instant::now();
        term.draw(|f| view::draw(f, app)).context("drawing")?;
        frame_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(frame_ms)
}

/// The benchmark's line for people.
fn human(r: &TuiBench) -> String {
    let stream = if r.attached {
        format!(
            "; attached client: {} snapshots of {:.0} KiB, parsed in p99 {:.2} ms",
            r.streamed,
            r.streamed_bytes_p50 / 1024.0,
            r.stream_parse_ms_p99
        )
    } else {
        String::new()
    };
    format!(
        "{} objects: snapshot build p50 {:.1} ms, p99 {:.1} ms; frame {}x{} p50 {:.2} ms, p99 {:.2} ms; peak RSS {:.0} MiB{stream}",
        r.objects,
        r.snapshot_ms_p50,
        r.snapshot_ms_p99,
        r.width,
        r.height,
        r.frame_ms_p50,
        r.frame_ms_p99,
        r.peak_rss_mib.unwrap_or(f64::NAN)
    )
}

/// Builds snapshots with the detail view open on the hottest object (its explanation is part of
/// every snapshot), each timed, ms; and the last one.
pub(super) fn snapshot_times(
    rt: &tokio::runtime::Runtime,
    engine: &crate::engine::EngineHandle,
    attached: bool,
    objects: usize,
) -> anyhow::Result<(Vec<f64>, Snapshot)> {
    let first = engine.build_snapshot()?;
    if let Some(o) = first.hottest.first() {
        let key = Some(o.key.clone());
        rt.block_on(async { engine.commands().send(Command::Inspect { key }).await })
            .context("opening the detail view")?;
    }
    std::thread::sleep(Duration::from_millis(300));

    let mut snap_ms = Vec::new();
    let mut last = first;
    // Attached, the builds are timed for at least five seconds of the stream (20 snapshots at
    // the default cadence) while the control API serialises and sends each.
    let timing = Instant::now();
    while snap_ms.len() < 100 || (attached && timing.elapsed() < Duration::from_secs(5)) {
        let t = Instant::now();
        last = engine.build_snapshot()?;
        snap_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    anyhow::ensure!(
        last.store.objects as usize >= objects,
        "the store holds {} objects",
        last.store.objects
    );
    Ok((snap_ms, last))
}
