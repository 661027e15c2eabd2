//! The dashboard on a TestBackend: whole-app snapshots (insta) driven through the real key
//! handling with fixed data, and key-handling tests (keys → Commands, overrides, invalid keymaps).

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use data_in_motion::config::{self, Config, InjectedError, SourceKind};
use data_in_motion::engine::command::{Command, Refusal};
use data_in_motion::engine::events::SourceState;
use data_in_motion::engine::migrate::InFlightView;
use data_in_motion::engine::migrate::task::{Task, TaskState};
use data_in_motion::engine::model::ModelInfo;
use data_in_motion::engine::model::metrics::Metrics;
use data_in_motion::engine::placement::cost::TierCost;
use data_in_motion::engine::placement::explain::{ChanceOfRead, Explanation};
use data_in_motion::engine::placement::planner::PlanSummary;
use data_in_motion::engine::snapshot::{MigrationView, Snapshot, SourceView, TierView};
use data_in_motion::engine::store::summary::{EventTotals, HotObject, StoreSummary, TierTotals};
use data_in_motion::engine::tiers::chaos::ChaosSettings;
use data_in_motion::tui::app::{App, Overlay, Pane};
use data_in_motion::tui::keymap::Keymap;
use data_in_motion::tui::theme::Theme;
use data_in_motion::tui::{self, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const T0: i64 = 1_764_000_000_000;

fn task(id: i64, key: &str, src: &str, dst: &str, state: TaskState, reason: Option<&str>, attempts: u32) -> Task {
    Task {
        id,
        key: key.into(),
        src: src.into(),
        dst: dst.into(),
        state,
        reason: reason.map(str::to_string),
        attempts,
        not_before: None,
        size: 4 << 20,
        src_etag: None,
        src_version: None,
        src_attrs: None,
        written: None,
        created: T0,
        updated: T0,
    }
}

/// The hottest object's migration, deferred because it is still being written.
fn growing_task() -> Task {
    task(
        139,
        "logs/2026/11/24/app-01.log",
        "aws-hot",
        "azure-cool",
        TaskState::Deferred,
        Some("file_growing"),
        0,
    )
}

fn metrics(pr_auc: f64) -> Metrics {
    Metrics {
        samples: 4000,
        positives: 900,
        roc_auc: pr_auc + 0.08,
        pr_auc,
        brier: 0.09,
        precision: 0.8,
        recall: 0.7,
    }
}

fn hot(key: &str, tier: &str, size: u64, rate: f64, p_hot: f64, planned: Option<&str>) -> HotObject {
    HotObject {
        key: key.into(),
        tier: Some(tier.into()),
        size,
        recent_1h: rate,
        recent_1d: rate * 10.0,
        reads: (rate * 100.0) as u64,
        writes: 2,
        last_access: Some(T0 - 60_000),
        p_hot,
        planned_tier: planned.map(str::to_string),
        pinned: false,
    }
}

fn tier(name: &str, provider: &str, objects: u64, bytes: u64, cap_gb: f64, latency: f64, price: f64) -> TierView {
    TierView {
        name: name.into(),
        provider: provider.into(),
        backend: "local".into(),
        objects,
        bytes,
        capacity_bytes: Some((cap_gb * 1e9) as u64),
        latency_ms: latency,
        monthly_storage_cost: bytes as f64 / 1e9 * price,
        measured_latency_ms: latency / 10.0,
        ops: 1000,
        errors: 0,
        last_error: None,
        chaos: ChaosSettings::default(),
    }
}

/// A deterministic engine snapshot: fixed clock, fixed objects, a plan, a failed task.
fn fixture() -> Snapshot {
    let mut tasks = BTreeMap::new();
    for (s, n) in [
        (TaskState::Pending, 12),
        (TaskState::Copying, 1),
        (TaskState::Verifying, 0),
        (TaskState::Switching, 0),
        (TaskState::Cleaning, 0),
        (TaskState::Done, 134),
        (TaskState::Deferred, 1),
        (TaskState::Failed, 1),
        (TaskState::Cancelled, 0),
    ] {
        tasks.insert(s, n);
    }
    let mut by_tier = BTreeMap::new();
    by_tier.insert(
        "aws-hot".to_string(),
        TierTotals {
            objects: 1500,
            bytes: 140 << 20,
        },
    );
    by_tier.insert(
        "azure-cool".to_string(),
        TierTotals {
            objects: 360,
            bytes: 40 << 20,
        },
    );
    by_tier.insert(
        "gcp-archive".to_string(),
        TierTotals {
            objects: 140,
            bytes: 64 << 20,
        },
    );
    Snapshot {
        now_ms: T0,
        clock_speed: 3600.0,
        source: SourceView {
            kind: SourceKind::Embedded,
            state: SourceState::Running,
            detail: String::new(),
            ..SourceView::default()
        },
        store: StoreSummary {
            objects: 2000,
            bytes: 244 << 20,
            unplaced: 0,
            tiers: by_tier,
            events: EventTotals {
                ingested: 1_234_567,
                rejected: 12,
                rejected_by_reason: BTreeMap::new(),
            },
            tasks,
        },
        events_per_sec: 1012.0,
        events_per_sec_history: vec![900, 950, 1000, 1100, 1050, 980, 1012, 400, 1200, 1012],
        tiers: vec![
            tier("aws-hot", "aws", 1500, 140 << 20, 1.0, 20.0, 0.023),
            tier("azure-cool", "azure", 360, 40 << 20, 2.0, 60.0, 0.01),
            tier("gcp-archive", "gcp", 140, 64 << 20, 10.0, 150.0, 0.004),
        ],
        hottest: vec![
            hot("logs/2026/11/24/app-01.log", "aws-hot", 8 << 20, 41.5, 0.97, None),
            hot("media/banner.png", "aws-hot", 220 << 10, 22.0, 0.91, None),
            hot("reports/q3.pdf", "gcp-archive", 3 << 20, 9.3, 0.74, Some("aws-hot")),
            hot("datasets/train-0007.parquet", "azure-cool", 30 << 20, 2.1, 0.41, None),
            hot(
                "backups/db-2026-10-01.tar",
                "aws-hot",
                48 << 20,
                0.2,
                0.03,
                Some("gcp-archive"),
            ),
        ],
        workload: None,
        migrations: MigrationView {
            paused: false,
            in_flight: vec![InFlightView {
                id: 140,
                key: "backups/db-2026-10-01.tar".into(),
                src: "aws-hot".into(),
                dst: "gcp-archive".into(),
                state: TaskState::Copying,
                size: 48 << 20,
                bytes_done: 18 << 20,
                elapsed_ms: 1400,
            }],
            deferred: vec![growing_task()],
            failed: vec![task(
                101,
                "datasets/train-0003.parquet",
                "azure-cool",
                "gcp-archive",
                TaskState::Failed,
                Some("503 SlowDown after 6 attempts"),
                6,
            )],
            recent_done: vec![task(
                138,
                "media/old-logo.png",
                "aws-hot",
                "gcp-archive",
                TaskState::Done,
                None,
                1,
            )],
            done: 134,
            retries: 17,
            bytes_moved: 96 << 20,
            mib_per_sec: 12.5,
            ..MigrationView::default()
        },
        model: ModelInfo {
            serving: "forest".into(),
            trained_at: Some(T0 - 3_600_000),
            train_secs: 10.8,
            train_samples: 64_442,
            trees: 25,
            holdout: Some(metrics(0.846)),
            heuristic_holdout: Some(metrics(0.783)),
            note: String::new(),
            label_k: 3,
            forecast: Default::default(),
        },
        plan: Some(PlanSummary {
            at: T0 - 60_000,
            objects: 2000,
            candidates: 180,
            moves: 14,
            tasks_created: 14,
            monthly_now: 1.44,
            monthly_after: 0.35,
            hot_objects: 120,
            serving: "forest".into(),
            ..PlanSummary::default()
        }),
        monthly_storage_cost: 0.0046,
        last_commit_ms: 3.2,
        detail: Some(explanation()),
        detail_error: None,
        inventory: Default::default(),
        scenario: None,
        cluster: None,
        commands_applied: 0,
    }
}

fn explanation() -> Explanation {
    let cost = |tier: &str, storage: f64, requests: f64, retrieval: f64, migration: f64, sla_ok: bool| TierCost {
        tier: tier.into(),
        storage,
        requests,
        retrieval,
        migration,
        total: storage + requests + retrieval + migration,
        sla_ok,
        ..TierCost::default()
    };
    Explanation {
        key: "logs/2026/11/24/app-01.log".into(),
        tier: Some("aws-hot".into()),
        size: 8 << 20,
        at_ms: T0,
        features: vec![
            ("log_recent_1h".into(), 3.75),
            ("log_recent_1d".into(), 6.02),
            ("log_hours_since_access".into(), 0.02),
            ("log_size".into(), 15.94),
        ],
        p_hot: 0.97,
        hot: true,
        model: ModelInfo {
            serving: "forest".into(),
            holdout: Some(metrics(0.846)),
            ..ModelInfo::default()
        },
        rate_recent: 41.5,
        rate_long: 12.0,
        rate_day: 20.0,
        rate_week: 12.0,
        expected_gets: 105_120.0,
        expected_reads: vec![
            ("day".into(), 500.5),
            ("week".into(), 2_516.5),
            ("month".into(), 9_428.5),
            ("365 days".into(), 105_120.0),
        ],
        chance_of_read: [
            ("day", 1.0, 0.99),
            ("week", 1.0, 1.0),
            ("month", 1.0, 1.0),
            ("horizon", 1.0, 1.0),
        ]
        .into_iter()
        .map(|(w, prior, learned)| ChanceOfRead {
            within: w.into(),
            prior,
            learned: Some(learned),
        })
        .collect(),
        forecast_serving: "forecast: learned, Brier 0.065 vs prior 0.149".into(),
        life_days: None,
        horizon_days: 365.0,
        costs: vec![
            cost("aws-hot", 0.00226, 0.04205, 0.0, 0.0, true),
            cost("azure-cool", 0.00098, 0.10512, 0.00881, 0.00076, false),
            cost("gcp-archive", 0.00039, 1.05120, 0.02643, 0.00076, false),
        ],
        chosen: Some("aws-hot".into()),
        constraints: vec!["sla: p_hot 0.97 >= 0.5 so only tiers at or under 50 ms".into()],
        tasks: vec![growing_task()],
    }
}

fn app_with(theme: &str) -> App {
    let cfg = Config::embedded_default().unwrap();
    let themes = Theme::builtins();
    let i = themes.iter().position(|t| t.name == theme).unwrap();
    let mut app = App::new(cfg, Keymap::default_map(), themes, i);
    // Three snapshots, so the sparklines and the bytes chart have a history.
    for step in 0..3u64 {
        let mut s = fixture();
        for o in &mut s.hottest {
            o.recent_1h *= 1.0 + step as f64 * 0.2;
        }
        s.tiers[0].bytes -= step * (8 << 20);
        s.tiers[2].bytes += step * (8 << 20);
        app.on_snapshot(Arc::new(s));
    }
    app
}

fn app() -> App {
    app_with("default")
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &str) -> Vec<Command> {
    keys.chars().flat_map(|c| app.handle_key(key(c))).collect()
}

fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).unwrap()
}

