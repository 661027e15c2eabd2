//! Three dim nodes on one PostgreSQL store and one six-partition topic (tansu, PostgreSQL and
//! the producer started by scripts/test.sh): 100,000 events from an independent client
//! (confluent-kafka) while one node is killed mid-ingest and another mid-migration.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{kafka_env, pg_database, tool_env};
use data_in_motion::cmd::simulate::partition_clients;
use data_in_motion::engine::clock::wall_now_ms;
use sha2::{Digest, Sha256};

const DIM: &str = env!("CARGO_BIN_EXE_dim");
const EVENTS: u64 = 100_000;
const LEASE_SECS: u64 = 4;
const NODES: [&str; 3] = ["n1", "n2", "n3"];
/// Events counted by every node in all (each node adds to its own row of the counter).
const INGESTED_SQL: &str =
    "SELECT CAST(coalesce(sum(value), 0) AS BIGINT) FROM counters WHERE name = 'events.ingested'";

struct Node {
    name: &'static str,
    dir: PathBuf,
    child: Option<Child>,
}

impl Node {
    fn log(&self) -> PathBuf {
        self.dir.with_extension("log")
    }

    fn ctl(&self, args: &[&str]) -> std::process::Output {
        Command::new(DIM)
            .args(["ctl", "--config"])
            .arg(self.dir.with_extension("toml"))
            .arg("--data-dir")
            .arg(&self.dir)
            .args(args)
            .output()
            .unwrap()
    }

