//! Scenarios end to end: every shipped scenario passes its own expectations in `dim --daemon`; a
//! failing one exits 1 naming the expectation and its actual value; chaos-storm also runs
//! against the real S3 server and Kafka broker started by scripts/test.sh.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use common::{DIM, kafka_env, s3_env, s3_tier};
use data_in_motion::config::{self, SourceKind};
use data_in_motion::engine::clock::wall_now_ms;
use data_in_motion::engine::tiers::ObjectStore;
use data_in_motion::s3::S3Tier;

/// Runs `dim --daemon --scenario SPEC` on a fresh data directory and returns its output.
fn play(spec: &str, data_dir: &Path, extra: &[&str]) -> Output {
    let started = Instant::now();
    let out = Command::new(DIM)
        .args(["--daemon", "--scenario", spec, "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    eprintln!("{spec}: {:.1} s wall", started.elapsed().as_secs_f64());
    out
}

/// The report `dim` printed at the end (everything from the `scenario NAME (` line on).
fn report(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.find("\nscenario ") {
        Some(i) => stdout[i + 1..].to_string(),
        None => panic!(
            "no report in the output\nstdout tail: {}\nstderr: {}",
            stdout
                .chars()
                .rev()
                .take(3000)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>(),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn shipped_passes(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = play(name, dir.path(), &[]);
    let r = report(&out);
    eprintln!("{r}");
    assert!(out.status.success(), "{name} failed:\n{r}");
    assert!(!r.contains("FAIL"), "{r}");
    assert!(r.contains("expectations hold"), "{r}");
}

#[test]
fn demo() {
    shipped_passes("demo");
}

#[test]
fn steady_zipf() {
    shipped_passes("steady-zipf");
}

#[test]
fn flash_crowd() {
    shipped_passes("flash-crowd");
}

#[test]
fn chaos_storm() {
    shipped_passes("chaos-storm");
}

#[test]
fn provider_outage() {
    shipped_passes("provider-outage");
}

#[test]
fn growing_files() {
    shipped_passes("growing-files");
}

#[test]
fn cost_squeeze() {
    shipped_passes("cost-squeeze");
}

/// The storage-classes scenario on the shipped config/aws-classes.toml (the same tiers its
/// [config] carries): every move within one provider, priced by the catalog.
#[test]
fn storage_classes_on_the_shipped_class_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/aws-classes.toml");
    let out = play("storage-classes", dir.path(), &["--config", cfg.to_str().unwrap()]);
    let r = report(&out);
    eprintln!("{r}");
    assert!(out.status.success(), "storage-classes failed:\n{r}");
    assert!(!r.contains("FAIL") && r.contains("expectations hold"), "{r}");
}

#[test]
fn a_failing_expectation_exits_1_and_the_report_names_it_with_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("impossible.toml");
    std::fs::write(
        &file,
        r#"# Cannot pass: a million moves in three engine hours.
name = "impossible"
duration = "3h"
speed = 3600
expect = [
  "events.ingested >= 1",
  "migrations.done >= 1000000",
]

[config]
events.embedded.seed_objects = 200
events.embedded.seed_total_bytes = 5_000_000
"#,
    )
    .unwrap();
    let out = play(file.to_str().unwrap(), &dir.path().join("data"), &[]);
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r}");
    assert!(r.contains("1/2 expectations hold"), "{r}");
    let fail = r.lines().find(|l| l.contains("FAIL")).unwrap_or_default();
    assert!(fail.contains("migrations.done >= 1000000"), "{r}");
    assert!(fail.contains("actual "), "{r}");
    assert!(fail.contains("(line 7)"), "{r}");
    assert!(
        r.lines()
            .any(|l| l.contains("PASS") && l.contains("events.ingested >= 1")),
        "{r}"
    );

    // The same with JSON logs: the last line is the report as JSON.
    let out = play(
        file.to_str().unwrap(),
        &dir.path().join("data2"),
        &["--log-format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["passed"], false);
    let results = last["scenario_report"]["results"].as_array().unwrap();
    assert_eq!(results[1]["text"], "migrations.done >= 1000000");
    assert_eq!(results[1]["ok"], false);
    assert!(results[1]["actual"].is_number());
}

#[test]
fn an_invalid_scenario_is_refused_at_start_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "name = \"bad\"\nduration = \"1h\"\n\n[[step]]\nat = \"2h\"\ndo = \"optimize\"\n",
    )
    .unwrap();
    let out = play(file.to_str().unwrap(), &dir.path().join("data"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid scenario"), "{err}");
    assert!(err.contains("bad.toml:5:"), "{err}");
    assert!(err.contains("after the scenario ends"), "{err}");
    assert!(!dir.path().join("data").exists(), "nothing ran");
    let out = Command::new(DIM)
        .args(["scenario", "check", "chaos-strom"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `chaos-storm`?"));
}

#[test]
fn scenario_list_check_and_figures() {
    let out = Command::new(DIM).args(["scenario", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for (name, _) in data_in_motion::engine::scenario::library::SHIPPED {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    let out = Command::new(DIM)
        .args(["scenario", "check", "chaos-storm"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("scenarios/chaos-storm.toml: ok"), "{text}");
    assert!(text.contains("chaos gcp-archive: 30% slow_down, +500 ms"), "{text}");
    let out = Command::new(DIM).args(["scenario", "figures"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("migrations.deferred_growing") && text.contains("hot_share"),
        "{text}"
    );
}

/// chaos-storm against real services: three buckets on the S3 server, events from the Kafka
/// broker (produced by `dim simulate` for objects `dim seed` put on the fast tier).
#[ignore = "needs the test services (scripts/test.sh)"]
#[test]
fn chaos_storm_on_s3_and_kafka() {
    let test = "chaos_storm_on_s3_and_kafka";
    let (env, brokers) = (s3_env(test), kafka_env(test));
    let dir = tempfile::tempdir().unwrap();
    let run = format!("{}-{}", std::process::id(), wall_now_ms() % 1_000_000_000);
    let mut cfg = config::load(None).unwrap();
    cfg.events.source = SourceKind::Kafka;
    cfg.events.brokers = vec![brokers];
    cfg.events.topic = format!("dim-test-storm-{run}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    for t in &mut cfg.tiers {
        let s3 = s3_tier(&env, &t.name, &format!("dim-storm-{}-{run}", t.name));
        t.backend = s3.backend;
        t.endpoint = s3.endpoint;
        t.bucket = s3.bucket;
        t.region = s3.region;
        t.access_key_env = s3.access_key_env;
        t.secret_key_env = s3.secret_key_env;
        rt.block_on(async { S3Tier::new(t, &cfg.migrator).unwrap().create_bucket().await.unwrap() });
    }
    let cfg_file = dir.path().join("storm.toml");
    std::fs::write(&cfg_file, toml::to_string(&cfg).unwrap()).unwrap();
    let data = dir.path().join("data");
    let dim = |args: &[&str]| {
        let out = Command::new(DIM)
            .arg("-c")
            .arg(&cfg_file)
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dim {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    dim(&["seed", "--objects", "300", "--total-size", "30MB", "--tier", "aws-hot"]);
    let sent = dim(&["simulate", "--events", "20000", "--rate", "0"]);
    assert!(sent.contains("sent 20000 events"), "{sent}");

    let out = play("chaos-storm", &data, &["-c", cfg_file.to_str().unwrap()]);
    let r = report(&out);
    eprintln!("{r}");
    assert!(out.status.success(), "chaos-storm on S3 and Kafka failed:\n{r}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("source=connected"),
        "the Kafka source never reported connected"
    );
    // Every object the seed wrote still carries what it was written with, wherever the storm
    // moved it.
    let tiers = data_in_motion::tiers::build(&cfg, &data).unwrap();
    let checked = rt.block_on(async {
        let mut n = 0;
        for t in tiers.values() {
            for (key, _) in t.list("").await.unwrap() {
                let mut kept = t.attributes(&key, None).await.unwrap();
                kept.user.remove("mtime");
                let want = data_in_motion::cmd::seed::seed_attributes(&key);
                assert!(want.same_as(&kept), "{key} on {}: {kept:?}", t.tier());
                n += 1;
            }
        }
        n
    });
    assert_eq!(checked, 300, "every seeded object checked once");
}