/// The screen as text.
fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = terminal(w, h);
    t.draw(|f| view::draw(f, app)).unwrap();
    t.backend().to_string()
}

/// The screen with every cell's style (for themes).
fn styled(app: &mut App, w: u16, h: u16) -> String {
    let mut t = terminal(w, h);
    t.draw(|f| view::draw(f, app)).unwrap();
    format!("{:?}", t.backend().buffer())
}

#[test]
fn default_view() {
    insta::assert_snapshot!("default_120x40", screen(&mut app(), 120, 40));
    insta::assert_snapshot!("default_80x24", screen(&mut app(), 80, 24));
}

#[test]
fn too_small() {
    let s = screen(&mut app(), 70, 20);
    assert!(s.contains("terminal too small"), "{s}");
    assert!(s.contains("70×20"), "{s}");
}

#[test]
fn each_focused_pane() {
    let mut a = app();
    for pane in [Pane::Tiers, Pane::Queue, Pane::Chaos, Pane::Logs] {
        a.handle_key(code(KeyCode::Tab));
        assert_eq!(a.focus, pane);
        let name = format!("focus_{pane:?}").to_lowercase();
        insta::assert_snapshot!(name, screen(&mut a, 120, 40));
    }
    a.handle_key(code(KeyCode::Tab));
    assert_eq!(a.focus, Pane::Heat, "focus wraps around");
    a.handle_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(a.focus, Pane::Logs, "Shift-Tab goes back");
}

