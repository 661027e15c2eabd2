//! docker-compose.yml: valid against the Compose Specification schema, and in step with config/compose.toml and .env.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn compose() -> Value {
    let text = std::fs::read_to_string(root().join("docker-compose.yml")).unwrap();
    serde_norway::from_str(&text).expect("docker-compose.yml is YAML")
}

/// The variables docker compose reads from .env.
fn dotenv() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join(".env")).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').expect("KEY=VALUE lines in .env");
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

/// Compose interpolation of `${VAR:-default}` and `${VAR}` with the .env values.
fn interpolate(s: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').expect("closed ${") + i;
        let inner = &rest[i + 2..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let v = env
            .get(name)
            .cloned()
            .or(default.map(str::to_string))
            .unwrap_or_else(|| panic!("{name} is neither in .env nor given a default"));
        out.push_str(&v);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn port_of(url_or_addr: &str) -> u16 {
    let hostport = url_or_addr.rsplit("//").next().unwrap().trim_end_matches('/');
    hostport.rsplit(':').next().unwrap().parse().unwrap()
}

/// Host port bound to `container_port` in a service's `ports`, checking it binds to loopback only.
fn host_port(c: &Value, service: &str, container_port: u16, env: &BTreeMap<String, String>) -> u16 {
    let ports = c["services"][service]["ports"].as_array().expect("ports");
    for p in ports {
        let p = interpolate(p.as_str().expect("short port syntax"), env);
        let parts: Vec<&str> = p.split(':').collect();
        assert_eq!(parts.len(), 3, "{service}: {p} must be IP:HOST:CONTAINER");
        assert_eq!(parts[0], "127.0.0.1", "{service}: {p} is exposed beyond localhost");
        if parts[2].parse::<u16>().unwrap() == container_port {
            return parts[1].parse().unwrap();
        }
    }
    panic!("{service} does not publish container port {container_port}");
}

#[test]
fn compose_file_is_valid_against_the_compose_spec() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/compose-spec.json")).unwrap()).unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the schema compiles");
    let doc = compose();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "docker-compose.yml does not validate:\n{}",
        errors.join("\n")
    );

    // The schema really rejects things (a misspelt key), so the pass above means something.
    let mut bad = doc.clone();
    bad["services"]["minio"]["helthcheck"] = serde_json::json!({});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn compose_matches_config_and_env() {
    let c = compose();
    let env = dotenv();
    let cfg =
        data_in_motion::config::load(Some(&root().join("config/compose.toml"))).expect("config/compose.toml loads");

    // Kafka: the host port, and the address Redpanda advertises to host clients.
    assert_eq!(cfg.events.source, data_in_motion::config::SourceKind::Kafka);
    let kafka_port = host_port(&c, "redpanda", 19092, &env);
    for b in &cfg.events.brokers {
        assert_eq!(
            port_of(b),
            kafka_port,
            "events.brokers {b} vs the published Redpanda port"
        );
    }
    let command: Vec<String> = c["services"]["redpanda"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| interpolate(v.as_str().unwrap(), &env))
        .collect();
    let advertised = command
        .iter()
        .find(|a| a.starts_with("--advertise-kafka-addr"))
        .expect("an advertised listener");
    assert!(
        advertised.contains(&format!("external://127.0.0.1:{kafka_port}")),
        "host clients are told {advertised}"
    );

    // S3: every tier on the published MinIO port, its bucket created by the init container,
    // its credentials variables those MinIO's root user is set from, all defined in .env.
    let s3_port = host_port(&c, "minio", 9000, &env);
    let init = c["services"]["minio-init"]["entrypoint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let minio_env = &c["services"]["minio"]["environment"];
    assert_eq!(cfg.tiers.len(), 3);
    for t in &cfg.tiers {
        assert_eq!(t.backend, data_in_motion::config::Backend::S3, "{}", t.name);
        let endpoint = t.endpoint.as_deref().unwrap();
        assert_eq!(port_of(endpoint), s3_port, "{}: {endpoint}", t.name);
        let bucket = t.bucket.as_deref().unwrap();
        assert!(init.contains(bucket), "minio-init does not create {bucket}: {init}");
        let ak = t.access_key_env.as_deref().unwrap();
        let sk = t.secret_key_env.as_deref().unwrap();
        assert!(
            env.contains_key(ak) && env.contains_key(sk),
            "{ak}/{sk} missing from .env"
        );
        assert!(
            minio_env["MINIO_ROOT_USER"]
                .as_str()
                .unwrap()
                .contains(&format!("${{{ak}"))
        );
        assert!(
            minio_env["MINIO_ROOT_PASSWORD"]
                .as_str()
                .unwrap()
                .contains(&format!("${{{sk}"))
        );
    }

    // Health checks and named volumes on both services.
    for s in ["redpanda", "minio"] {
        assert!(
            c["services"][s]["healthcheck"]["test"].is_array(),
            "{s} has no health check"
        );
        let vols = c["services"][s]["volumes"].as_array().unwrap();
        let named = vols[0].as_str().unwrap().split(':').next().unwrap();
        assert!(c["volumes"].get(named).is_some(), "{s}: {named} is not a named volume");
    }
}

#[test]
fn the_observability_profile_scrapes_dim_and_provisions_the_dashboard() {
    let c = compose();
    let env = dotenv();
    let cfg =
        data_in_motion::config::load(Some(&root().join("config/compose.toml"))).expect("config/compose.toml loads");
    for s in ["prometheus", "grafana"] {
        let svc = &c["services"][s];
        assert_eq!(
            svc["profiles"],
            serde_json::json!(["observability"]),
            "{s} only with the profile"
        );
        assert!(svc["healthcheck"]["test"].is_array(), "{s} has no health check");
        for p in svc["ports"].as_array().unwrap() {
            assert!(
                p.as_str().unwrap().starts_with("127.0.0.1:"),
                "{s} publishes {p} beyond localhost"
            );
        }
    }
    // Prometheus reaches dim on the host, at the port config/compose.toml listens on, on an
    // address the Docker bridge can reach.
    assert_eq!(
        c["services"]["prometheus"]["extra_hosts"],
        serde_json::json!(["host.docker.internal:host-gateway"])
    );
    let prom: Value =
        serde_norway::from_str(&std::fs::read_to_string(root().join("observability/prometheus.yml")).unwrap()).unwrap();
    let jobs = prom["scrape_configs"].as_array().unwrap();
    let target = |job: &str| -> String {
        let j = jobs
            .iter()
            .find(|j| j["job_name"] == job)
            .unwrap_or_else(|| panic!("no {job} job"));
        j["static_configs"][0]["targets"][0].as_str().unwrap().to_string()
    };
    let dim_port = port_of(&cfg.metrics.listen);
    assert_eq!(target("dim"), format!("host.docker.internal:{dim_port}"));
    assert!(
        cfg.metrics.listen.starts_with("0.0.0.0:"),
        "{}: unreachable from a container",
        cfg.metrics.listen
    );
    assert_eq!(target("redpanda"), "redpanda:9644");
    assert_eq!(target("minio"), "minio:9000");
    assert_eq!(
        c["services"]["minio"]["environment"]["MINIO_PROMETHEUS_AUTH_TYPE"],
        "public"
    );
    let mounts = |s: &str| -> Vec<String> {
        c["services"][s]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        mounts("prometheus")
            .iter()
            .any(|m| m.starts_with("./observability/prometheus.yml:"))
    );

    // Grafana: the admin password from .env, never a literal; datasource and dashboard provisioned.
    let g = &c["services"]["grafana"]["environment"];
    let pw = g["GF_SECURITY_ADMIN_PASSWORD"].as_str().unwrap();
    assert!(pw.starts_with("${DIM_GRAFANA_PASSWORD"), "{pw}");
    assert!(env.contains_key("DIM_GRAFANA_PASSWORD"));
    assert!(!interpolate(pw, &env).is_empty());
    let gm = mounts("grafana");
    assert!(
        gm.iter()
            .any(|m| m.starts_with("./observability/grafana/provisioning:/etc/grafana/provisioning"))
    );
    assert!(
        gm.iter()
            .any(|m| m.starts_with("./observability/grafana/dashboards:/var/lib/grafana/dashboards"))
    );
    let ds: Value = serde_norway::from_str(
        &std::fs::read_to_string(root().join("observability/grafana/provisioning/datasources/prometheus.yml")).unwrap(),
    )
    .unwrap();
    let uid = ds["datasources"][0]["uid"].as_str().unwrap();
    assert_eq!(ds["datasources"][0]["url"], "http://prometheus:9090");
    let prov: Value = serde_norway::from_str(
        &std::fs::read_to_string(root().join("observability/grafana/provisioning/dashboards/dim.yml")).unwrap(),
    )
    .unwrap();
    assert_eq!(prov["providers"][0]["options"]["path"], "/var/lib/grafana/dashboards");
    let dash: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("observability/grafana/dashboards/dim.json")).unwrap(),
    )
    .unwrap();
    let panels = dash["panels"].as_array().unwrap();
    for p in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(
            p["datasource"]["uid"], uid,
            "panel {} uses another datasource",
            p["title"]
        );
        assert!(
            !p["targets"].as_array().unwrap().is_empty(),
            "panel {} has no query",
            p["title"]
        );
    }
    // The panels the issue asks for.
    let titles: Vec<String> = panels
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_lowercase())
        .collect();
    for want in [
        "ingest",
        "lag",
        "objects",
        "bytes",
        "cost",
        "moves by result",
        "throughput",
        "retries",
        "model",
        "solve",
        "chaos",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(want)),
            "no panel about {want}: {titles:?}"
        );
    }
}
