//! Commands through the running engine, as keys and scenarios send them.

use std::time::Duration;

use data_in_motion::config::Config;
use data_in_motion::engine::command::{Command, Refusal};
use data_in_motion::engine::migrate::task::TaskState;
use data_in_motion::engine::snapshot::Snapshot;
use data_in_motion::engine::tiers::chaos::ChaosSettings;
use data_in_motion::engine::{Engine, EngineOptions};

async fn wait_for(
    snaps: &mut tokio::sync::watch::Receiver<std::sync::Arc<Snapshot>>,
    what: &str,
    f: impl Fn(&Snapshot) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if f(&snaps.borrow_and_update()) {
                return;
            }
            snaps.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_and_chaos_commands_act_on_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::embedded_default().unwrap();
    cfg.events.embedded.seed_objects = 20;
    cfg.events.embedded.seed_total_bytes = 200_000;
    cfg.events.embedded.max_objects = 40;
    cfg.events.embedded.rate = 0.0;
    // Seeded files are brand new: a short growing window lets the manual move through quickly.
    cfg.migrator.growing_window_secs = 1;
    let mut opts = EngineOptions::new(dir.path());
    opts.snapshot_every = Duration::from_millis(50);
    let engine = Engine::start(cfg, opts).unwrap();
    let mut snaps = engine.snapshots().clone();
    wait_for(&mut snaps, "seeding", |s| s.store.objects == 20).await;
    let key = snaps.borrow().hottest.first().map(|o| o.key.clone());
    let key = match key {
        Some(k) => k,
        None => {
            let conn = engine.store().reader().unwrap();
            conn.as_sqlite()
                .unwrap()
                .query_row("SELECT key FROM objects LIMIT 1", [], |r| r.get::<_, String>(0))
                .unwrap()
        }
    };

    // Chaos on a tier shows in the snapshot, and clears.
    let settings = ChaosSettings {
        latency_ms: 500,
        ..ChaosSettings::default()
    };
    engine
        .commands()
        .send(Command::Chaos {
            tier: "azure-cool".into(),
            settings,
        })
        .await
        .unwrap();
    wait_for(&mut snaps, "chaos on azure-cool", |s| {
        s.tiers
            .iter()
            .any(|t| t.name == "azure-cool" && t.chaos.latency_ms == 500)
    })
    .await;
    engine
        .commands()
        .send(Command::ChaosClear { tier: None })
        .await
        .unwrap();
    wait_for(&mut snaps, "chaos cleared", |s| {
        s.tiers.iter().all(|t| !t.chaos.is_active())
    })
    .await;

    // Paused migrations do not run; a manual move waits, then runs on resume.
    engine.commands().send(Command::PauseMigrations).await.unwrap();
    wait_for(&mut snaps, "paused", |s| s.migrations.paused).await;
    engine
        .commands()
        .send(Command::MigrateNow {
            key: key.clone(),
            tier: "gcp-archive".into(),
        })
        .await
        .unwrap();
    wait_for(&mut snaps, "task queued", |s| {
        s.store.tasks[&TaskState::Pending] + s.store.tasks[&TaskState::Deferred] == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        snaps.borrow().store.tasks[&TaskState::Done],
        0,
        "nothing moves while paused"
    );
    engine.commands().send(Command::ResumeMigrations).await.unwrap();
    wait_for(&mut snaps, "manual move done", |s| s.store.tasks[&TaskState::Done] == 1).await;
    let s = snaps.borrow().clone();
    assert_eq!(s.tiers.iter().find(|t| t.name == "gcp-archive").unwrap().objects, 1);
    assert!(dir.path().join("tiers/gcp-archive").join(&key).exists());
    assert!(!dir.path().join("tiers/aws-hot").join(&key).exists());

    // Bad commands are refused with the reason, never a crash.
    assert_eq!(
        engine.commands().send(Command::CancelTask { id: 999 }).await,
        Err(Refusal::UnknownTask { id: 999 })
    );
    assert_eq!(
        engine
            .commands()
            .send(Command::MigrateNow {
                key: "no/such/key".into(),
                tier: "nowhere".into(),
            })
            .await,
        Err(Refusal::UnknownTier { tier: "nowhere".into() })
    );
    assert_eq!(
        engine
            .commands()
            .send(Command::MigrateNow {
                key: "no/such/key".into(),
                tier: "gcp-archive".into(),
            })
            .await,
        Err(Refusal::UnknownObject {
            key: "no/such/key".into()
        })
    );
    assert_eq!(
        engine
            .commands()
            .send(Command::MigrateNow {
                key: key.clone(),
                tier: "gcp-archive".into(),
            })
            .await,
        Err(Refusal::NothingToMove {
            key: key.clone(),
            tier: "gcp-archive".into()
        })
    );
    assert!(matches!(
        engine.commands().send(Command::SetEventRate { per_sec: -5.0 }).await,
        Err(Refusal::BadValue { ref field, .. }) if field == "per_sec"
    ));
    assert!(matches!(
        engine.commands().send(Command::SetSkew { skew: f64::NAN }).await,
        Err(Refusal::BadValue { ref field, .. }) if field == "skew"
    ));
    assert_eq!(
        engine.commands().send(Command::PauseScenario { paused: true }).await,
        Err(Refusal::NoScenario)
    );
    assert_eq!(
        engine
            .commands()
            .send(Command::Chaos {
                tier: "nowhere".into(),
                settings: ChaosSettings::default(),
            })
            .await,
        Err(Refusal::UnknownTier { tier: "nowhere".into() })
    );
    engine.commands().send(Command::RetryFailed).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!engine.is_failed());
    engine.shutdown().await.unwrap();
}