#[test]
fn filter_active() {
    let mut a = app();
    press(&mut a, "/rep");
    assert!(a.filtering);
    assert_eq!(a.heat_rows().len(), 1);
    insta::assert_snapshot!("filter_typing", screen(&mut a, 120, 40));
    a.handle_key(code(KeyCode::Enter));
    assert!(!a.filtering);
    assert_eq!(a.filter, "rep", "Enter keeps the filter");
    a.handle_key(code(KeyCode::Esc));
    assert!(a.filter.is_empty(), "Esc clears it");
    assert_eq!(a.heat_rows().len(), 5);
}

#[test]
fn sort_cycles() {
    let mut a = app();
    let keys = |a: &App| a.heat_rows().iter().map(|o| o.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&a)[0], "logs/2026/11/24/app-01.log", "p_hot first");
    press(&mut a, "s");
    assert_eq!(keys(&a)[0], "logs/2026/11/24/app-01.log", "then rate");
    press(&mut a, "s");
    assert_eq!(keys(&a)[0], "backups/db-2026-10-01.tar", "then size");
    press(&mut a, "s");
    assert_eq!(keys(&a)[0], "backups/db-2026-10-01.tar", "then key");
    assert_eq!(keys(&a)[4], "reports/q3.pdf");
    press(&mut a, "s");
    assert_eq!(keys(&a)[0], "logs/2026/11/24/app-01.log", "back to p_hot");
}

