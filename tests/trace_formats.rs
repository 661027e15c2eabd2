//! The logs and reports bucket owners hold, read from fixtures written to the published field
//! lists: S3 server access logs, CloudFront standard logs (gzipped too) and S3 Inventory CSVs;
//! bad lines rejected with their line numbers, the replay going on; objects only the inventory
//! lists stored and priced from the trace's start, without a PUT on the bill.

use std::io::Write as _;
use std::process::Command;

use data_in_motion::config::Config;
use data_in_motion::engine::events::Op;
use data_in_motion::engine::placement::billing::storage_rate_ms;
use data_in_motion::replay::compare;
use data_in_motion::replay::inventory;
use data_in_motion::replay::trace::{self, Format, Trace};
use data_in_motion::replay::workload::Workload;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/replay");

fn read(name: &str, f: Format) -> Trace {
    trace::read(
        trace::open(std::path::Path::new(&format!("{FIXTURES}/{name}"))).unwrap(),
        f,
    )
    .unwrap()
}

fn ops(t: &Trace) -> Vec<(String, Op, Option<u64>)> {
    t.events.iter().map(|e| (e.key.clone(), e.op, e.size)).collect()
}

fn bad_lines(t: &Trace) -> Vec<usize> {
    t.first_bad.iter().map(|b| b.line).collect()
}

#[test]
fn s3_access_logs_give_object_accesses_and_count_errors_as_the_bill_does() {
    let t = read("s3-access.log", Format::S3AccessLog);
    let ab = "uploads/2019/a b.bin".to_string();
    let readme = "docs/readme.txt".to_string();
    assert_eq!(
        ops(&t),
        [
            (ab.clone(), Op::Put, Some(5_242_880)),
            (ab.clone(), Op::Get, Some(5_242_880)),
            (ab.clone(), Op::Get, Some(5_242_880)),
            (readme.clone(), Op::Head, Some(2048)),
            (readme.clone(), Op::Get, Some(2048)),
            ("docs/readme-copy.txt".into(), Op::Put, Some(2048)),
            ("uploads/big.tar".into(), Op::Put, Some(16_777_216)),
            ("docs/readme-copy.txt".into(), Op::Delete, Some(2048)),
            (ab, Op::Delete, Some(5_242_880)),
        ]
    );
    // 06/Feb/2019:00:01:00 +0000
    assert_eq!(t.events[0].ts_ms, 1_549_411_260_000);
    assert_eq!(t.requests.failed, 2, "a 404 and a 503");
    assert_eq!(t.requests.billed_errors, 1, "S3 bills the 404, not the 503");
    assert_eq!(t.requests.partial_reads, 1, "the 206 range read");
    assert_eq!(t.requests.other, 3, "versioning, a listing, a multipart part");
    assert_eq!(bad_lines(&t), [9, 15], "{:?}", t.first_bad);
    assert!(t.first_bad[0].reason.contains("12 fields"), "{}", t.first_bad[0].reason);
    assert!(t.first_bad[1].reason.contains("bad date"), "{}", t.first_bad[1].reason);
    assert_eq!(t.lines, 16);
}

