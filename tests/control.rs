//! The control API of a running `dim --daemon`, driven by a client in the same test: every
//! Command answered and its effect seen in the next snapshots, refusals as errors, the snapshot
//! stream, the owner-only socket, the bearer token on TCP, no secret in any answer, and `dim ctl`
//! with its exit codes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::DIM;
use data_in_motion::control::client::{Answer, Endpoint};
use hyper::http::Method;
use serde_json::{Value, json};

/// A daemon on its own data directory, its stdout collected.
struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
    dir: tempfile::TempDir,
}

impl Daemon {
    fn start(config: Option<&str>, env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Process::new(DIM);
        cmd.args(["--daemon", "--metrics-listen", "off", "--data-dir"])
            .arg(dir.path().join("data"));
        if let Some(text) = config {
            let file = dir.path().join("dim.toml");
            std::fs::write(&file, text).unwrap();
            cmd.arg("--config").arg(&file);
        }
        let mut child = cmd
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let log = common::collect_stdout(&mut child);
        let d = Daemon { child, log, dir };
        let started = Instant::now();
        while !d.socket().exists() {
            assert!(started.elapsed() < Duration::from_secs(60), "no socket:\n{}", d.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket(&self) -> PathBuf {
        self.data_dir().join("dim.sock")
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn stop(mut self) -> Option<i32> {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().unwrap().code()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn call(ep: &Endpoint, method: Method, path: &str, body: Value) -> Answer {
    let body = if body.is_null() {
        Vec::new()
    } else {
        serde_json::to_vec(&body).unwrap()
    };
    rt().block_on(ep.call(method, path, body)).unwrap()
}

fn snapshot(ep: &Endpoint) -> Value {
    let a = call(ep, Method::GET, "/v1/snapshot", Value::Null);
    assert_eq!(a.status, 200);
    a.json()
}

/// Polls the snapshot until `ok` holds (60 s at most).
fn wait_for(ep: &Endpoint, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let s = snapshot(ep);
        if ok(&s) {
            return s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} never showed; last snapshot:\n{s:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sends a command; 200 and accepted, or the test fails with what the engine said.
fn accepted(ep: &Endpoint, cmd: Value) {
    let a = call(ep, Method::POST, "/v1/commands", cmd.clone());
    assert_eq!(a.status, 200, "{cmd} was not accepted: {}", a.json());
    assert_eq!(a.json()["accepted"], true);
}

/// Sends a command that must be refused with `reason` (409 and the reason's text).
fn refused(ep: &Endpoint, cmd: Value, reason: &str) -> Value {
    let a = call(ep, Method::POST, "/v1/commands", cmd.clone());
    let j = a.json();
    assert_eq!(a.status, 409, "{cmd}: {j}");
    assert_eq!(j["accepted"], false);
    assert_eq!(j["refusal"]["reason"], reason, "{j}");
    assert!(!j["error"].as_str().unwrap().is_empty());
    j
}

#[test]
fn every_command_is_answered_and_its_effect_shows_in_the_snapshots() {
    let d = Daemon::start(None, &[]);
    let ep = Endpoint::Socket(d.socket());
    let s = wait_for(&ep, "objects and a running source", |s| {
        s["source"]["state"] == "running" && !s["hottest"].as_array().unwrap().is_empty()
    });
    let key = s["hottest"][0]["key"].as_str().unwrap().to_string();
    let tier = s["hottest"][0]["tier"].as_str().unwrap().to_string();
    let other = s["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .find(|n| *n != tier)
        .unwrap();

    accepted(&ep, json!({"command": "set_event_rate", "per_sec": 321.0}));
    wait_for(&ep, "rate 321", |s| s["workload"]["rate"] == 321.0);
    accepted(&ep, json!({"command": "set_skew", "skew": 1.3}));
    wait_for(&ep, "skew 1.3", |s| s["workload"]["skew"] == 1.3);
    accepted(&ep, json!({"command": "flash_crowd", "objects": 2}));
    wait_for(&ep, "a flash crowd", |s| s["workload"]["flash_key"].is_string());
    accepted(
        &ep,
        json!({"command": "grow_objects", "objects": 1, "engine_secs": 36000}),
    );
    wait_for(&ep, "a growing object", |s| {
        !s["workload"]["growing"].as_array().unwrap().is_empty()
    });
    let before = snapshot(&ep)["store"]["events"]["ingested"].as_u64().unwrap();
    accepted(&ep, json!({"command": "put_burst", "objects": 5}));
    wait_for(&ep, "the burst ingested", |s| {
        s["store"]["events"]["ingested"].as_u64().unwrap() >= before + 5
    });
    accepted(
        &ep,
        json!({"command": "set_capacity", "tier": other, "bytes": 123_456_789}),
    );
    wait_for(&ep, "the new capacity", |s| {
        s["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == other.as_str() && t["capacity_bytes"] == 123_456_789)
    });
    accepted(
        &ep,
        json!({"command": "chaos", "tier": other, "settings": {"latency_ms": 250, "jitter_ms": 0, "error_rate": 0.0, "error_kind": null, "outage": false, "bandwidth_bps": null}}),
    );
    wait_for(&ep, "chaos on the tier", |s| {
        s["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == other.as_str() && t["chaos"]["latency_ms"] == 250)
    });
    accepted(&ep, json!({"command": "chaos_clear", "tier": null}));
    wait_for(&ep, "chaos cleared", |s| {
        s["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["chaos"]["latency_ms"] == 0)
    });
    accepted(&ep, json!({"command": "pause_migrations"}));
    wait_for(&ep, "paused", |s| s["migrations"]["paused"] == true);
    accepted(&ep, json!({"command": "pin", "key": key, "pinned": true}));
    accepted(&ep, json!({"command": "inspect", "key": key}));
    wait_for(&ep, "the object pinned, and its detail", |s| {
        s["detail"]["key"] == key.as_str()
            && s["hottest"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["key"] == key.as_str() && o["pinned"] == true)
    });
    accepted(&ep, json!({"command": "pin", "key": key, "pinned": false}));
    accepted(&ep, json!({"command": "migrate_now", "key": key, "tier": other}));
    wait_for(&ep, "the manual move queued", |s| {
        let t = &s["store"]["tasks"];
        t["pending"].as_u64().unwrap_or(0) + t["deferred"].as_u64().unwrap_or(0) >= 1
    });
    let pending = call(&ep, Method::GET, "/v1/tasks?state=pending", Value::Null).json();
    let task = pending
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key.as_str())
        .expect("the task is listed");
    accepted(&ep, json!({"command": "cancel_task", "id": task["id"]}));
    wait_for(&ep, "the move cancelled", |s| {
        s["store"]["tasks"]["cancelled"].as_u64().unwrap_or(0) >= 1
    });
    accepted(&ep, json!({"command": "resume_migrations"}));
    wait_for(&ep, "resumed", |s| s["migrations"]["paused"] == false);
    accepted(&ep, json!({"command": "retry_failed"}));
    let plans = |s: &Value| s["plan"]["at"].as_i64().unwrap_or(0);
    let before = plans(&snapshot(&ep));
    accepted(&ep, json!({"command": "optimize_now"}));
    wait_for(&ep, "a new plan", |s| plans(s) > before);
    accepted(&ep, json!({"command": "retrain_now"}));
    // The start-up scan may still run; a rescan is then refused, and accepted once it is done.
    wait_for(&ep, "the inventory scan done", |s| {
        s["inventory"]["state"] != "scanning"
    });
    accepted(&ep, json!({"command": "rescan"}));
    refused(&ep, json!({"command": "pause_scenario", "paused": true}), "no_scenario");

    // Refusals: what is wrong, as an error the client shows.
    let j = refused(
        &ep,
        json!({"command": "migrate_now", "key": key, "tier": "nowhere"}),
        "unknown_tier",
    );
    assert!(j["error"].as_str().unwrap().contains("nowhere"), "{j}");
    refused(
        &ep,
        json!({"command": "migrate_now", "key": "no/such/key", "tier": other}),
        "unknown_object",
    );
    refused(&ep, json!({"command": "cancel_task", "id": 987_654}), "unknown_task");
    refused(&ep, json!({"command": "set_event_rate", "per_sec": -1.0}), "bad_value");
    let bad = call(&ep, Method::POST, "/v1/commands", json!({"command": "make_coffee"}));
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"].as_str().unwrap().contains("make_coffee"),
        "{}",
        bad.json()
    );
    assert!(bad.json()["help"].as_str().unwrap().contains("pause_migrations"));
    let lost = call(&ep, Method::GET, "/v2/nothing", Value::Null);
    assert_eq!(lost.status, 404);
    assert!(lost.json()["help"].as_str().unwrap().contains("/v1/snapshot"));

    // Reads beside the snapshot.
    let h = call(&ep, Method::GET, "/v1/health", Value::Null).json();
    assert_eq!(h["live"], true);
    assert_eq!(h["ready"], true);
    let x = call(&ep, Method::GET, &format!("/v1/explain?key={key}"), Value::Null);
    assert_eq!(x.status, 200, "{}", x.json());
    assert_eq!(x.json()["key"], key.as_str());
    assert_eq!(
        call(&ep, Method::GET, "/v1/explain?key=no-such", Value::Null).status,
        404
    );
    assert_eq!(
        call(&ep, Method::GET, "/v1/tasks?state=sleeping", Value::Null).status,
        400
    );
    assert!(call(&ep, Method::GET, "/v1/rejected", Value::Null).json().is_array());
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn the_snapshot_stream_sends_each_new_snapshot_and_the_socket_is_owner_only() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let d = Daemon::start(None, &[]);
    let meta = std::fs::metadata(d.socket()).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "the socket is owner-only");

    let ep = Endpoint::Socket(d.socket());
    let mut times = Vec::new();
    rt().block_on(ep.follow("/v1/snapshots", |line| {
        let s: Value = serde_json::from_slice(line).unwrap();
        times.push(s["now_ms"].as_i64().unwrap());
        times.len() < 4
    }))
    .unwrap();
    assert_eq!(times.len(), 4);
    // Only changed snapshots are sent: engine time moves on between them.
    assert!(times.windows(2).all(|w| w[1] > w[0]), "{times:?}");

    // A second engine on the same data directory is refused while the first runs.
    let second = Process::new(DIM)
        .args(["--daemon", "--metrics-listen", "off", "--duration", "5", "--data-dir"])
        .arg(d.data_dir())
        .output()
        .unwrap();
    assert_ne!(second.status.code(), Some(0));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another dim is running on this data directory"), "{err}");
    assert!(
        !String::from_utf8_lossy(&second.stdout).contains("engine started"),
        "refused before it started"
    );

    let socket = d.socket();
    assert_eq!(d.stop(), Some(0));
    assert!(!socket.exists(), "the socket is removed on exit");
}

#[test]
fn a_stale_socket_from_a_crash_is_replaced() {
    let d = Daemon::start(None, &[]);
    let (socket, dir) = (d.socket(), d.data_dir());
    let mut d = d;
    unsafe { libc::kill(d.child.id() as i32, libc::SIGKILL) };
    d.child.wait().unwrap();
    assert!(socket.exists(), "kill -9 leaves the socket");
    let mut again = Process::new(DIM)
        .args(["--daemon", "--metrics-listen", "off", "--data-dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let ep = Endpoint::Socket(socket);
    let started = Instant::now();
    loop {
        if let Ok(a) = rt().block_on(ep.get("/v1/health"))
            && a.status == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the restarted daemon never answered"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    unsafe { libc::kill(again.id() as i32, libc::SIGTERM) };
    assert_eq!(again.wait().unwrap().code(), Some(0));
    drop(d);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn tcp_needs_the_bearer_token_and_no_answer_carries_a_secret() {
    let token = "s3cr3t-t0ken-0123456789abcdef";
    let aws = "AKIAEXAMPLESECRETVALUE42";
    let port = free_port();
    let config = format!("[control]\nlisten = \"127.0.0.1:{port}\"\ntoken_env = \"DIM_TEST_TOKEN\"\n");
    let d = Daemon::start(
        Some(&config),
        &[("DIM_TEST_TOKEN", token), ("AWS_SECRET_ACCESS_KEY", aws)],
    );
    let url = format!("http://127.0.0.1:{port}");
    let no_token = Endpoint::url(&url, None).unwrap();
    let wrong = Endpoint::url(&url, Some("wrong-token-wrong-token".into())).unwrap();
    let right = Endpoint::url(&url, Some(token.into())).unwrap();
    for path in ["/v1/snapshot", "/v1/health"] {
        let a = call(&no_token, Method::GET, path, Value::Null);
        assert_eq!(a.status, 401, "{path} without a token");
        assert!(a.json()["help"].as_str().unwrap().contains("Bearer"));
        assert_eq!(
            call(&wrong, Method::GET, path, Value::Null).status,
            401,
            "{path} with a wrong token"
        );
        assert_eq!(
            call(&right, Method::GET, path, Value::Null).status,
            200,
            "{path} with the token"
        );
    }
    assert_eq!(
        call(
            &no_token,
            Method::POST,
            "/v1/commands",
            json!({"command": "pause_migrations"})
        )
        .status,
        401
    );
    assert_eq!(
        snapshot(&right)["migrations"]["paused"],
        false,
        "the refused command did nothing"
    );
    // No answer, right or wrong, shows the token or a credential from the environment.
    let mut answers = Vec::new();
    for ep in [&no_token, &wrong, &right] {
        for path in [
            "/v1/snapshot",
            "/v1/health",
            "/v1/tasks",
            "/v1/rejected",
            "/v1/explain?key=x",
            "/v1/nope",
        ] {
            answers.push(String::from_utf8_lossy(&call(ep, Method::GET, path, Value::Null).body).to_string());
        }
        let a = call(
            ep,
            Method::POST,
            "/v1/commands",
            json!({"command": "chaos", "tier": "nowhere"}),
        );
        answers.push(String::from_utf8_lossy(&a.body).to_string());
    }
    for a in &answers {
        assert!(!a.contains(token) && !a.contains(aws), "a secret in an answer: {a}");
    }
    assert!(!d.log().contains(token), "the token is logged");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn tcp_without_a_token_is_refused_at_start_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dim.toml");
    std::fs::write(&file, "[control]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let out = Process::new(DIM)
        .args(["--daemon", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("control.listen") && err.contains("token_file"), "{err}");
}

fn ctl(data_dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Process::new(DIM)
        .arg("ctl")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn dim_ctl_runs_each_command_with_its_exit_code() {
    let d = Daemon::start(None, &[]);
    let ep = Endpoint::Socket(d.socket());
    let s = wait_for(&ep, "objects", |s| !s["hottest"].as_array().unwrap().is_empty());
    let key = s["hottest"][0]["key"].as_str().unwrap().to_string();
    let tier = s["hottest"][0]["tier"].as_str().unwrap().to_string();
    let other = if tier == "aws-hot" { "gcp-archive" } else { "aws-hot" };
    let dir = d.data_dir();

    let (code, out, _) = ctl(&dir, &["status"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("source embedded") && out.contains("aws-hot"), "{out}");
    let (code, out, _) = ctl(&dir, &["status", "--json"]);
    assert_eq!(code, Some(0));
    let j: Value = serde_json::from_str(&out).unwrap();
    assert!(j["tiers"].is_array());

    for (args, check) in [
        (
            vec!["pause"],
            Box::new(|s: &Value| s["migrations"]["paused"] == true) as Box<dyn Fn(&Value) -> bool>,
        ),
        (vec!["resume"], Box::new(|s: &Value| s["migrations"]["paused"] == false)),
        (
            vec![
                "chaos",
                "aws-hot",
                "--latency-ms",
                "300",
                "--error-rate",
                "5",
                "--error-kind",
                "throttled",
            ],
            Box::new(|s: &Value| {
                s["tiers"][0]["chaos"]["latency_ms"] == 300 && s["tiers"][0]["chaos"]["error_kind"] == "throttled"
            }),
        ),
        (
            vec!["chaos-clear", "aws-hot"],
            Box::new(|s: &Value| s["tiers"][0]["chaos"]["latency_ms"] == 0),
        ),
        (
            vec!["chaos", "aws-hot", "--outage"],
            Box::new(|s: &Value| s["tiers"][0]["chaos"]["outage"] == true),
        ),
        (
            vec!["chaos-clear"],
            Box::new(|s: &Value| s["tiers"][0]["chaos"]["outage"] == false),
        ),
        (vec!["retry-failed"], Box::new(|_: &Value| true)),
        (vec!["optimize"], Box::new(|_: &Value| true)),
        (vec!["retrain"], Box::new(|_: &Value| true)),
        (vec!["pin", &key], Box::new(|_: &Value| true)),
        (vec!["unpin", &key], Box::new(|_: &Value| true)),
    ] {
        let (code, out, err) = ctl(&dir, &args);
        assert_eq!(code, Some(0), "dim ctl {args:?}: {out}{err}");
        assert_eq!(out.trim(), "done");
        // At once, not eventually: a command answered "done" is in the very next status.
        let s = snapshot(&ep);
        assert!(check(&s), "the effect of {args:?} in the next status: {}", s["tiers"]);
    }
    let (code, _, err) = ctl(&dir, &["pause"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = ctl(&dir, &["move", &key, other]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, _) = ctl(&dir, &["tasks", "--state", "pending"]);
    assert_eq!(code, Some(0));
    assert!(out.contains(&key), "{out}");
    let id = out.split_whitespace().next().unwrap().to_string();
    let (code, _, err) = ctl(&dir, &["cancel", &id]);
    assert_eq!(code, Some(0), "{err}");
    wait_for(&ep, "cancelled", |s| {
        s["store"]["tasks"]["cancelled"].as_u64().unwrap_or(0) >= 1
    });
    // A list cut short says so; a whole one does not.
    let (code, out, err) = ctl(&dir, &["tasks", "--limit", "0"]);
    assert_eq!((code, out.trim()), (Some(0), ""), "{err}");
    assert!(err.contains("there are more: --limit N"), "{err}");
    let (_, out, err) = ctl(&dir, &["tasks", "--limit", "10000"]);
    assert!(out.contains(&key) && !err.contains("there are more"), "{out}{err}");
    wait_for(&ep, "the inventory scan done", |s| {
        s["inventory"]["state"] != "scanning"
    });
    let (code, _, err) = ctl(&dir, &["rescan"]);
    assert_eq!(code, Some(0), "{err}");

    // Refused: exit 1 with the reason.
    let (code, _, err) = ctl(&dir, &["move", &key, "nowhere"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("refused: no tier named \"nowhere\""), "{err}");
    let (code, _, err) = ctl(&dir, &["cancel", "424242"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("task 424242"), "{err}");
    let (code, _, err) = ctl(&dir, &["chaos", "aws-hot", "--error-rate", "250"]);
    assert_eq!(code, Some(1), "{err}");
    // `dim pin` goes through the running engine.
    let out = Process::new(DIM)
        .args(["pin", &key, "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("by the running engine"));
    assert_eq!(d.stop(), Some(0));

    // No engine: exit 2.
    let (code, _, err) = ctl(&dir, &["status"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no engine answers"), "{err}");
    let out = Process::new(DIM)
        .args(["ctl", "--url", "http://127.0.0.1:9", "pause"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
