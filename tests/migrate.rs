//! The migrator on local tiers: every state, resume after a crash at each, growing files, conditional
//! copy, backoff, non-retryable failures, cancellation, a chaos run and forgetting old finished tasks.
//! The S3 side is in s3.rs.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use common::hooked::{Hooked, Hooks};
use common::{capture_logs, content, sha256};
use data_in_motion::config::InjectedError;
use data_in_motion::engine::clock::wall_now_ms;
use data_in_motion::engine::migrate::Migrator;
use data_in_motion::engine::migrate::backoff::{Policy, retry};
use data_in_motion::engine::migrate::mover::{MoveCtx, Outcome};
use data_in_motion::engine::migrate::task::{self, Change, Task, TaskState};
use data_in_motion::engine::store::Store;
use data_in_motion::engine::tiers::chaos::{ChaosSettings, ChaosStore, injected};
use data_in_motion::engine::tiers::local::LocalTier;
use data_in_motion::engine::tiers::{
    Attributes, ErrorKind, ObjectMeta, ObjectStore, OpError, Reader, Tiers, Version, Written,
};

type Wrap = Box<dyn Fn(&str, Arc<LocalTier>) -> Arc<dyn ObjectStore>>;

struct Fx {
    _dir: tempfile::TempDir,
    root: PathBuf,
    store: Arc<Store>,
    tiers: Tiers,
    local: std::collections::HashMap<String, Arc<LocalTier>>,
}

fn fixture_with(wrap: Wrap) -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let store = Arc::new(Store::open(&root.join("dim.db"), 8).unwrap());
    let mut tiers = Tiers::new();
    let mut local = std::collections::HashMap::new();
    for name in ["hot", "cool"] {
        let t = Arc::new(LocalTier::new(name, root.join("tiers").join(name)).unwrap());
        local.insert(name.to_string(), t.clone());
        tiers.insert(name.to_string(), Arc::new(ChaosStore::new(wrap(name, t))));
    }
    Fx {
        _dir: dir,
        root,
        store,
        tiers,
        local,
    }
}

fn fixture() -> Fx {
    fixture_with(Box::new(|_, t| t as Arc<dyn ObjectStore>))
}

fn policy() -> Policy {
    Policy {
        base: Duration::from_millis(1000),
        cap: Duration::from_millis(30_000),
        max_attempts: 6,
    }
}

impl Fx {
    fn ctx(&self) -> MoveCtx {
        MoveCtx::new(
            self.store.clone(),
            self.tiers.clone(),
            policy(),
            Duration::from_secs(5),
            Arc::new(|_, _| {}),
        )
    }

    fn path(&self, tier: &str, key: &str) -> PathBuf {
        self.root.join("tiers").join(tier).join(key)
    }

    /// Writes an object on `tier`, last modified `age` ago, and registers it there.
    fn object(&self, tier: &str, key: &str, data: &[u8], age: Duration) {
        self.local[tier].put_bytes(key, data).unwrap();
        set_age(&self.path(tier, key), age);
        common::register(&self.store, &[(key, tier, data.len() as u64)]);
    }

    fn enqueue(&self, key: &str, src: &str, dst: &str) -> i64 {
        task::enqueue(&self.store.writer(), key, src, dst, wall_now_ms())
            .unwrap()
            .unwrap()
    }

    fn task(&self, id: i64) -> Task {
        task::get(&self.store.writer(), id).unwrap().unwrap()
    }

    fn pointer(&self, key: &str) -> Option<String> {
        self.store
            .writer()
            .as_sqlite()
            .unwrap()
            .query_row("SELECT tier FROM objects WHERE key = ?1", [key], |r| r.get(0))
            .unwrap()
    }

    fn read(&self, tier: &str, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path(tier, key)).ok()
    }

    async fn run(&self, id: i64) -> Outcome {
        self.ctx()
            .run(self.task(id), Default::default(), Default::default())
            .await
            .unwrap()
    }

    /// Exactly one copy, on the pointer's tier, with the original bytes.
    fn assert_moved(&self, key: &str, data: &[u8], to: &str, from: &str) {
        assert_eq!(self.pointer(key).as_deref(), Some(to));
        assert_eq!(
            self.read(to, key).map(|d| sha256(&d)),
            Some(sha256(data)),
            "{key} intact on {to}"
        );
        assert!(self.read(from, key).is_none(), "{key} left behind on {from}");
    }
}