#[test]
fn cloudfront_logs_replay_what_reached_the_origin_plain_or_gzipped() {
    let plain = read("cloudfront.log", Format::Cloudfront);
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("E2EXAMPLE.2019-12-04-21.d111111a.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(&std::fs::read(format!("{FIXTURES}/cloudfront.log")).unwrap())
        .unwrap();
    enc.finish().unwrap();
    let zipped = trace::read(trace::open(&gz).unwrap(), Format::Cloudfront).unwrap();
    assert_eq!(plain, zipped);
    let t = plain;
    assert_eq!(
        ops(&t),
        [
            ("/images/cat.jpg".into(), Op::Get, Some(39_201)),
            ("/images/cat.jpg".into(), Op::Get, None),
            ("/images/dog big.jpg".into(), Op::Get, None),
            ("/index.html".into(), Op::Head, Some(512)),
            ("/index.html".into(), Op::Get, Some(512)),
        ]
    );
    // 2019-12-04 21:02:31 UTC
    assert_eq!(t.events[0].ts_ms, 1_575_493_351_000);
    assert_eq!(t.requests.edge_hits, 1);
    assert_eq!(t.requests.partial_reads, 1);
    assert_eq!((t.requests.failed, t.requests.billed_errors), (1, 0));
    assert_eq!(t.requests.other, 1, "the edge's redirect");
    assert_eq!(bad_lines(&t), [10, 11], "{:?}", t.first_bad);
    assert!(t.first_bad[1].reason.contains("bad date"), "{}", t.first_bad[1].reason);
    // A log without its header is refused line by line, saying why.
    let headless = trace::read(&b"2019-12-04\t21:02:31\tLAX1\n"[..], Format::Cloudfront).unwrap();
    assert_eq!(headless.bad, 1);
    assert!(headless.first_bad[0].reason.contains("#Fields"));
}

#[test]
fn an_inventory_stores_and_prices_the_objects_the_log_never_reads() {
    let inv = inventory::read(&[format!("{FIXTURES}/inventory/inventory.csv").into()], None).unwrap();
    assert_eq!((inv.rows, inv.bad, inv.delete_markers), (8, 1, 1));
    assert_eq!(inv.first_bad[0].line, 7);
    assert!(inv.first_bad[0].reason.contains("12k"), "{}", inv.first_bad[0].reason);
    let classes = inv.by_class();
    assert_eq!(classes["STANDARD"].objects, 4);
    assert_eq!((classes["STANDARD_IA"].objects, classes["GLACIER_IR"].objects), (1, 1));
    let keys: Vec<&str> = inv.objects.iter().map(|o| o.key.as_str()).collect();
    assert!(keys.contains(&"archive/2018/backup 01.tar"), "form-decoded: {keys:?}");
    assert!(keys.contains(&"archive/2018/backup 01.tar (noncurrent version Fb2hP1x.older)"));

    let t = read("s3-access.log", Format::S3AccessLog);
    let plain = Workload::from_trace(&t, 1.0);
    let (w, listing) = Workload::with_inventory(&t, &inv, 1.0);
    assert_eq!(listing.only_listed, 3, "the backup, its old version, the log archive");
    assert_eq!(listing.only_listed_bytes, 1_073_741_824 + 536_870_912 + 52_428_800);
    assert_eq!(listing.after_trace, 1, "written after the log ends");
    assert_eq!(w.objects(), plain.objects() + 3);
    assert_eq!(w.end, plain.end);

    // All on the hot tier: the inventory adds the listed objects' storage from the trace's
    // start to its end and tail, the readme's storage before its first access, and removes
    // the PUT the log-only replay charges for the readme's first appearance.
    let cfg = Config::embedded_default().unwrap();
    let hot = &cfg.tiers[0];
    let with = compare(&cfg, &w, &["all-hot"]).unwrap();
    let without = compare(&cfg, &plain, &["all-hot"]).unwrap();
    let stored_until = (w.end + data_in_motion::replay::tail_ms(&cfg)) as f64;
    let listed_storage: f64 = [1_073_741_824u64, 536_870_912, 52_428_800]
        .iter()
        .map(|s| storage_rate_ms(hot, *s) * stored_until)
        .sum();
    let readme = plain.keys.iter().position(|k| k == "docs/readme.txt").unwrap();
    let readme_first = plain.events.iter().find(|e| e.obj as usize == readme).unwrap().ts;
    let expected = listed_storage + storage_rate_ms(hot, 2048) * readme_first as f64 - hot.put_per_1k / 1000.0;
    let got = with.policy("all-hot").unwrap().total_cost - without.policy("all-hot").unwrap().total_cost;
    assert!(
        (got - expected).abs() < 1e-9,
        "inventory added {got}, expected {expected}"
    );
    // Nothing beats the oracle with the inventory either.
    let all = compare(&cfg, &w, &data_in_motion::replay::POLICIES).unwrap();
    let floor = all.policy("oracle").unwrap().total_cost;
    for p in &all.policies {
        assert!(
            p.total_cost >= floor - 1e-9,
            "{} {} < oracle {floor}",
            p.policy,
            p.total_cost
        );
    }
}

#[test]
fn an_inventory_without_its_columns_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("data.csv");
    std::fs::write(&csv, "\"b\",\"k\",\"10\"\n").unwrap();
    let e = inventory::read(std::slice::from_ref(&csv), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--inventory-schema"), "{e}");
    let ok = inventory::read(&[csv], Some("Bucket, Key, Size")).unwrap();
    assert_eq!((ok.objects.len(), ok.objects[0].size), (1, 10));
    let e = inventory::read(&[dir.path().join("data.csv")], Some("Bucket, Key"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no Size column"), "{e}");
}

#[test]
fn dim_replay_reads_an_s3_log_with_its_inventory() {
    let out = Command::new(env!("CARGO_BIN_EXE_dim"))
        .args([
            "replay",
            &format!("{FIXTURES}/s3-access.log"),
            "--format",
            "s3-access-log",
        ])
        .args(["--inventory", &format!("{FIXTURES}/inventory/inventory.csv")])
        .args(["--policies", "all-hot,lru-hot-tier", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["trace"];
    assert_eq!(t["format"], "s3-access-log");
    assert_eq!(t["bad_lines"], 2);
    assert_eq!(t["first_bad"][0]["line"], 9);
    assert_eq!(t["requests"]["billed_errors"], 1);
    assert_eq!(t["inventory"]["only_listed"], 3);
    assert_eq!(t["inventory"]["by_class"]["GLACIER_IR"]["objects"], 1);
    assert_eq!(v["objects"], 7);
    let table = Command::new(env!("CARGO_BIN_EXE_dim"))
        .args([
            "replay",
            &format!("{FIXTURES}/cloudfront.log"),
            "--format",
            "cloudfront",
        ])
        .args(["--policies", "all-hot"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(table.status.success(), "{}", String::from_utf8_lossy(&table.stderr));
    assert!(
        text.contains("line 10:") && text.contains("1 edge-cache hits"),
        "{text}"
    );
}
