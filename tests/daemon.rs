//! The `dim` binary end to end: help, bad config, daemon runs, status, JSON logs, SIGTERM mid-ingest, and the scale and optimize benches.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod common;

use common::{DIM, fixture, status};

#[test]
fn help_lists_modes_options_and_subcommands() {
    let out = Command::new(DIM).arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for want in ["--daemon", "--config", "--data-dir", "--duration", "status", "bench"] {
        assert!(text.contains(want), "--help lacks {want}:\n{text}");
    }
}

#[test]
fn bad_config_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[[tiers]]\nname = \"x\"\nbackend = \"local\"\nstorage_gb_month = 0.01\nlatency_ms = 10\ncapacity_gb = 0\n",
    )
    .unwrap();
    let out = Command::new(DIM)
        .arg("--daemon")
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("d"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:6:") && err.contains("capacity_gb"), "{err}");
    assert!(
        !dir.path().join("d").exists(),
        "nothing is created for a refused config"
    );
}

#[test]
fn status_on_a_missing_store_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(DIM)
        .args(["status", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no dim store") && err.contains("dim --daemon"), "{err}");
}

#[test]
fn daemon_runs_for_duration_and_status_reports() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let out = Command::new(DIM)
        .args([
            "--daemon",
            "--duration",
            "4",
            "--config",
            &fixture("fast.toml"),
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let files = walk(&data.join("tiers"));
    assert!(files >= 200, "seeded objects are real files: {files}");

    let s = status(&data);
    assert_eq!(s["objects"].as_u64(), Some(200));
    assert!(s["bytes"].as_u64().unwrap() > 0);
    assert_eq!(s["tiers"]["aws-hot"]["objects"].as_u64(), Some(200));
    assert!(s["events"]["ingested"].as_u64().unwrap() > 0);
    assert_eq!(s["events"]["rejected"].as_u64(), Some(0));
    assert!(s["tasks"].is_object() && s["tasks"]["pending"].as_u64().is_some());
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn json_logs_parse_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(DIM)
        .args([
            "--daemon",
            "--duration",
            "2",
            "--log-format",
            "json",
            "--config",
            &fixture("fast.toml"),
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut n = 0;
    let mut with_fields = 0;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["target"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        assert!(v["message"].is_string(), "{line}");
        // Structured fields sit beside the message, one key each.
        let base = ["timestamp", "level", "message", "target"];
        with_fields += usize::from(v.as_object().unwrap().keys().any(|k| !base.contains(&k.as_str())));
        n += 1;
    }
    assert!(n >= 3, "expected log lines, got {n}");
    assert!(with_fields >= 1, "no line carries structured fields beyond the message");
}

/// After a daemon run on the embedded workload, `dim explain KEY --json` explains a placed object.
#[test]
fn explain_after_a_daemon_run() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("brain.toml");
    std::fs::write(
        &cfg,
        format!(
            "{}\n[model]\nretrain_every_secs = 4\n\n[optimizer]\ninterval_secs = 4\n",
            std::fs::read_to_string(fixture("fast.toml")).unwrap()
        ),
    )
    .unwrap();
    let out = Command::new(DIM)
        .args(["--daemon", "--duration", "12", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stdout);
    // A fresh store is one line, not one per schema step.
    assert_eq!(log.matches("store created").count(), 1, "{log}");
    assert!(!log.contains("schema step"), "{log}");
    assert!(log.contains("placement planned"), "the optimizer ran:\n{log}");
    assert!(
        log.contains("model trained") || log.contains("training failed"),
        "the trainer ran:\n{log}"
    );
    let conn = data_in_motion::engine::store::open_reader(&dir.path().join("dim.db")).unwrap();
    let key: String = conn
        .as_sqlite()
        .unwrap()
        .query_row(
            "SELECT key FROM objects WHERE tier IS NOT NULL ORDER BY h1 DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let out = Command::new(DIM)
        .args(["explain", &key, "--json", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["key"].as_str(), Some(key.as_str()));
    let p = e["p_hot"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert!(e["model"]["serving"].is_string());
    assert_eq!(e["features"].as_array().unwrap().len(), 13);
    let costs = e["costs"].as_array().unwrap();
    assert_eq!(costs.len(), 3);
    for c in costs {
        for part in ["storage", "requests", "retrieval", "migration", "total"] {
            assert!(c[part].as_f64().is_some(), "{part} in {c}");
        }
    }
    assert!(e["chosen"].is_string());
    // An unknown key is a clear error.
    let out = Command::new(DIM)
        .args(["explain", "no/such/key", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no object"));
}

/// Runs `dim ARGS --json` and reads what it printed.
fn bench_json(args: &[&str]) -> Value {
    let out = Command::new(DIM).args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `dim bench scale` runs every stage on a small store: the objects registered and found by
/// status, the events ingested, a plan, the engine started twice, snapshots and frames timed.
#[test]
fn bench_scale_measures_every_stage() {
    let r = bench_json(&["bench", "scale", "--objects", "3000", "--events", "20000"]);
    assert_eq!(r["objects"], 3000);
    assert_eq!(r["events"], 20000);
    for stage in [
        "register_per_sec",
        "ingest_events_per_sec",
        "plan_secs",
        "start_to_ready_secs",
        "restart_to_ready_secs",
        "snapshot_ms_p99",
        "frame_ms_p99",
        "disk_bytes_per_object",
    ] {
        let v = r[stage].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "{stage} = {v}: {r}");
    }
    assert!(r["plan_candidates"].as_u64().unwrap() <= 3000, "{r}");
    // The training stage: history snapshots over five horizons, a model trained on them (on
    // samples: not turned down for want of them), and ingest beside trainings.
    let t = &r["training"];
    assert_eq!(t["snapshots"], 31, "{t}");
    assert!(t["snapshot_rows"].as_u64().unwrap() > 0, "{t}");
    assert!(t["train_samples"].as_u64().unwrap() > 0, "{t}");
    for f in [
        "train_secs",
        "ingest_alone_events_per_sec",
        "ingest_training_events_per_sec",
        "ingest_ratio",
    ] {
        let v = t[f].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "{f} = {v}: {t}");
    }
    // Alone and beside trainings alternate, two runs each, every run reported.
    for runs in ["ingest_alone_runs", "ingest_training_runs"] {
        let v = t[runs].as_array().unwrap();
        assert_eq!(v.len(), 2, "{runs}: {t}");
        assert!(v.iter().all(|x| x.as_f64().is_some_and(|x| x > 0.0)), "{runs}: {t}");
    }
}

/// `dim bench optimize` measures the plan against the LP bound, or with `--no-bound` only the
/// planner (no LP solved, no gap without a bound of the solver's own).
#[test]
fn bench_optimize_reports_the_bound_unless_told_not_to() {
    let r = bench_json(&["bench", "optimize", "--objects", "5000"]);
    let (objective, lp) = (r["objective"].as_f64().unwrap(), r["lp_bound"].as_f64().unwrap());
    assert!(lp <= objective * (1.0 + 1e-9), "{r}");
    assert!(r["gap"].as_f64().unwrap() <= 0.005, "{r}");
    assert_eq!(r["solver"], "highs");
    let r = bench_json(&["bench", "optimize", "--objects", "5000", "--no-bound"]);
    assert!(
        r["lp_bound"].is_null() && r["lp_secs"].is_null() && r["gap"].is_null(),
        "{r}"
    );
    assert!(r["solve_secs"].as_f64().unwrap() > 0.0, "{r}");
}