fn set_age(path: &std::path::Path, age: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

const OLD: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_move_goes_through_every_state_to_done() {
    let fx = fixture();
    let data = content(1, 300_000);
    fx.object("hot", "a/b.bin", &data, OLD);
    let id = fx.enqueue("a/b.bin", "hot", "cool");
    assert_eq!(fx.task(id).state, TaskState::Pending);
    assert_eq!(fx.run(id).await, Outcome::Done);
    let t = fx.task(id);
    assert_eq!(t.state, TaskState::Done);
    assert_eq!(t.size, 300_000);
    assert_eq!(t.written.unwrap().sha256.as_deref(), Some(sha256(&data).as_str()));
    fx.assert_moved("a/b.bin", &data, "cool", "hot");
    // One unfinished task per object: a second enqueue while one is in flight is refused.
    fx.object("cool", "c", b"x", OLD);
    let first = fx.enqueue("c", "cool", "hot");
    assert!(
        task::enqueue(&fx.store.writer(), "c", "cool", "hot", 0)
            .unwrap()
            .is_none()
    );
    assert_eq!(fx.run(first).await, Outcome::Done);
}

#[test]
fn transitions_are_compare_and_set() {
    let fx = fixture();
    fx.object("hot", "k", b"data", OLD);
    let id = fx.enqueue("k", "hot", "cool");
    let w = fx.store.writer();
    assert!(task::transition(&w, id, TaskState::Pending, TaskState::Copying, &Change::default(), 1).unwrap());
    // A worker that still believes the task is pending cannot move it.
    assert!(!task::transition(&w, id, TaskState::Pending, TaskState::Copying, &Change::default(), 2).unwrap());
    assert!(task::cancel(&w, id, 3).unwrap());
    assert!(!task::transition(&w, id, TaskState::Copying, TaskState::Verifying, &Change::default(), 4).unwrap());
    assert_eq!(task::get(&w, id).unwrap().unwrap().state, TaskState::Cancelled);
}

/// Puts the task in `state` with exactly the side effects a crash right after entering it would leave.
async fn crash_in(fx: &Fx, id: i64, state: TaskState, data: &[u8]) {
    let t = fx.task(id);
    let hot = fx.tiers["hot"].clone();
    let cool = fx.tiers["cool"].clone();
    let w = || fx.store.writer();
    if state == TaskState::Pending {
        return;
    }
    let meta = hot.head(&t.key).await.unwrap().unwrap();
    let c = Change {
        size: Some(meta.size),
        src_etag: Some(meta.etag.clone()),
        ..Change::default()
    };
    assert!(task::transition(&w(), id, TaskState::Pending, TaskState::Copying, &c, 1).unwrap());
    if state == TaskState::Copying {
        // Killed mid-copy: a torn, wrong copy is at the destination.
        std::fs::create_dir_all(fx.path("cool", &t.key).parent().unwrap()).unwrap();
        std::fs::write(fx.path("cool", &t.key), &data[..data.len() / 3]).unwrap();
        return;
    }
    let written = cool
        .put(
            &t.key,
            Box::new(std::io::Cursor::new(data.to_vec())),
            data.len() as u64,
            &Attributes::default(),
        )
        .await
        .unwrap();
    let c = Change {
        written: Some(written.clone()),
        ..Change::default()
    };
    assert!(task::transition(&w(), id, TaskState::Copying, TaskState::Verifying, &c, 2).unwrap());
    if state == TaskState::Verifying {
        return;
    }
    assert!(
        task::transition(
            &w(),
            id,
            TaskState::Verifying,
            TaskState::Switching,
            &Change::default(),
            3
        )
        .unwrap()
    );
    if state == TaskState::Switching {
        return;
    }
    let t = fx.task(id);
    assert_eq!(
        task::switch_pointer(&mut w(), &t, &written, 4, None).unwrap(),
        task::Switch::Switched
    );
    assert_eq!(state, TaskState::Cleaning);
}

#[tokio::test]
async fn resumes_after_a_crash_in_every_state() {
    for state in [
        TaskState::Pending,
        TaskState::Copying,
        TaskState::Verifying,
        TaskState::Switching,
        TaskState::Cleaning,
    ] {
        let fx = fixture();
        let data = content(state as u64 + 7, 70_000);
        fx.object("hot", "obj", &data, OLD);
        let id = fx.enqueue("obj", "hot", "cool");
        crash_in(&fx, id, state, &data).await;
        assert_eq!(fx.task(id).state, state);
        // Only a readable copy is ever named by the pointer while the task is unfinished.
        let p = fx.pointer("obj").unwrap();
        assert_eq!(
            fx.read(&p, "obj").map(|d| sha256(&d)),
            Some(sha256(&data)),
            "pointer readable in {state:?}"
        );
        // Restart: the task is claimable and runs to completion from where it was.
        let claimable = task::claimable(&fx.store.writer(), wall_now_ms(), 10).unwrap();
        assert_eq!(
            claimable.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![id],
            "{state:?}"
        );
        assert_eq!(fx.run(id).await, Outcome::Done, "resumed from {state:?}");
        fx.assert_moved("obj", &data, "cool", "hot");
        // Running a finished task again changes nothing (idempotent).
        assert_eq!(fx.run(id).await, Outcome::Done);
        fx.assert_moved("obj", &data, "cool", "hot");
    }
}

#[tokio::test]
async fn a_growing_file_is_deferred_then_moved_once_quiet() {
    let fx = fixture();
    let data = content(3, 5000);
    fx.object("hot", "log.txt", &data, Duration::from_secs(1));
    let id = fx.enqueue("log.txt", "hot", "cool");
    let before = wall_now_ms();
    assert_eq!(fx.run(id).await, Outcome::Deferred("file_growing".into()));
    let t = fx.task(id);
    assert_eq!(t.state, TaskState::Deferred);
    assert_eq!(t.reason.as_deref(), Some("file_growing"));
    assert_eq!(t.attempts, 0, "a deferral is not a failed attempt");
    let nb = t.not_before.unwrap();
    assert!(
        nb > before && nb <= before + 5_000,
        "comes back when the window has passed"
    );
    assert!(
        task::claimable(&fx.store.writer(), wall_now_ms(), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(fx.pointer("log.txt").as_deref(), Some("hot"));
    assert!(fx.read("cool", "log.txt").is_none());
    // Later, the file has been quiet for a while: it is claimable and moves.
    set_age(&fx.path("hot", "log.txt"), OLD);
    let later = task::claimable(&fx.store.writer(), nb, 10).unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(
        fx.ctx()
            .run(later[0].clone(), Default::default(), Default::default())
            .await
            .unwrap(),
        Outcome::Done
    );
    fx.assert_moved("log.txt", &data, "cool", "hot");
}

/// A source that gets written to at a chosen moment: during the copy (after `get`) or after it.
#[derive(Debug)]
struct Writer {
    path: PathBuf,
    new: Vec<u8>,
    on_get: bool,
    on_head: u32,
    heads: AtomicU32,
    fired: std::sync::atomic::AtomicBool,
}

impl Writer {
    fn write(&self) {
        if !self.fired.swap(true, Ordering::SeqCst) {
            // A producer rewriting the object (same path, new content, now).
            let tmp = self.path.with_extension("incoming");
            std::fs::write(&tmp, &self.new).unwrap();
            std::fs::rename(&tmp, &self.path).unwrap();
        }
    }
}

#[async_trait]
impl Hooks for Writer {
    async fn head(&self, inner: &dyn ObjectStore, key: &str) -> Result<Option<ObjectMeta>, OpError> {
        if self.heads.fetch_add(1, Ordering::SeqCst) + 1 == self.on_head {
            self.write();
        }
        inner.head(key).await
    }
    async fn get(
        &self,
        inner: &dyn ObjectStore,
        key: &str,
        if_match: Option<Version<'_>>,
    ) -> Result<(ObjectMeta, Reader), OpError> {
        let r = inner.get(key, if_match).await;
        if self.on_get {
            self.write();
        }
        r
    }
}

async fn source_changes(on_get: bool, on_head: u32) {
    let new = content(99, 40_000);
    let new2 = new.clone();
    let fx = fixture_with(Box::new(move |name, t| {
        if name != "hot" {
            return t as Arc<dyn ObjectStore>;
        }
        let path = t.root().join("doc.pdf");
        Hooked::new(
            t,
            Writer {
                path,
                new: new2.clone(),
                on_get,
                on_head,
                heads: AtomicU32::new(0),
                fired: Default::default(),
            },
        )
    }));
    let old = content(98, 30_000);
    fx.object("hot", "doc.pdf", &old, OLD);
    let id = fx.enqueue("doc.pdf", "hot", "cool");
    assert_eq!(fx.run(id).await, Outcome::Deferred("file_growing".into()));
    // The stale copy never became the pointer, and was not left behind.
    assert_eq!(fx.pointer("doc.pdf").as_deref(), Some("hot"));
    assert!(fx.read("cool", "doc.pdf").is_none());
    assert_eq!(fx.read("hot", "doc.pdf"), Some(new.clone()));
    // Once quiet, the re-copy moves the new content.
    set_age(&fx.path("hot", "doc.pdf"), OLD);
    let t = task::claimable(&fx.store.writer(), wall_now_ms() + 10_000, 10)
        .unwrap()
        .remove(0);
    assert_eq!(
        fx.ctx().run(t, Default::default(), Default::default()).await.unwrap(),
        Outcome::Done
    );
    fx.assert_moved("doc.pdf", &new, "cool", "hot");
}

#[tokio::test]
async fn a_write_during_the_copy_is_detected() {
    source_changes(true, 0).await;
}

#[tokio::test]
async fn a_write_after_the_copy_before_the_switch_is_detected() {
    // Heads: 1 start, 2 after the copy, 3 before the switch.
    source_changes(false, 3).await;
}

#[tokio::test(start_paused = true)]
async fn backoff_schedule_and_log_line() {
    let (logs, _g) = capture_logs("dim=warn");
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let started = tokio::time::Instant::now();
    let r: Result<u32, OpError> = retry(
        policy(),
        "k/1",
        "cool",
        |_| {},
        || {
            let c = c.clone();
            async move {
                let n = c.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= 3 {
                    Err(injected(InjectedError::SlowDown, "cool", "put", "k/1"))
                } else {
                    Ok(n)
                }
            }
        },
    )
    .await;
    assert_eq!(r.unwrap(), 4);
    let text = logs.text();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("Retrying in")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    let mut total = 0.0;
    for (i, l) in lines.iter().enumerate() {
        assert!(l.contains("WARN"), "{l}");
        assert!(
            l.contains(&format!("(attempt {}/6) key=k/1 tier=cool error=", i + 2)),
            "{l}"
        );
        assert!(l.contains("slow_down"), "{l}");
        let secs: f64 = l
            .split("Retrying in ")
            .nth(1)
            .unwrap()
            .split('s')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // Full jitter under the 1 s, 2 s, 4 s ceilings.
        assert!(
            (0.0..=policy().ceiling(i as u32 + 1).as_secs_f64()).contains(&secs),
            "{l}"
        );
        total += secs;
    }
    // The paused clock advanced by the delays and nothing more (no real sleeping).
    let elapsed = started.elapsed().as_secs_f64();
    assert!((elapsed - total).abs() < 0.2, "elapsed {elapsed} vs logged {total}");

    // Out of attempts: the last error comes back after max_attempts tries.
    calls.store(0, Ordering::SeqCst);
    let c = calls.clone();
    let r: Result<(), OpError> = retry(
        policy(),
        "k/2",
        "cool",
        |_| {},
        || {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Err(injected(InjectedError::Throttled, "cool", "put", "k/2"))
            }
        },
    )
    .await;
    assert_eq!(r.unwrap_err().kind, ErrorKind::Throttled);
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    assert_eq!(policy().ceiling(1), Duration::from_secs(1));
    assert_eq!(policy().ceiling(3), Duration::from_secs(4));
    assert_eq!(policy().ceiling(10), Duration::from_secs(30), "capped");
}

#[tokio::test(start_paused = true)]
async fn injected_errors_are_classified_like_server_errors() {
    for (kind, want) in [
        (InjectedError::SlowDown, ErrorKind::from_http(503, Some("SlowDown"))),
        (InjectedError::Throttled, ErrorKind::from_http(429, None)),
        (InjectedError::Internal, ErrorKind::from_http(500, None)),
        (InjectedError::Timeout, ErrorKind::from_io(std::io::ErrorKind::TimedOut)),
        (
            InjectedError::Reset,
            ErrorKind::from_io(std::io::ErrorKind::ConnectionReset),
        ),
    ] {
        let e = injected(kind, "t", "get", "k");
        assert_eq!(e.kind, want);
        assert!(e.kind.retryable(), "{kind:?}");
    }
    for (status, code) in [(403, None), (404, Some("NoSuchKey")), (412, Some("PreconditionFailed"))] {
        assert!(!ErrorKind::from_http(status, code).retryable());
    }
}

/// A store that refuses everything with 403, or corrupts what it stores.
#[derive(Debug)]
struct Broken {
    disk: Arc<LocalTier>,
    forbidden: bool,
}

#[async_trait]
impl Hooks for Broken {
    async fn head(&self, inner: &dyn ObjectStore, key: &str) -> Result<Option<ObjectMeta>, OpError> {
        if self.forbidden {
            return Err(OpError::new(
                ErrorKind::from_http(403, Some("AccessDenied")),
                inner.tier(),
                "head",
                key,
                "403 AccessDenied",
            ));
        }
        inner.head(key).await
    }
    async fn put(
        &self,
        inner: &dyn ObjectStore,
        key: &str,
        body: Reader,
        size: u64,
        attrs: &Attributes,
    ) -> Result<Written, OpError> {
        let w = inner.put(key, body, size, attrs).await?;
        // Bit rot at rest: the bytes on disk differ from what was written.
        let path = self.disk.path_for(key).unwrap();
        let mut d = std::fs::read(&path).unwrap();
        d[0] ^= 0xff;
        std::fs::write(&path, d).unwrap();
        Ok(w)
    }
}

#[tokio::test(start_paused = true)]
async fn non_retryable_errors_fail_at_once_with_their_reason() {
    let (logs, _g) = capture_logs("dim=info");
    let fx = fixture_with(Box::new(|name, t| {
        if name == "hot" {
            Hooked::new(
                t.clone(),
                Broken {
                    disk: t,
                    forbidden: true,
                },
            )
        } else {
            t as Arc<dyn ObjectStore>
        }
    }));
    fx.object("hot", "secret.bin", b"abc", OLD);
    let id = fx.enqueue("secret.bin", "hot", "cool");
    let Outcome::Failed(why) = fx.run(id).await else {
        panic!("should fail")
    };
    assert!(why.contains("forbidden"), "{why}");
    let t = fx.task(id);
    assert_eq!((t.state, t.attempts), (TaskState::Failed, 1));
    assert!(!logs.text().contains("Retrying in"), "403 is not retried");
    assert_eq!(fx.pointer("secret.bin").as_deref(), Some("hot"));

    // A missing source the store still places there fails too, with a clear reason, on the
    // second look (the first defers briefly: a DELETE may be on its way through ingest).
    let fx = fixture();
    fx.object("hot", "gone", b"abc", OLD);
    std::fs::remove_file(fx.path("hot", "gone")).unwrap();
    let id = fx.enqueue("gone", "hot", "cool");
    assert_eq!(fx.run(id).await, Outcome::Deferred("source_missing".into()));
    let Outcome::Failed(why) = fx.run(id).await else {
        panic!("should fail")
    };
    assert!(why.contains("not found"), "{why}");
}

#[tokio::test]
async fn a_checksum_mismatch_recopies_then_fails_and_cleans_up() {
    let fx = fixture_with(Box::new(|name, t| {
        if name == "cool" {
            Hooked::new(
                t.clone(),
                Broken {
                    disk: t,
                    forbidden: false,
                },
            )
        } else {
            t as Arc<dyn ObjectStore>
        }
    }));
    let data = content(5, 10_000);
    fx.object("hot", "x", &data, OLD);
    let id = fx.enqueue("x", "hot", "cool");
    let Outcome::Failed(why) = fx.run(id).await else {
        panic!("should fail")
    };
    assert!(why.contains("checksum mismatch") && why.contains("6 attempts"), "{why}");
    assert_eq!(fx.task(id).attempts, 6);
    // The source is untouched and still the pointer; the bad copy is gone.
    assert_eq!(fx.pointer("x").as_deref(), Some("hot"));
    assert_eq!(fx.read("hot", "x"), Some(data));
    assert!(fx.read("cool", "x").is_none());
    // A failed task can be retried.
    assert_eq!(task::retry_failed(&fx.store.writer(), 1).unwrap(), 1);
    assert_eq!(fx.task(id).state, TaskState::Pending);
    assert_eq!(fx.task(id).attempts, 0);
}

#[tokio::test]
async fn cancel_stops_a_task_and_keeps_one_copy() {
    let fx = fixture();
    let data = content(6, 1000);
    fx.object("hot", "c", &data, OLD);
    let id = fx.enqueue("c", "hot", "cool");
    crash_in(&fx, id, TaskState::Verifying, &data).await;
    assert!(task::cancel(&fx.store.writer(), id, 1).unwrap());
    fx.ctx().remove_copy(&fx.task(id)).await;
    assert_eq!(fx.run(id).await, Outcome::Cancelled);
    assert_eq!(fx.pointer("c").as_deref(), Some("hot"));
    assert!(fx.read("cool", "c").is_none());
    // Once the pointer has moved, a task can no longer be cancelled: it must finish cleaning.
    let id2 = fx.enqueue("c", "hot", "cool");
    crash_in(&fx, id2, TaskState::Cleaning, &data).await;
    assert!(!task::cancel(&fx.store.writer(), id2, 2).unwrap());
}

// One runtime thread, so the worker tasks' log lines reach this test's capturing subscriber.
#[tokio::test]
async fn chaos_storm_on_the_destination_loses_nothing() {
    // 30 % 503 SlowDown and 2 s latency on every destination operation. The clock is real,
    // so this uses many workers; the backoff ceilings are scaled down 10x (0.1 s, 0.2 s, ...)
    // to keep the test short, and 10 attempts keep the chance of a task running out of
    // attempts at 0.3^10 per operation.
    let (logs, _g) = capture_logs("dim=warn");
    let fx = fixture();
    let n = 200;
    let mut originals = Vec::new();
    for i in 0..n {
        let data = content(1000 + i, 2000 + (i as usize * 37) % 20_000);
        let key = format!("storm/{i:04}.bin");
        fx.object("hot", &key, &data, OLD);
        fx.enqueue(&key, "hot", "cool");
        originals.push((key, data));
    }
    fx.tiers["cool"].set(ChaosSettings {
        latency_ms: 2000,
        error_rate: 30.0,
        error_kind: Some(InjectedError::SlowDown),
        ..ChaosSettings::default()
    });
    let mut cfg = data_in_motion::config::Config::embedded_default().unwrap().migrator;
    cfg.workers = 64;
    cfg.per_tier_concurrency = 64;
    cfg.max_attempts = 10;
    cfg.backoff_base_ms = 100;
    cfg.backoff_cap_ms = 3000;
    let m = Migrator::start(cfg, fx.store.clone(), fx.tiers.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        let s = data_in_motion::engine::store::summary::summary(&fx.store.reader().unwrap()).unwrap();
        if s.tasks[&TaskState::Done] + s.tasks[&TaskState::Failed] == n {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "migrations did not finish: {:?}",
            s.tasks
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    m.shutdown().await;
    let s = data_in_motion::engine::store::summary::summary(&fx.store.reader().unwrap()).unwrap();
    assert_eq!(
        s.tasks[&TaskState::Done],
        n,
        "all 200 migrations end done: {:?}",
        s.tasks
    );
    assert!(m.stats().retries.load(Ordering::Relaxed) > 0);
    assert!(logs.text().contains("Retrying in"), "retries are logged");
    for (key, data) in &originals {
        fx.assert_moved(key, data, "cool", "hot");
    }
}

#[tokio::test]
async fn a_source_deleted_by_its_owner_cancels_the_move_and_a_missing_one_fails_on_the_second_look() {
    let fx = fixture();
    // Deleted by its owner: the file and then (through ingest) the row are gone.
    fx.object("hot", "gone.bin", b"bye", OLD);
    let id = fx.enqueue("gone.bin", "hot", "cool");
    std::fs::remove_file(fx.path("hot", "gone.bin")).unwrap();
    fx.store
        .writer()
        .as_sqlite()
        .unwrap()
        .execute("DELETE FROM objects WHERE key = 'gone.bin'", [])
        .unwrap();
    assert_eq!(fx.run(id).await, Outcome::Cancelled);
    assert_eq!(fx.task(id).reason.as_deref(), Some("object was deleted meanwhile"));

    // The file is gone but the store still places it there: the DELETE may be on its way, so
    // the move is deferred briefly; still missing on the second look, it fails with the reason.
    fx.object("hot", "missing.bin", b"??", OLD);
    let id = fx.enqueue("missing.bin", "hot", "cool");
    std::fs::remove_file(fx.path("hot", "missing.bin")).unwrap();
    assert_eq!(fx.run(id).await, Outcome::Deferred("source_missing".into()));
    let t = fx.task(id);
    assert_eq!(t.state, TaskState::Deferred);
    assert!(t.not_before.unwrap() > wall_now_ms());
    match fx.run(id).await {
        Outcome::Failed(why) => assert_eq!(why, "source object not found on hot"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(fx.pointer("missing.bin").as_deref(), Some("hot"));
    assert!(fx.read("cool", "missing.bin").is_none());
}

/// Inserts a task in `state` last updated `age_ms` ago.
fn finished_task(fx: &Fx, key: &str, state: &str, age_ms: i64) {
    let at = wall_now_ms() - age_ms;
    fx.store
        .writer()
        .as_sqlite().unwrap().execute(
            "INSERT INTO tasks(key, src_tier, dst_tier, state, created, updated) VALUES (?1, 'hot', 'cool', ?2, ?3, ?3)",
            rusqlite::params![key, state, at],
        )
        .unwrap();
}

fn task_keys(fx: &Fx) -> Vec<String> {
    let w = fx.store.writer();
    let mut stmt = w
        .as_sqlite()
        .unwrap()
        .prepare("SELECT key FROM tasks ORDER BY key")
        .unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn old_done_and_cancelled_tasks_are_forgotten_in_batches_failed_ones_stay() {
    let fx = fixture();
    let day = 24 * 3600 * 1000;
    for i in 0..5 {
        finished_task(&fx, &format!("old-done-{i}"), "done", 10 * day);
    }
    finished_task(&fx, "old-cancelled", "cancelled", 10 * day);
    finished_task(&fx, "old-failed", "failed", 10 * day);
    finished_task(&fx, "recent-done", "done", day);
    fx.object("hot", "pending", b"x", OLD);
    fx.enqueue("pending", "hot", "cool");
    let before = wall_now_ms() - 7 * day;
    // Batches of 4: 4, then the other 2, then nothing.
    let batches: Vec<usize> = (0..3)
        .map(|_| task::forget_finished(&fx.store.writer(), before, 4).unwrap())
        .collect();
    assert_eq!(batches, [4, 2, 0]);
    assert_eq!(task_keys(&fx), ["old-failed", "pending", "recent-done"]);
}

#[tokio::test]
async fn the_migrator_forgets_finished_tasks_past_their_keep() {
    let fx = fixture();
    finished_task(&fx, "two-hours-old", "done", 2 * 3600 * 1000);
    finished_task(&fx, "a-minute-old", "done", 60 * 1000);
    let mut cfg = data_in_motion::config::Config::embedded_default().unwrap().migrator;
    cfg.keep_finished_secs = 3600;
    let m = Migrator::start(cfg, fx.store.clone(), fx.tiers.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while task_keys(&fx).len() > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "not forgotten: {:?}",
            task_keys(&fx)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    m.shutdown().await;
    assert_eq!(task_keys(&fx), ["a-minute-old"]);
}