    /// Stops the node where it stands (SIGSTOP): it commits nothing more, so what it holds can
    /// be read before it is killed. A statement it sent just before finishes at the server
    /// within the pause.
    fn freeze(&self) {
        self.signal("-STOP");
        std::thread::sleep(Duration::from_millis(500));
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill").args([sig, &c.id().to_string()]).status().unwrap();
            assert!(ok.success(), "kill {sig}");
        }
    }

    fn thaw(&self) {
        self.signal("-CONT");
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

fn config(url: &str, brokers: &str, topic: &str, tiers: &Path, node: &str) -> String {
    let tier = |name: &str, price: f64, latency: f64| {
        format!(
            "[[tiers]]\nname = \"{name}\"\nprovider = \"aws\"\nbackend = \"local\"\npath = \"{}\"\n\
             storage_gb_month = {price}\nget_per_1k = 0.0004\nput_per_1k = 0.005\nretrieval_gb = 0.01\n\
             latency_ms = {latency}\n",
            tiers.join(name).display()
        )
    };
    format!(
        "[store]\nurl = \"{url}\"\nnode = \"{node}\"\nlease_secs = {LEASE_SECS}\n\n\
         [events]\nsource = \"kafka\"\nbrokers = [\"{brokers}\"]\ntopic = \"{topic}\"\npartitions = 6\n\
         batch_max_events = 2000\nbatch_max_ms = 50\n\n[optimizer]\ninterval_secs = 2\n\n[model]\nretrain_every_secs = 10\n\n\
         [metrics]\nlisten = \"off\"\n\n{}\n{}",
        tier("hot", 0.023, 20.0),
        tier("cold", 0.004, 200.0)
    )
}

fn spawn(node: &Node) -> Child {
    let log = std::fs::File::create(node.log()).unwrap();
    Command::new(DIM)
        .arg("--daemon")
        .arg("--config")
        .arg(node.dir.with_extension("toml"))
        .arg("--data-dir")
        .arg(&node.dir)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed().as_secs() < secs,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("{what}: after {:.1} s", start.elapsed().as_secs_f64());
}

/// Every file under `root`, by key, with its SHA-256.
fn hashes(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if !p.to_string_lossy().contains(".dim-") {
                let key = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                let sum = Sha256::digest(std::fs::read(&p).unwrap());
                out.insert(key, sum.iter().map(|b| format!("{b:02x}")).collect());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn count(pg: &mut postgres::Client, sql: &str) -> i64 {
    pg.query_one(sql, &[]).unwrap().get(0)
}

/// The unfinished tasks `node` holds: id and key.
fn unfinished_of(pg: &mut postgres::Client, node: &str) -> Vec<(i64, String)> {
    pg.query(
        "SELECT id, key FROM tasks WHERE owner = $1 AND state NOT IN ('done', 'failed', 'cancelled')",
        &[&node],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// The partitions' owners with a live lease, by partition.
fn owners(pg: &mut postgres::Client, source: &str) -> BTreeMap<i32, String> {
    pg.query(
        "SELECT partition, owner FROM partition_leases WHERE source = $1 AND owner IS NOT NULL AND until_ms > now_ms()",
        &[&source],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[test]
#[ignore = "needs the test services (scripts/test.sh)"]
fn three_nodes_share_the_work_and_lose_nothing_across_two_kill_9() {
    let t = "three_nodes_share_the_work_and_lose_nothing_across_two_kill_9";
    let (brokers, python, url) = (kafka_env(t), tool_env("DIM_TEST_PYTHON", t), pg_database(t));
    let topic = format!("dim-test-cluster-{}-{}", std::process::id(), wall_now_ms());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(partition_clients(std::slice::from_ref(&brokers), &topic, 6, 1))
        .unwrap();
    drop(rt);
    let source = format!("kafka:{topic}");
    let dir = tempfile::tempdir().unwrap();
    let tiers = dir.path().join("tiers");
    let mut nodes: Vec<Node> = NODES
        .iter()
        .map(|&name| {
            let node_dir = dir.path().join(name);
            std::fs::write(
                node_dir.with_extension("toml"),
                config(&url, &brokers, &topic, &tiers, name),
            )
            .unwrap();
            Node {
                name,
                dir: node_dir,
                child: None,
            }
        })
        .collect();

    // 40 objects of about 512 KiB on the hot tier, registered in the shared store.
    let seeded = Command::new(DIM)
        .args([
            "seed",
            "--objects",
            "40",
            "--total-size",
            "20MB",
            "--tier",
            "hot",
            "--config",
        ])
        .arg(nodes[0].dir.with_extension("toml"))
        .arg("--data-dir")
        .arg(&nodes[0].dir)
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    let originals = hashes(&tiers.join("hot"));
    assert_eq!(originals.len(), 40);
    let keys_file = dir.path().join("keys.txt");
    std::fs::write(&keys_file, originals.keys().cloned().collect::<Vec<_>>().join("\n")).unwrap();

    for n in &mut nodes {
        n.child = Some(spawn(n));
    }
    let mut pg = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    wait_until("three nodes holding two partitions each", 60, || {
        let o = owners(&mut pg, &source);
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for n in o.values() {
            *per.entry(n.clone()).or_default() += 1;
        }
        o.len() == 6 && per.len() == 3 && per.values().all(|&c| c == 2)
    });
    // Moves to the cold tier take about a second each, so one can be caught under way.
    for n in &nodes {
        let out = n.ctl(&["chaos", "cold", "--bandwidth-bps", "500000"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    let producer = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/confluent_stream.py"))
        .args([&brokers, &topic, &EVENTS.to_string(), "4000"])
        .arg(&keys_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ingested = |pg: &mut postgres::Client| count(pg, INGESTED_SQL);

    // Mid-ingest: the first node goes, its partitions with it.
    wait_until("15,000 events ingested", 120, || ingested(&mut pg) >= 15_000);
    nodes[0].freeze();
    let mut resumed = unfinished_of(&mut pg, NODES[0]);
    nodes[0].kill9();
    let killed_at = ingested(&mut pg);
    assert!(
        killed_at < EVENTS as i64,
        "the kill came after the whole stream ({killed_at})"
    );

    // Mid-migration: the owner of a move under way goes next, stopped first so that the moves
    // it leaves are read while it can finish none of them (one that finished its move in the
    // meantime is let go on and another is caught).
    let mut victim = String::new();
    let mut moving = Vec::new();
    wait_until("a move under way on a live node, caught", 120, || {
        let rows = pg
            .query(
                "SELECT owner FROM tasks WHERE state IN ('copying', 'verifying', 'switching')
                 AND owner IN ('n2', 'n3') AND lease_until > now_ms()",
                &[],
            )
            .unwrap();
        let Some(owner) = rows.first().map(|r| r.get::<_, String>(0)) else {
            return false;
        };
        let node = nodes.iter().find(|n| n.name == owner).unwrap();
        node.freeze();
        moving = unfinished_of(&mut pg, &owner);
        if moving.is_empty() {
            node.thaw();
            return false;
        }
        victim = owner;
        true
    });
    resumed.extend(moving.iter().cloned());
    let v = nodes.iter().position(|n| n.name == victim).unwrap();
    nodes[v].kill9();
    let survivor = nodes.iter().find(|n| n.child.is_some()).unwrap().name;

    let out = producer.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: BTreeMap<String, i64> = serde_json::from_value(sent["reads"].clone()).unwrap();
    assert_eq!(want.values().sum::<i64>(), EVENTS as i64);

    wait_until("every event ingested by the survivor", 240, || {
        ingested(&mut pg) >= EVENTS as i64
    });
    wait_until("every started move finished", 240, || {
        count(
            &mut pg,
            "SELECT count(*) FROM tasks WHERE state NOT IN ('done', 'failed', 'cancelled')",
        ) == 0
    });
    // A little longer: a late duplicate commit would show now.
    std::thread::sleep(Duration::from_secs(2));
    check_exactly_once(&mut pg, &want);
    check_partitions(&mut pg, &source, survivor);
    check_moves(
        &mut pg,
        &tiers,
        &originals,
        &resumed,
        &nodes,
        &[NODES[0], victim.as_str()],
    );
    check_nodes_view(&nodes, survivor, &[NODES[0], victim.as_str()]);
    for n in &mut nodes {
        n.kill9();
    }
}

/// Every event counted once: the store's per-object reads are what the producer delivered.
fn check_exactly_once(pg: &mut postgres::Client, want: &BTreeMap<String, i64>) {
    assert_eq!(count(pg, INGESTED_SQL), EVENTS as i64);
    let got: BTreeMap<String, i64> = pg
        .query("SELECT key, reads FROM objects WHERE reads > 0", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(&got, want, "per-object reads");
}

/// After the lease time every partition belongs to the one live node.
fn check_partitions(pg: &mut postgres::Client, source: &str, survivor: &str) {
    let o = owners(pg, source);
    assert_eq!(o.len(), 6, "{o:?}");
    assert!(o.values().all(|n| n == survivor), "{o:?}");
}

/// Every move finished with the bytes intact: each object once, on the tier its pointer names,
/// as it was seeded; the killed nodes' moves were finished by a live node; and no object was
/// moved by two nodes (the `moved` lines of the nodes' logs: one node per object, or a killed
/// one and the one that finished its move).
fn check_moves(
    pg: &mut postgres::Client,
    tiers: &Path,
    originals: &BTreeMap<String, String>,
    resumed: &[(i64, String)],
    nodes: &[Node],
    killed: &[&str],
) {
    assert_eq!(count(pg, "SELECT count(*) FROM tasks WHERE state = 'failed'"), 0);
    let done = count(pg, "SELECT count(*) FROM tasks WHERE state = 'done'");
    assert!(done > 0, "no move was made");
    let (hot, cold) = (hashes(&tiers.join("hot")), hashes(&tiers.join("cold")));
    for (key, sum) in originals {
        let tier: String = pg
            .query_one("SELECT tier FROM objects WHERE key = $1", &[key])
            .unwrap()
            .get(0);
        let (here, other) = if tier == "hot" { (&hot, &cold) } else { (&cold, &hot) };
        assert_eq!(here.get(key), Some(sum), "{key} on {tier}");
        assert!(!other.contains_key(key), "{key} left a copy behind");
    }
    for (id, key) in resumed {
        let (state, owner): (String, Option<String>) = pg
            .query_one("SELECT state, owner FROM tasks WHERE id = $1", &[id])
            .map(|r| (r.get(0), r.get(1)))
            .unwrap();
        assert_eq!(state, "done", "a killed node's move of {key}");
        assert!(
            owner.as_deref().is_some_and(|o| !killed.contains(&o)),
            "{key} finished by {owner:?}, not a live node"
        );
    }
    // Each move (task) by the node that made it; a task moved by two nodes must have been taken
    // over from a killed one.
    let mut movers: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for n in nodes {
        let log = std::fs::read_to_string(n.log()).unwrap();
        for line in log
            .lines()
            .filter(|l| l.contains("dim::migrate") && l.contains(" moved "))
        {
            let id = line.split(" id=").nth(1).and_then(|s| s.split_whitespace().next());
            let id: i64 = id.and_then(|s| s.parse().ok()).expect("a moved line names its task");
            movers.entry(id).or_default().insert(n.name);
        }
    }
    assert_eq!(
        movers.len() as i64,
        done,
        "every done move logged by the node that made it"
    );
    for (id, by) in &movers {
        let live = by.iter().filter(|n| !killed.contains(n)).count();
        let taken_over = resumed.iter().any(|(t, _)| t == id);
        assert!(by.len() == 1 || (taken_over && live <= 1), "task {id} moved by {by:?}");
    }
}

/// The survivor's dashboard data shows every node, the killed ones as lost.
fn check_nodes_view(nodes: &[Node], survivor: &str, killed: &[&str]) {
    let n = nodes.iter().find(|n| n.name == survivor).unwrap();
    wait_until("the survivor's view of the cluster", 30, || {
        let out = n.ctl(&["status", "--json"]);
        let snap: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let Some(view) = snap["cluster"]["nodes"].as_array() else {
            return false;
        };
        let lost: BTreeSet<&str> = view
            .iter()
            .filter(|v| v["lost"].as_bool() == Some(true))
            .filter_map(|v| v["id"].as_str())
            .collect();
        view.len() == 3 && lost == killed.iter().copied().collect() && snap["cluster"]["this"] == survivor
    });
}
