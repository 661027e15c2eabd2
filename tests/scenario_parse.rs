//! Scenario files: every shipped one is valid, and every validation error names file:line, what
//! is wrong and what to do (a near-miss suggestion where there is one).

use data_in_motion::config::{self, Config};
use data_in_motion::engine::command::Command;
use data_in_motion::engine::scenario::{OLD_KINDS, Scenario, kinds, library};

fn base() -> Config {
    config::load(None).unwrap()
}

const HEADER: &str = "name = \"t\"\nduration = \"10h\"\n";

/// The error text for `body` (after a valid header), as `dim` prints it.
fn error(body: &str) -> String {
    let text = format!("{HEADER}{body}");
    match Scenario::load("t.toml", &text, &base()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn assert_error(body: &str, line: usize, message: &str, help: &str) {
    let e = error(body);
    assert!(e.starts_with(&format!("t.toml:{line}:")), "wrong place: {e}");
    assert!(e.contains(message), "message {message:?} not in: {e}");
    assert!(e.contains(help), "help {help:?} not in: {e}");
}

#[test]
fn every_shipped_scenario_is_valid_and_says_what_it_shows() {
    let names: Vec<&str> = library::SHIPPED.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "demo",
            "steady-zipf",
            "flash-crowd",
            "chaos-storm",
            "provider-outage",
            "growing-files",
            "cost-squeeze",
            "storage-classes"
        ]
    );
    for (name, text) in library::SHIPPED {
        let (sc, cfg) = Scenario::load(name, text, &base()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&sc.name, name);
        assert!(!sc.expects.is_empty(), "{name} has no expectations");
        assert!(
            library::blurb(text).len() > 60,
            "{name} has no comment block saying what it shows"
        );
        // Each fits in a minute of wall time on its clock (seeding comes on top).
        assert!(
            sc.duration_ms as f64 / 1000.0 / cfg.clock.speed <= 45.0,
            "{name} is too long"
        );
        // The file on disk is what the binary ships.
        let disk = std::fs::read_to_string(format!("scenarios/{name}.toml")).unwrap();
        assert_eq!(&disk, text);
    }
}

#[test]
fn a_scenario_reads_into_timed_commands_and_expectations() {
    let text = r#"
name = "storm"
description = "d"
duration = "2h"
speed = 600
seed = 9
capacity = { aws-hot = "50MB" }
expect = ["retries >= 1", { that = "migrations.failed == 0", at = "90m" }]

[config]
optimizer.interval_secs = 3

[[step]]
at = "90m"
do = "chaos"
tier = "azure-cool"
error_rate = 30
latency_ms = 2000

[[step]]
at = "15m"
do = "flash_crowd"
objects = 4
"#;
    let (sc, cfg) = Scenario::load("s.toml", text, &base()).unwrap();
    assert_eq!(sc.duration_ms, 2 * 3600 * 1000);
    assert_eq!(cfg.clock.speed, 600.0);
    assert_eq!(cfg.events.embedded.seed, 9);
    assert_eq!(cfg.optimizer.interval_secs, 3);
    assert_eq!(cfg.tier("aws-hot").unwrap().capacity_bytes(), Some(50_000_000));
    // In firing order, with their lines.
    assert_eq!(sc.steps[0].at_ms, 15 * 60 * 1000);
    assert_eq!(sc.steps[0].command, Command::FlashCrowd { objects: 4 });
    assert_eq!(sc.steps[0].line, 20);
    let Command::Chaos { tier, settings } = &sc.steps[1].command else {
        panic!("{:?}", sc.steps[1].command)
    };
    assert_eq!(tier, "azure-cool");
    assert_eq!((settings.error_rate, settings.latency_ms), (30.0, 2000));
    assert_eq!(
        settings.error_kind,
        Some(config::InjectedError::SlowDown),
        "the config's default kind"
    );
    assert_eq!(sc.steps[1].describe(), "chaos azure-cool: 30% slow_down, +2000 ms");
    assert_eq!(sc.expects[0].at_ms, None);
    assert_eq!(sc.expects[1].at_ms, Some(90 * 60 * 1000));
    assert_eq!(sc.expects[1].line, 8);
}

