//! The operator endpoint of a running `dim --daemon`: /metrics parsed as Prometheus text with a
//! parser crate (families, sane values, counters that grow, no object keys as labels), every
//! query of the provisioned Grafana dashboard backed by a scraped metric, /healthz, and /readyz
//! failing while the Kafka source reconnects.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{DIM, kafka_env};

/// A daemon whose stdout is collected in the background; its metrics address is read from the log.
struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
    addr: String,
}

impl Daemon {
    fn start(args: &[&str]) -> Daemon {
        let mut child = Command::new(DIM)
            .args(["--daemon", "--metrics-listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let log = common::collect_stdout(&mut child);
        let started = Instant::now();
        let addr = loop {
            let text = log.lock().unwrap().clone();
            if let Some(i) = text.find("metrics on http://") {
                let rest = &text[i + "metrics on http://".len()..];
                break rest[..rest.find('/').unwrap()].to_string();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no metrics address logged:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        Daemon { child, log, addr }
    }

    /// GET `path`: status and body.
    fn get(&self, path: &str) -> (u16, String) {
        let url = format!("http://{}{path}", self.addr);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let mut resp = agent.get(&url).call().unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap())
    }

    /// Polls `path` until it answers `status` (within `secs`); returns the body.
    fn wait_for(&self, path: &str, status: u16, secs: u64) -> String {
        let started = Instant::now();
        loop {
            let (s, body) = self.get(path);
            if s == status {
                return body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "{path} never answered {status} (last {s}: {body})\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM; the exit code and everything the daemon printed.
    fn stop(mut self) -> (Option<i32>, String) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        // The reader thread drains stdout to its end.
        std::thread::sleep(Duration::from_millis(300));
        (status.code(), self.log.lock().unwrap().clone())
    }
}

/// A scrape, parsed by prometheus-parse: samples by metric name.
struct Scrape {
    samples: Vec<prometheus_parse::Sample>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        // OpenMetrics ends with `# EOF`; everything else is the Prometheus text format.
        let lines = text.lines().filter(|l| *l != "# EOF").map(|l| Ok(l.to_string()));
        let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
        Scrape {
            samples: scrape.samples,
        }
    }

    fn names(&self) -> BTreeSet<String> {
        self.samples.iter().map(|s| s.metric.clone()).collect()
    }

    fn value(s: &prometheus_parse::Sample) -> f64 {
        match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(b) => b.last().map_or(0.0, |c| c.count),
            prometheus_parse::Value::Summary(_) => f64::NAN,
        }
    }

    /// The sum over every sample of `name` whose labels include `want`.
    fn sum(&self, name: &str, want: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.metric == name && want.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(Self::value)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.metric == name)
    }
}

/// Every metric name a PromQL expression selects.
fn selected(expr: &str) -> Vec<String> {
    use promql_parser::parser::Expr;
    fn walk(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::VectorSelector(v) => out.extend(v.name.clone()),
            Expr::MatrixSelector(m) => out.extend(m.vs.name.clone()),
            Expr::Aggregate(a) => {
                walk(&a.expr, out);
                if let Some(p) = &a.param {
                    walk(p, out);
                }
            }
            Expr::Unary(u) => walk(&u.expr, out),
            Expr::Binary(b) => {
                walk(&b.lhs, out);
                walk(&b.rhs, out);
            }
            Expr::Paren(p) => walk(&p.expr, out),
            Expr::Subquery(s) => walk(&s.expr, out),
            Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, out)),
            Expr::Extension(_) | Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
        }
    }
    let ast = promql_parser::parser::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let mut out = Vec::new();
    walk(&ast, &mut out);
    out
}

const SCENARIO: &str = r#"
name = "metrics"
duration = "40h"
speed = 3600
expect = ["events.ingested >= 1"]