#[test]
fn detail_view() {
    let mut a = app();
    let cmds = a.handle_key(code(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Command::Inspect {
            key: Some("logs/2026/11/24/app-01.log".into())
        }]
    );
    assert_eq!(a.overlay, Some(Overlay::Detail("logs/2026/11/24/app-01.log".into())));
    insta::assert_snapshot!("detail", screen(&mut a, 120, 40));
    assert_eq!(a.handle_key(code(KeyCode::Esc)), vec![Command::Inspect { key: None }]);
    assert_eq!(a.overlay, None);
}

#[test]
fn selection_moves_and_follows_the_object() {
    let mut a = app();
    press(&mut a, "jj");
    let cmds = a.handle_key(code(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Command::Inspect {
            key: Some("reports/q3.pdf".into())
        }]
    );
    a.handle_key(code(KeyCode::Esc));
    // A new snapshot where the ranking changed: the selection stays on the same object.
    let mut s = fixture();
    s.hottest.swap(0, 2);
    s.hottest[0].p_hot = 0.99;
    a.on_snapshot(Arc::new(s));
    let rows = a.heat_rows();
    assert_eq!(rows[a.selected_index(&rows)].key, "reports/q3.pdf");
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut a = app();
    press(&mut a, "?");
    assert_eq!(a.overlay, Some(Overlay::Help));
    let s = screen(&mut a, 120, 40);
    insta::assert_snapshot!("help", s);
    for b in Keymap::default_map().bindings().iter().take(20) {
        assert!(s.contains(b.help), "help lists {:?}", b.name);
    }
    press(&mut a, "?");
    assert_eq!(a.overlay, None);
}

#[test]
fn chaos_active_on_a_tier() {
    let mut a = app();
    let mut s = fixture();
    s.tiers[0].chaos = ChaosSettings {
        latency_ms: 500,
        error_rate: 30.0,
        error_kind: Some(InjectedError::SlowDown),
        ..ChaosSettings::default()
    };
    s.tiers[0].errors = 300;
    s.tiers[0].last_error = Some("503 SlowDown (injected)".into());
    s.tiers[2].chaos.outage = true;
    a.on_snapshot(Arc::new(s));
    for _ in 0..3 {
        a.handle_key(code(KeyCode::Tab));
    }
    assert_eq!(a.focus, Pane::Chaos);
    let screen = screen(&mut a, 120, 40);
    assert!(screen.contains("latency 500 ms, 30 % slow_down"), "{screen}");
    insta::assert_snapshot!("chaos_active", screen);
}