#[test]
fn a_step_is_spelt_as_its_command_and_the_old_spellings_still_read() {
    // Every step of every shipped scenario names the command it sends as JSON does.
    for (name, text) in library::SHIPPED {
        let (sc, _) = Scenario::load(name, text, &base()).unwrap();
        for step in &sc.steps {
            let json = serde_json::to_value(&step.command).unwrap();
            assert_eq!(json["command"], step.kind.as_str(), "{name}: {step:?}");
        }
    }
    for (old, name) in OLD_KINDS {
        assert!(kinds().any(|k| k.0 == *name), "{name} is a step kind");
        assert!(!kinds().any(|k| k.0 == *old), "{old} is only an old spelling");
    }
    let old = "name = \"old\"\nduration = \"2h\"\n\n[[step]]\nat = \"1h\"\ndo = \"rate\"\nper_sec = 50\n\n[[step]]\nat = \"1h\"\ndo = \"optimize\"\n\n[[expect]]\nthat = \"events.ingested >= 0\"\n";
    let (sc, _) = Scenario::load("old.toml", old, &base()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.steps[0].command, Command::SetEventRate { per_sec: 50.0 });
    assert_eq!(sc.steps[0].kind, "set_event_rate");
    assert_eq!(sc.steps[1].command, Command::OptimizeNow);
}

#[test]
fn unknown_step_kinds_are_refused_with_a_suggestion() {
    assert_error(
        "[[step]]\nat = \"1h\"\ndo = \"chaoss\"\ntier = \"aws-hot\"\n",
        5,
        "`step[0].do`: unknown step `chaoss`",
        "did you mean `chaos`?",
    );
    assert_error("[[step]]\nat = \"1h\"\n", 3, "the step has no `do`", "");
}

#[test]
fn unknown_tiers_are_refused_with_a_suggestion() {
    assert_error(
        "[[step]]\nat = \"1h\"\ndo = \"chaos\"\ntier = \"azure-cold\"\noutage = true\n",
        6,
        "unknown tier `azure-cold`",
        "did you mean `azure-cool`?",
    );
    assert_error(
        "capacity = { aws-hto = \"1MB\" }\n",
        3,
        "unknown tier `aws-hto`",
        "did you mean `aws-hot`?",
    );
}

#[test]
fn times_beyond_the_duration_are_refused() {
    assert_error(
        "[[step]]\nat = \"11h\"\ndo = \"optimize\"\n",
        4,
        "the step is at 11h, after the scenario ends (10h)",
        "move it earlier or make `duration` longer",
    );
    assert_error(
        "expect = [{ that = \"retries >= 1\", at = \"12h\" }]\n",
        3,
        "the expectation is at 12h, after the scenario ends (10h)",
        "",
    );
    assert_error(
        "[[step]]\nat = \"soon\"\ndo = \"optimize\"\n",
        4,
        "`soon` is not a duration",
        "\"90s\", \"15m\", \"2h\"",
    );
}

#[test]
fn bad_expressions_are_refused_with_a_suggestion() {
    assert_error(
        "expect = [\"migrations.don >= 50\"]\n",
        3,
        "unknown figure `migrations.don`",
        "did you mean `migrations.done`?",
    );
    assert_error(
        "expect = [\n  \"retries >= 1\",\n  \"tier.aws-hto.hot_share >= 0.8\",\n]\n",
        5,
        "unknown tier `aws-hto` in `tier.aws-hto.hot_share`",
        "did you mean `aws-hot`?",
    );
    assert_error(
        "expect = [\"retries 3\"]\n",
        3,
        "`retries 3` has no comparison",
        ">= <= == != > <",
    );
    assert_error("expect = [\"retries >= lots\"]\n", 3, "unknown figure `lots`", "");
    assert_error(
        "expect = [{ that = \"objects.lost == 0\", at = \"5h\" }]\n",
        3,
        "is measured at the end only",
        "leave `at` out",
    );
}

