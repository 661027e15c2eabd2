//! The event codec: every rejection reason, the seed's format, timestamp units, and ingest going on after each bad event.

use data_in_motion::engine::events::Op;
use data_in_motion::engine::events::codec::{DecodeContext, RejectReason, decode};
use data_in_motion::engine::ingest::{Item, Pending, SourceBatch, apply};
use data_in_motion::engine::store::Store;
use data_in_motion::engine::store::summary::summary;

const NOW: i64 = 1_800_000_000_000; // 2027-01-15, engine time

fn ctx() -> DecodeContext {
    DecodeContext {
        now_ms: NOW,
        max_future_ms: 300_000,
    }
}

fn bad_cases() -> Vec<(String, RejectReason)> {
    let long_key = "k".repeat(1025);
    vec![
        ("not json".into(), RejectReason::InvalidJson),
        ("[1, 2, 3]".into(), RejectReason::InvalidJson),
        (r#"{"key": "a", "op": "GET""#.into(), RejectReason::InvalidJson),
        (r#"{"op": "GET"}"#.into(), RejectReason::MissingKey),
        (r#"{"key": "", "op": "GET"}"#.into(), RejectReason::MissingKey),
        (r#"{"key": 42, "op": "GET"}"#.into(), RejectReason::MissingKey),
        (
            format!(r#"{{"key": "{long_key}", "op": "GET"}}"#),
            RejectReason::KeyTooLong,
        ),
        (r#"{"key": "a\u0000b", "op": "GET"}"#.into(), RejectReason::KeyHasNul),
        (r#"{"key": "a", "op": "FETCH"}"#.into(), RejectReason::UnknownOp),
        (r#"{"key": "a", "action": "munch"}"#.into(), RejectReason::UnknownOp),
        (r#"{"key": "a"}"#.into(), RejectReason::UnknownOp),
        (r#"{"key": "a", "op": "GET", "size": -5}"#.into(), RejectReason::BadSize),
        (
            r#"{"key": "a", "op": "GET", "size": 1.5}"#.into(),
            RejectReason::BadSize,
        ),
        (
            r#"{"key": "a", "op": "GET", "size": "big"}"#.into(),
            RejectReason::BadSize,
        ),
        (
            r#"{"key": "a", "op": "GET", "size": 99999999999999999}"#.into(),
            RejectReason::BadSize,
        ),
        (
            r#"{"key": "a", "op": "GET", "ts": "yesterday"}"#.into(),
            RejectReason::BadTs,
        ),
        (r#"{"key": "a", "op": "GET", "ts": -1}"#.into(), RejectReason::BadTs),
        (r#"{"key": "a", "op": "GET", "ts": true}"#.into(), RejectReason::BadTs),
        (
            format!(r#"{{"key": "a", "op": "GET", "ts": {}}}"#, NOW + 3_600_000),
            RejectReason::FutureTs,
        ),
        (
            r#"{"key": "a", "op": "GET", "ts": "2999-01-01T00:00:00Z"}"#.into(),
            RejectReason::FutureTs,
        ),
    ]
}

#[test]
fn every_rejection_reason_is_reported() {
    let mut seen = std::collections::BTreeSet::new();
    for (payload, want) in bad_cases() {
        let r = decode(payload.as_bytes(), ctx()).expect_err(&payload);
        assert_eq!(r.reason, want, "{payload}: {}", r.detail);
        assert!(!r.detail.is_empty());
        assert!(r.raw.len() <= 2048);
        seen.insert(want);
    }
    assert_eq!(seen.len(), RejectReason::ALL.len(), "a reason has no test case");
}

#[test]
fn rejected_raw_payload_is_bounded() {
    let huge = format!(r#"{{"key": "{}", "op": "GET"}}"#, "x".repeat(100_000));
    let r = decode(huge.as_bytes(), ctx()).unwrap_err();
    assert_eq!(r.reason, RejectReason::KeyTooLong);
    assert_eq!(r.raw.len(), 2048);
}

#[test]
fn dim_format_decodes() {
    let e = decode(
        br#"{"ts": 1799999999000, "key": "docs/a.pdf", "op": "put", "size": 1024, "client": "app-1", "extra": [1]}"#,
        ctx(),
    )
    .unwrap();
    assert_eq!(e.ts, 1_799_999_999_000);
    assert_eq!(e.key, "docs/a.pdf");
    assert_eq!(e.op, Op::Put);
    assert_eq!(e.size, Some(1024));
    assert_eq!(e.client.as_deref(), Some("app-1"));
    for (op, want) in [("GET", Op::Get), ("HEAD", Op::Head), ("DELETE", Op::Delete)] {
        let e = decode(format!(r#"{{"key": "a", "op": "{op}"}}"#).as_bytes(), ctx()).unwrap();
        assert_eq!(e.op, want);
    }
}

#[test]
fn seed_format_decodes() {
    let e = decode(
        br#"{"key": "file_17.dat", "action": "read", "ts": 1799999999123}"#,
        ctx(),
    )
    .unwrap();
    assert_eq!(
        (e.key.as_str(), e.op, e.ts),
        ("file_17.dat", Op::Get, 1_799_999_999_123)
    );
    let e = decode(br#"{"key": "file_17.dat", "action": "write", "ts": 1799999999}"#, ctx()).unwrap();
    assert_eq!((e.op, e.ts), (Op::Put, 1_799_999_999_000));
}

#[test]
fn timestamp_units_are_told_apart_by_magnitude() {
    let cases: [(&str, i64); 9] = [
        ("1799999999", 1_799_999_999_000),               // seconds
        ("1799999999.5", 1_799_999_999_500),             // fractional seconds
        ("1799999999123", 1_799_999_999_123),            // milliseconds
        ("1799999999123456", 1_799_999_999_123),         // microseconds
        ("1799999999123456789", 1_799_999_999_123),      // nanoseconds
        ("\"2027-01-15T08:00:00Z\"", 1_800_000_000_000), // RFC 3339
        ("\"2027-01-15T09:00:00+01:00\"", 1_800_000_000_000),
        ("\"1799999999\"", 1_799_999_999_000), // epoch in a string
        ("null", NOW),                         // null = now
    ];
    for (ts, want) in cases {
        let e = decode(format!(r#"{{"key": "a", "op": "GET", "ts": {ts}}}"#).as_bytes(), ctx()).unwrap();
        assert_eq!(e.ts, want, "ts {ts}");
    }
    let e = decode(br#"{"key": "a", "op": "GET"}"#, ctx()).unwrap();
    assert_eq!(e.ts, NOW, "a missing ts means now on the engine clock");
}

#[test]
fn garbage_never_panics() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for len in 0..2000usize {
        let bytes: Vec<u8> = (0..len % 97)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x & 0xff) as u8
            })
            .collect();
        let _ = decode(&bytes, ctx());
        let mut framed = b"{\"key\":".to_vec();
        framed.extend_from_slice(&bytes);
        let _ = decode(&framed, ctx());
    }
}

#[test]
fn ingest_continues_after_every_kind_of_bad_event() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db"), 8).unwrap();
    let mut items = Vec::new();
    let cases = bad_cases();
    for (i, (payload, _)) in cases.iter().enumerate() {
        for raw in [
            payload.clone(),
            format!(r#"{{"key": "good-{i}", "op": "GET", "ts": {NOW}}}"#),
        ] {
            items.push(match decode(raw.as_bytes(), ctx()) {
                Ok(e) => Item::Event(e),
                Err(r) => Item::Rejected(r),
            });
        }
    }
    let mut p = Pending::default();
    p.add(SourceBatch {
        source: "test".into(),
        items,
        offsets: vec![(0, 2 * cases.len() as i64)],
        caught_up: false,
        generation: 0,
    });
    apply(&mut store.writer(), &p, NOW, 10_000).unwrap();

    let s = summary(&store.reader().unwrap()).unwrap();
    assert_eq!(s.events.ingested, cases.len() as u64);
    assert_eq!(s.events.rejected, cases.len() as u64);
    assert_eq!(s.objects, cases.len() as u64, "every good event after a bad one landed");
    for reason in RejectReason::ALL {
        assert!(
            s.events.rejected_by_reason.get(reason.label()).copied().unwrap_or(0) >= 1,
            "{}",
            reason.label()
        );
    }
    let conn = store.reader().unwrap();
    let (n, with_raw): (i64, i64) = conn
        .as_sqlite()
        .unwrap()
        .query_row(
            "SELECT count(*), count(NULLIF(raw, '')) FROM rejected_events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(n, cases.len() as i64);
    assert_eq!(
        with_raw,
        cases.len() as i64,
        "the raw payload is kept with each rejection"
    );
}
