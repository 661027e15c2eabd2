//! What a script sees of dim: printing commands end quietly when their reader goes away (`dim
//! catalog | head -1`): no panic, no backtrace; exit 0 or the usual SIGPIPE status, as every Unix tool
//! does; usage errors have an exit code of their own; the dashboard says when it has no terminal.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// Runs `dim ARGS` with its output going to a pipe whose reader is gone before dim writes (as
/// `head` is once it has its lines), and returns its exit and stderr.
fn into_a_closed_pipe(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read end at once: dim's first write finds nobody reading.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn printing_commands_end_quietly_on_a_closed_pipe() {
    for args in [
        &["catalog"][..],
        &["scenario", "figures"],
        &["catalog", "--json"],
        &["scenario", "list"],
    ] {
        let (status, err) = into_a_closed_pipe(args);
        assert!(
            status.success() || status.signal() == Some(libc::SIGPIPE),
            "{args:?}: {status:?}\n{err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

/// `dim status` on a store, and the daemon whose log reader went away (`dim --daemon | head`):
/// status ends as the others; the daemon stops cleanly (exit 0), without "Unable to write".
#[test]
fn status_and_the_daemon_end_quietly_on_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let seeded = Command::new(env!("CARGO_BIN_EXE_dim"))
        .args(["seed", "--objects", "5", "--data-dir", data])
        .output()
        .unwrap();
    assert!(seeded.status.success());
    let (status, err) = into_a_closed_pipe(&["status", "--data-dir", data]);
    assert!(
        status.success() || status.signal() == Some(libc::SIGPIPE),
        "{status:?}\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let started = std::time::Instant::now();
    let (status, err) = into_a_closed_pipe(&[
        "--daemon",
        "--metrics-listen",
        "off",
        "--data-dir",
        data,
        "--duration",
        "120",
    ]);
    assert!(status.success(), "{status:?}\n{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "stopped on its closed output, not at --duration"
    );
    assert!(!err.contains("Unable to write") && !err.contains("panicked"), "{err}");
}

/// A command line dim does not understand exits 64 (sysexits' EX_USAGE), apart from `dim
/// ctl`'s 2 for "no engine reachable"; help and version exit 0.
#[test]
fn usage_errors_have_their_own_exit_code() {
    let dim = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_dim")).args(args).output().unwrap();
    for args in [&["--no-such-flag"][..], &["ctl", "frobnicate"], &["replay"]] {
        let out = dim(args);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"), "{args:?}");
    }
    for args in [&["--help"][..], &["--version"], &["ctl", "--help"]] {
        assert_eq!(dim(args).status.code(), Some(0), "{args:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nobody.sock");
    let out = dim(&["ctl", "--socket", sock.to_str().unwrap(), "status"]);
    assert_eq!(out.status.code(), Some(2), "no engine: {out:?}");
}

/// Without a terminal (a service manager, a pipe), the dashboard and `dim attach` say so before
/// they touch the screen: no escape sequences, no panic, nothing written to the data directory.
#[test]
fn the_dashboard_and_attach_refuse_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&[][..], "no terminal: use --daemon, or run it in a terminal"),
        (&["attach"][..], "no terminal: dim attach draws the dashboard"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dim"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let (stdout, err) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !stdout.contains('\u{1b}') && !err.contains('\u{1b}'),
            "{args:?}: escape sequences"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
}

/// Seeding again, on another tier, adds new keys: the store then holds both seeds' objects,
/// each on the tier it was written to, and no key is on two tiers.
#[test]
fn a_second_seed_on_another_tier_adds_new_keys() {
    let dir = tempfile::tempdir().unwrap();
    let seed = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_dim"))
            .args(["seed", "--objects", "10"])
            .args(extra)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    seed(&[]);
    seed(&["--tier", "azure-cool"]);
    let mut keys = std::collections::BTreeMap::new();
    for tier in ["aws-hot", "azure-cool"] {
        let root = dir.path().join("tiers").join(tier);
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let key = p.strip_prefix(&root).unwrap().display().to_string();
                    assert!(keys.insert(key.clone(), tier).is_none(), "{key} on two tiers");
                }
            }
        }
    }
    assert_eq!(keys.len(), 20, "{keys:?}");
    let status = Command::new(env!("CARGO_BIN_EXE_dim"))
        .args(["status", "--json", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["objects"], 20, "{v}");
}

/// `dim ls` lists the store's objects sorted and cut to a page (saying how many there are in
/// all), one tier's when asked, as a table whose keys `dim explain` takes, or as JSON.
#[test]
fn ls_lists_sorts_and_pages_the_objects() {
    let dir = tempfile::tempdir().unwrap();
    let dim = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dim"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap()
    };
    assert!(dim(&["seed", "--objects", "10"]).status.success());
    assert!(
        dim(&["seed", "--objects", "5", "--tier", "azure-cool"])
            .status
            .success()
    );

    let out = dim(&["ls", "--sort", "size", "--limit", "3", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 3);
    let sizes: Vec<u64> = rows.iter().map(|r| r["size"].as_u64().unwrap()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first: {sizes:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 of 15 objects shown"));

    // The order is spelt as clap spells it and as its column is named.
    for spelling in ["p-hot", "p_hot"] {
        let out = dim(&["ls", "--sort", spelling, "--json"]);
        assert!(
            out.status.success(),
            "{spelling}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let p: Vec<f64> = rows.iter().map(|r| r["p_hot"].as_f64().unwrap()).collect();
        assert!(p.windows(2).all(|w| w[0] >= w[1]), "highest p_hot first: {p:?}");
    }

    let out = dim(&["ls", "--tier", "azure-cool", "--limit", "0", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["tier"] == "azure-cool"), "{rows:?}");
    assert!(out.stderr.is_empty(), "all shown: no note");

    let out = dim(&["ls"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().contains("P_HOT"), "{text}");
    assert_eq!(lines.clone().count(), 15, "{text}");
    let key = lines.next().unwrap().split_whitespace().last().unwrap().to_string();
    assert!(dim(&["explain", &key]).status.success(), "ls's key {key} explained");

    let out = dim(&["ls", "--tier", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tier \"nope\""));
}

/// What failing commands print is in a person's words: what failed, where, what to do; never
/// Rust's Debug forms (`Some(…)`, `Os { … }`, `DispatchFailure`, `struct TextColors`, `u64`).
#[test]
fn failing_commands_say_what_failed_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let unreachable_s3 = write(
        "s3.toml",
        "[[tiers]]\nname = \"remote\"\nprovider = \"aws\"\nbackend = \"s3\"\nendpoint = \"http://127.0.0.1:1\"\n\
         bucket = \"b\"\nregion = \"us-east-1\"\naccess_key_env = \"DIM_TEST_KEY\"\nsecret_key_env = \"DIM_TEST_SECRET\"\n\
         class = \"aws:s3-standard\"\n\n[events.embedded]\nlanding_tier = \"remote\"\n",
    );
    let bad_type = write("types.toml", "[ui]\nframe_gap_ms = \"fast\"\n");
    let bare_tier = write("tier.toml", "[[tiers]]\nname = \"only\"\n");
    let bad_theme = write("theme.toml", "text = 5\n");
    let data = dir.path().join("data").display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--config",
                &unreachable_s3,
                "seed",
                "--objects",
                "1",
                "--data-dir",
                &data,
            ],
            "no answer from http://127.0.0.1:1",
        ),
        (
            vec!["--config", &bad_type, "status"],
            "expected a whole number (0 or more)",
        ),
        (
            vec!["--config", &bare_tier, "status"],
            "this tier lacks backend, storage_gb_month, latency_ms",
        ),
        (vec!["attach", "--theme", &bad_theme], "expected a table of settings"),
        (vec!["explain", "nothing", "--data-dir", &data], "no dim store at"),
    ];
    for (args, says) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_dim"))
            .args(&args)
            .env("DIM_TEST_KEY", "k")
            .env("DIM_TEST_SECRET", "s")
            .env("AWS_MAX_ATTEMPTS", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(err.contains(says), "{args:?}: wanted {says:?} in\n{err}");
        for debug in ["Some(", "{ ", "Os {", "DispatchFailure", "struct ", "u64", "Error {"] {
            assert!(!err.contains(debug), "{args:?}: Rust's {debug:?} in\n{err}");
        }
        assert!(err.len() < 1200, "{args:?}: {} characters\n{err}", err.len());
    }
}