#[test]
fn a_scenario_playing_has_a_header_line_and_space_pauses_it() {
    use data_in_motion::engine::scenario::{ExpectResult, ScenarioView};
    let mut a = app();
    assert_eq!(press(&mut a, " "), vec![], "nothing to pause without a scenario");
    assert!(
        a.status
            .as_deref()
            .unwrap_or_default()
            .contains("no scenario is playing")
    );
    let mut s = fixture();
    s.scenario = Some(ScenarioView {
        name: "chaos-storm".into(),
        file: "scenarios/chaos-storm.toml".into(),
        step: 2,
        steps: 4,
        next: Some((3 * 3_600_000, "optimize".into())),
        elapsed_ms: 2 * 3_600_000 + 30 * 60_000,
        duration_ms: 30 * 3_600_000,
        expects: 6,
        ..ScenarioView::default()
    });
    a.on_snapshot(Arc::new(s.clone()));
    let screen = screen(&mut a, 120, 40);
    assert!(
        screen.contains("scenario chaos-storm step 2/4  2h30m/30h  next @3h: optimize"),
        "{screen}"
    );
    insta::assert_snapshot!("scenario_playing", screen);
    assert_eq!(press(&mut a, " "), vec![Command::PauseScenario { paused: true }]);
    s.scenario.as_mut().unwrap().paused = true;
    a.on_snapshot(Arc::new(s.clone()));
    assert!(screen_of(&mut a).contains("paused (space)"));
    assert_eq!(press(&mut a, " "), vec![Command::PauseScenario { paused: false }]);
    // Finished: the header says how the expectations went.
    let sc = s.scenario.as_mut().unwrap();
    sc.finished = true;
    sc.results = vec![
        ExpectResult {
            text: "retries >= 1".into(),
            line: 12,
            at_ms: None,
            actual: Some(7.0),
            against: None,
            ok: true,
        },
        ExpectResult {
            text: "migrations.failed == 0".into(),
            line: 13,
            at_ms: None,
            actual: Some(2.0),
            against: None,
            ok: false,
        },
    ];
    a.on_snapshot(Arc::new(s));
    assert!(screen_of(&mut a).contains("scenario chaos-storm finished: 1/2 expectations hold"));
    assert_eq!(press(&mut a, " "), vec![]);
}

fn screen_of(a: &mut App) -> String {
    screen(a, 120, 40)
}

#[test]
fn failed_task_shows_its_reason() {
    let s = screen(&mut app(), 120, 40);
    assert!(s.contains("503 SlowDown after 6 attempts"), "{s}");
    assert!(s.contains("attempts 6"), "{s}");
    assert!(s.contains("file_growing"), "{s}");
}

#[test]
fn each_shipped_theme() {
    for t in Theme::builtins() {
        let mut a = app_with(&t.name);
        insta::assert_snapshot!(format!("theme_{}", t.name), styled(&mut a, 120, 40));
    }
}

#[test]
fn t_cycles_themes() {
    let mut a = app();
    let first = a.theme().name.clone();
    press(&mut a, "t");
    assert_ne!(a.theme().name, first);
    for _ in 1..Theme::builtins().len() {
        press(&mut a, "t");
    }
    assert_eq!(a.theme().name, first, "wraps around");
}

#[test]
fn each_default_key_sends_its_command() {
    let mut a = app();
    let chaos = |latency_ms: u64, error_rate: f64, outage: bool| ChaosSettings {
        latency_ms,
        error_rate,
        error_kind: (error_rate > 0.0).then_some(InjectedError::SlowDown),
        outage,
        ..ChaosSettings::default()
    };
    assert_eq!(press(&mut a, "1"), vec![]);
    assert_eq!(
        press(&mut a, "l"),
        vec![Command::Chaos {
            tier: "aws-hot".into(),
            settings: ChaosSettings {
                latency_ms: 500,
                ..ChaosSettings::default()
            }
        }]
    );
    // The next step is computed from what the engine reports as in force.
    let mut s = fixture();
    s.tiers[0].chaos.latency_ms = 500;
    a.on_snapshot(Arc::new(s));
    assert_eq!(
        press(&mut a, "l"),
        vec![Command::Chaos {
            tier: "aws-hot".into(),
            settings: chaos(2000, 0.0, false)
        }]
    );
    assert_eq!(press(&mut a, "2"), vec![]);
    assert_eq!(
        press(&mut a, "e"),
        vec![Command::Chaos {
            tier: "azure-cool".into(),
            settings: chaos(0, 10.0, false)
        }]
    );
    assert_eq!(
        press(&mut a, "o"),
        vec![Command::Chaos {
            tier: "azure-cool".into(),
            settings: chaos(0, 10.0, true)
        }],
        "the outage comes on top of the errors just sent"
    );
    assert_eq!(
        press(&mut a, "c"),
        vec![Command::ChaosClear {
            tier: Some("azure-cool".into())
        }]
    );
    assert_eq!(press(&mut a, "C"), vec![Command::ChaosClear { tier: None }]);
    assert_eq!(press(&mut a, "p"), vec![Command::PauseMigrations]);
    let mut s = fixture();
    s.migrations.paused = true;
    a.on_snapshot(Arc::new(s));
    assert_eq!(press(&mut a, "p"), vec![Command::ResumeMigrations]);
    assert_eq!(press(&mut a, "R"), vec![Command::RetryFailed]);
    assert_eq!(press(&mut a, "O"), vec![Command::OptimizeNow]);
    assert_eq!(press(&mut a, "r"), vec![Command::RetrainNow]);
    assert_eq!(
        press(&mut a, "P"),
        vec![Command::Pin {
            key: "logs/2026/11/24/app-01.log".into(),
            pinned: true
        }]
    );
    assert_eq!(press(&mut a, "9"), vec![], "no ninth tier: nothing sent");
    assert!(a.status.as_deref().unwrap_or("").contains("no tier 9"));
    assert!(!a.quit);
    press(&mut a, "q");
    assert!(a.quit);
    let mut b = app();
    b.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(b.quit, "Ctrl-C quits");
}