[config]
optimizer.interval_secs = 3
# Small demo files: no margin, so moves (and the chaos they meet) happen within the scrape window.
optimizer.move_margin = 0.0
model.retrain_every_secs = 5
model.sample_cold = 200
model.sample_every_secs = 7200
events.embedded.seed_objects = 800
events.embedded.seed_total_bytes = 20_000_000

[[step]]
at = "1h"
do = "chaos"
tier = "azure-cool"
error_rate = 30
latency_ms = 100

[[step]]
at = "1h"
do = "chaos"
tier = "gcp-archive"
error_rate = 30
latency_ms = 100

[[step]]
at = "1h"
do = "optimize_now"
"#;

#[test]
fn metrics_health_and_the_dashboard_against_a_running_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let d = Daemon::start(&[
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--scenario",
        file.to_str().unwrap(),
    ]);
    assert_eq!(d.get("/healthz").0, 200);
    d.wait_for("/readyz", 200, 60);
    std::thread::sleep(Duration::from_secs(6));
    let (status, first) = d.get("/metrics");
    assert_eq!(status, 200);
    let a = Scrape::parse(&first);
    std::thread::sleep(Duration::from_secs(10));
    // The model's figures appear once it has trained (enough samples on the engine clock): on a
    // busy machine that takes longer than the ten seconds above, so wait for it, up to a minute.
    let started = Instant::now();
    let b = loop {
        let b = Scrape::parse(&d.get("/metrics").1);
        if b.has("dim_model_pr_auc") || started.elapsed() > Duration::from_secs(60) {
            break b;
        }
        std::thread::sleep(Duration::from_millis(500));
    };

    for name in [
        "dim_events_ingested_total",
        "dim_events_rejected_total",
        "dim_ingest_batch_seconds",
        "dim_source_up",
        "dim_objects",
        "dim_bytes",
        "dim_monthly_cost_dollars",
        "dim_migrations_total",
        "dim_migration_bytes_total",
        "dim_migration_retries_total",
        "dim_migration_seconds",
        "dim_tasks",
        "dim_model_pr_auc",
        "dim_model_trained_timestamp_seconds",
        "dim_optimizer_solve_seconds",
        "dim_chaos_active",
        "dim_tier_latency_seconds",
    ] {
        let present = b.has(name) || b.has(&format!("{name}_count"));
        assert!(present, "{name} missing from the scrape:\n{}", d.get("/metrics").1);
    }
    // Sane values, and counters that grow.
    assert!(b.sum("dim_events_ingested_total", &[]) > a.sum("dim_events_ingested_total", &[]));
    assert!(a.sum("dim_events_ingested_total", &[]) > 0.0);
    assert!(b.sum("dim_migrations_total", &[("result", "done")]) > 0.0);
    assert!(
        b.sum("dim_migrations_total", &[("result", "done")]) >= a.sum("dim_migrations_total", &[("result", "done")])
    );
    assert!(b.sum("dim_migration_bytes_total", &[]) > 0.0);
    assert!(
        b.sum("dim_migration_retries_total", &[("tier", "gcp-archive")])
            + b.sum("dim_migration_retries_total", &[("tier", "azure-cool")])
            > 0.0,
        "chaos caused no retries"
    );
    assert_eq!(
        a.sum("dim_chaos_active", &[("tier", "gcp-archive"), ("kind", "errors")]),
        1.0
    );
    assert_eq!(
        a.sum("dim_chaos_active", &[("tier", "aws-hot"), ("kind", "errors")]),
        0.0
    );
    assert_eq!(b.sum("dim_source_up", &[]), 1.0);
    assert!(b.sum("dim_objects", &[]) >= 800.0);
    assert!(b.sum("dim_bytes", &[]) > 1e6);
    assert!(b.sum("dim_monthly_cost_dollars", &[("plan", "current")]) > 0.0);
    assert!(
        b.sum("dim_tier_latency_seconds", &[("tier", "gcp-archive")]) >= 0.1,
        "100 ms injected"
    );
    for s in b.samples.iter().filter(|s| s.metric == "dim_model_pr_auc") {
        let v = Scrape::value(s);
        assert!((0.0..=1.0).contains(&v), "{v}");
    }
    let histogram_count = |name: &str| b.sum(&format!("{name}_count"), &[]).max(b.sum(name, &[]));
    assert!(histogram_count("dim_ingest_batch_seconds") > 0.0);
    assert!(histogram_count("dim_migration_seconds") > 0.0);
    assert!(histogram_count("dim_optimizer_solve_seconds") > 0.0);

    // Bounded labels: never an object key.
    let allowed: BTreeSet<&str> = [
        "tier",
        "reason",
        "partition",
        "plan",
        "result",
        "error",
        "state",
        "model",
        "kind",
        "source",
        "le",
        "quantile",
    ]
    .into();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &b.samples {
        for (k, v) in s.labels.iter() {
            assert!(allowed.contains(k.as_str()), "label {k} on {}", s.metric);
            assert!(!v.contains('/'), "{}{{{k}={v}}} looks like an object key", s.metric);
            seen.entry(k.clone()).or_default().insert(v.clone());
        }
    }
    assert!(seen.values().all(|v| v.len() < 50), "label cardinality: {seen:?}");

    // Every query of the provisioned dashboard selects metrics the scrape has.
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("observability/grafana/dashboards/dim.json").unwrap()).unwrap();
    let names = b.names();
    let mut queried = 0;
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().unwrap();
            for m in selected(expr) {
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| m.strip_suffix(s))
                    .unwrap_or(&m);
                assert!(
                    names.contains(&m) || names.contains(base),
                    "panel {:?} queries {m}, which no scrape has",
                    panel["title"]
                );
                queried += 1;
            }
        }
    }
    assert!(queried >= 20, "{queried} selectors");

    // Stopped before the scenario's end: the report says so and the exit code is 1.
    let (code, log) = d.stop();
    assert!(log.contains("the run stopped before the scenario's end"), "{log}");
    assert_eq!(code, Some(1));
}