#[test]
fn unknown_fields_and_bad_values_are_refused() {
    assert_error(
        "durration = \"1h\"\n",
        3,
        "unknown field `durration` in a scenario",
        "did you mean `duration`?",
    );
    assert_error(
        "[[step]]\nat = \"1h\"\ndo = \"grow\"\nobjects = 2\nfro = \"1h\"\n",
        7,
        "unknown field `fro` for a `grow` step",
        "did you mean `for`?",
    );
    assert_error(
        "[[step]]\nat = \"1h\"\ndo = \"chaos\"\ntier = \"aws-hot\"\nerror_kind = \"slowdown\"\n",
        7,
        "unknown error kind `slowdown`",
        "did you mean `slow_down`?",
    );
    assert_error(
        "[[step]]\nat = \"1h\"\ndo = \"chaos\"\ntier = \"aws-hot\"\nerror_rate = 130\n",
        7,
        "the error rate is a percentage, got 130",
        "between 0 and 100",
    );
    assert_error(
        "[[step]]\nat = \"1h\"\ndo = \"grow\"\nobjects = 2\n",
        3,
        "a `grow` step needs `for`",
        "",
    );
    assert_error(
        "[[step]]\nat = \"1h\"\ndo = \"capacity\"\ntier = \"aws-hot\"\nsize = \"lots\"\n",
        7,
        "`lots` is not a size",
        "50MB",
    );
    assert_error("speed = 0\n", 3, "the clock speed must be above 0", "");
}

#[test]
fn the_header_is_required_and_syntax_errors_have_a_line() {
    let e = Scenario::load("t.toml", "duration = \"1h\"\n", &base())
        .unwrap_err()
        .to_string();
    assert!(e.contains("the scenario has no `name`"), "{e}");
    let e = Scenario::load("t.toml", "name = \"x\"\n", &base())
        .unwrap_err()
        .to_string();
    assert!(e.contains("the scenario has no `duration`"), "{e}");
    let e = Scenario::load("t.toml", "name = \"x\"\nduration = \"1h\"\n[[step]\n", &base())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("t.toml:3:"), "{e}");
}

#[test]
fn config_overrides_are_validated_where_they_are_written() {
    assert_error(
        "\n[config]\noptimizer.interval_secs = \"often\"\n",
        5,
        "`config.optimizer.interval_secs`",
        "",
    );
    assert_error(
        "\n[config]\nsla.hot_threshold = 3.0\n",
        5,
        "must be between 0 and 1",
        "",
    );
}

#[test]
fn workload_steps_are_refused_when_events_come_from_kafka() {
    let mut cfg = base();
    cfg.events.source = config::SourceKind::Kafka;
    let text = format!("{HEADER}[[step]]\nat = \"1h\"\ndo = \"flash_crowd\"\n");
    let e = Scenario::load("t.toml", &text, &cfg).unwrap_err().to_string();
    assert!(e.starts_with("t.toml:5:"), "{e}");
    assert!(
        e.contains("drives the embedded workload generator, but events.source = \"kafka\""),
        "{e}"
    );
    assert!(e.contains("dim simulate"), "{e}");
    // Chaos and the rest are fine.
    let text = format!("{HEADER}[[step]]\nat = \"1h\"\ndo = \"chaos\"\ntier = \"aws-hot\"\noutage = true\n");
    assert!(Scenario::load("t.toml", &text, &cfg).is_ok());
}

#[test]
fn a_scenario_is_found_by_name_or_path() {
    let (file, text) = library::resolve("chaos-storm").unwrap();
    assert_eq!(file, "scenarios/chaos-storm.toml");
    assert!(text.contains("name = \"chaos-storm\""));
    assert_eq!(
        library::resolve("chaos-storm.toml").unwrap().0,
        "scenarios/chaos-storm.toml"
    );
    let e = library::resolve("chaos-strom").unwrap_err();
    assert!(e.to_string().contains("did you mean `chaos-storm`?"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mine.toml");
    std::fs::write(&p, "name = \"mine\"\nduration = \"1h\"\n").unwrap();
    let (file, _) = library::resolve(p.to_str().unwrap()).unwrap();
    assert_eq!(file, p.to_str().unwrap());
}