#[test]
fn chaos_keys_faster_than_snapshots_build_on_each_other() {
    let mut a = app();
    // 1, l, e, o with no snapshot in between: each builds on what the previous one sent.
    let cmds = press(&mut a, "1leo");
    let last = cmds.last().unwrap().clone();
    assert_eq!(
        last,
        Command::Chaos {
            tier: "aws-hot".into(),
            settings: ChaosSettings {
                latency_ms: 500,
                error_rate: 10.0,
                error_kind: Some(InjectedError::SlowDown),
                outage: true,
                ..ChaosSettings::default()
            }
        }
    );
    // A snapshot that still shows the old state does not undo that; one showing it in force
    // hands the base back to the engine's view.
    a.on_snapshot(Arc::new(fixture()));
    let Command::Chaos { settings, .. } = press(&mut a, "l").remove(0) else {
        panic!("l sends chaos")
    };
    assert_eq!(settings.latency_ms, 2000);
    assert!(settings.outage);
    let mut s = fixture();
    s.tiers[0].chaos = settings.clone();
    a.on_snapshot(Arc::new(s.clone()));
    s.tiers[0].chaos = ChaosSettings::default();
    a.on_snapshot(Arc::new(s));
    let Command::Chaos { settings, .. } = press(&mut a, "l").remove(0) else {
        panic!("l sends chaos")
    };
    assert_eq!(settings.latency_ms, 500, "from the engine's state (cleared elsewhere)");
    assert!(!settings.outage);
}

#[test]
fn a_refused_command_shows_why_and_its_chaos_is_not_the_next_base() {
    let mut a = app();
    let sent = press(&mut a, "1l").remove(0);
    a.on_answer(&sent, Err(Refusal::UnknownTier { tier: "aws-hot".into() }));
    let s = screen(&mut a, 160, 40);
    assert!(s.contains("refused: no tier named \"aws-hot\""), "{s}");
    // The next latency key starts again from what the engine shows (no latency), not from the
    // refused 500 ms.
    let Command::Chaos { settings, .. } = press(&mut a, "l").remove(0) else {
        panic!("l sends chaos")
    };
    assert_eq!(settings.latency_ms, 500);
    // The refusal stays until the next key; an accepted command shows its own status.
    a.on_answer(&Command::PauseMigrations, Ok(()));
    assert!(!screen(&mut a, 160, 40).contains("refused"));
}

#[test]
fn navigation_keys() {
    let mut a = app();
    press(&mut a, "j");
    let rows = a.heat_rows();
    assert_eq!(a.selected_index(&rows), 1);
    a.handle_key(code(KeyCode::Down));
    a.handle_key(code(KeyCode::Up));
    press(&mut a, "k");
    let rows = a.heat_rows();
    assert_eq!(a.selected_index(&rows), 0);
    a.handle_key(code(KeyCode::PageDown));
    let rows = a.heat_rows();
    assert_eq!(a.selected_index(&rows), 4, "PgDn clamps to the last row");
    a.handle_key(code(KeyCode::PageUp));
    let rows = a.heat_rows();
    assert_eq!(a.selected_index(&rows), 0);
}