#[test]
fn readyz_fails_while_the_kafka_source_reconnects() {
    // Nothing listens on this port: the source keeps reconnecting.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kafka.toml");
    std::fs::write(&cfg, format!("[events]\nsource = \"kafka\"\nbrokers = [\"{dead}\"]\n")).unwrap();
    let d = Daemon::start(&[
        "-c",
        cfg.to_str().unwrap(),
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
    ]);
    d.wait_for("/readyz", 503, 20);
    let started = Instant::now();
    let why = loop {
        let (s, body) = d.get("/readyz");
        assert_eq!(s, 503, "ready without a broker: {body}");
        if body.contains("reconnecting") || started.elapsed() > Duration::from_secs(20) {
            break body;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(why.contains("source kafka is reconnecting"), "{why}");
    assert_eq!(d.get("/healthz").0, 200, "alive while not ready");
    assert_eq!(d.stop().0, Some(0));
}

#[test]
#[ignore = "needs the test services (scripts/test.sh)"]
fn readyz_passes_once_the_kafka_source_is_connected() {
    let brokers = kafka_env("readyz_passes_once_the_kafka_source_is_connected");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kafka.toml");
    std::fs::write(
        &cfg,
        format!(
            "[events]\nsource = \"kafka\"\nbrokers = [\"{brokers}\"]\ntopic = \"dim-test-ready-{}\"\n",
            std::process::id()
        ),
    )
    .unwrap();
    let d = Daemon::start(&[
        "-c",
        cfg.to_str().unwrap(),
        "--data-dir",
        dir.path().join("data2").to_str().unwrap(),
    ]);
    d.wait_for("/readyz", 200, 30);
    let scrape = Scrape::parse(&d.get("/metrics").1);
    let partitions = scrape.samples.iter().filter(|s| s.metric == "dim_consumer_lag").count();
    assert_eq!(partitions, 3, "lag of every partition");
    assert_eq!(d.stop().0, Some(0));
}