#[test]
fn mouse_click_focuses_and_wheel_scrolls() {
    let mut a = app();
    screen(&mut a, 120, 40);
    let (_, queue) = *a.areas.iter().find(|(p, _)| *p == Pane::Queue).unwrap();
    let click = |kind, r: ratatui::layout::Rect| MouseEvent {
        kind,
        column: r.x + 2,
        row: r.y + 1,
        modifiers: KeyModifiers::NONE,
    };
    a.handle_mouse(click(MouseEventKind::Down(MouseButton::Left), queue));
    assert_eq!(a.focus, Pane::Queue);
    let (_, heat) = *a.areas.iter().find(|(p, _)| *p == Pane::Heat).unwrap();
    a.handle_mouse(click(MouseEventKind::ScrollDown, heat));
    assert_eq!(a.focus, Pane::Heat);
    let rows = a.heat_rows();
    assert_eq!(a.selected_index(&rows), 1);
}

#[test]
fn user_keymap_override_works() {
    let cfg = config::load_str(
        Some(std::path::Path::new("user.toml")),
        "[keymap]\nquit = [\"x\"]\npause_migrations = [\"q\"]\n",
    )
    .unwrap();
    let km = Keymap::new(&cfg.keymap).unwrap();
    let mut a = App::new(cfg, km, Theme::builtins(), 0);
    a.on_snapshot(Arc::new(fixture()));
    assert_eq!(press(&mut a, "q"), vec![Command::PauseMigrations], "q now pauses");
    assert!(!a.quit);
    assert_eq!(press(&mut a, "p"), vec![], "p lost its default binding");
    press(&mut a, "x");
    assert!(a.quit, "x quits");
    // The help screen shows the keys in force.
    let mut b = App::new(
        config::load_str(None, "").unwrap(),
        Keymap::new(&BTreeMap::from([("quit".to_string(), vec!["f10".to_string()])])).unwrap(),
        Theme::builtins(),
        0,
    );
    press(&mut b, "?");
    let s = screen(&mut b, 120, 40);
    assert!(s.contains("F10"), "{s}");
}

#[test]
fn invalid_keymaps_are_refused_with_file_and_line() {
    let bad = |text: &str| {
        config::load_str_with(Some(std::path::Path::new("dim.toml")), text, tui::CONFIG_CHECKS)
            .unwrap_err()
            .to_string()
    };
    let e = bad("[ui]\ntheme = \"default\"\n\n[keymap]\nqiut = [\"x\"]\n");
    assert!(e.starts_with("dim.toml:5"), "{e}");
    assert!(e.contains("unknown action \"qiut\""), "{e}");
    assert!(e.contains("did you mean \"quit\""), "{e}");
    let e = bad("[keymap]\nquit = [\"ctrl-\"]\n");
    assert!(e.starts_with("dim.toml:2"), "{e}");
    assert!(e.contains("is not a key"), "{e}");
    let e = bad("[keymap]\nquit = [\"z\"]\nhelp = [\"z\"]\n");
    assert!(e.contains("bound to both"), "{e}");
    let e = bad("[keymap]\nquit = \"q\"\n");
    assert!(e.starts_with("dim.toml:2"), "{e}");
}

#[test]
fn bad_themes_are_refused_with_file_line_and_field() {
    let e = Theme::from_toml("mine", "mine.toml", "[heat]\nhot = \"redd\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("mine.toml:2"), "{e}");
    assert!(e.contains("heat.hot"), "{e}");
    assert!(e.contains("did you mean \"red\""), "{e}");
    let e = Theme::from_toml("mine", "mine.toml", "[heat]\nhott = \"red\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("mine.toml:2"), "{e}");
    assert!(e.contains("hott"), "{e}");
    let e = Theme::from_toml("mine", "mine.toml", "[tiers]\ncolors = []\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("mine.toml:2"), "{e}");
    let e = Theme::from_toml("mine", "mine.toml", "[text\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("mine.toml:1"), "{e}");
    let e = Theme::load("gruvbx").unwrap_err().to_string();
    assert!(e.contains("did you mean \"gruvbox\""), "{e}");
    let e = config::load_str_with(
        Some(std::path::Path::new("dim.toml")),
        "[ui]\ntheme = \"nope\"\n",
        tui::CONFIG_CHECKS,
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("dim.toml:2"), "{e}");
    // A partial theme file is layered over the default: unspecified fields keep their values.
    let partial = Theme::from_toml("mine", "mine.toml", "[heat]\nhot = \"#ff0000\"\n").unwrap();
    let default = Theme::load("default").unwrap();
    assert_ne!(partial.hot(), default.hot());
    assert_eq!(partial.cold(), default.cold());
    assert_eq!(partial.border(true), default.border(true));
}
