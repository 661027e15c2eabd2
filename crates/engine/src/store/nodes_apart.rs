//! Two nodes' ingest batches on one PostgreSQL store never wait on each other: what every batch
//! adds to (event counters, engine time, a tier's totals) is a row per node (schema step 8).

use std::collections::BTreeMap;

use super::conn::PgConn;
use super::ingest::{Batch, COUNTER_SQL, write_batch};
use super::summary::{TierTotals, summary};
use super::{Connection, Store, advance_engine_time, engine_time, testing};

fn node(url: &str, id: &str) -> Connection {
    Connection::Pg(Box::new(PgConn::connect_as(url, Some(id)).expect("connect as a node")))
}

#[test]
#[ignore = "needs the test services (scripts/test.sh)"]
fn a_batch_commits_while_another_nodes_batch_is_open() {
    let url = testing::postgres_url("nodes_apart::a_batch_commits_while_another_nodes_batch_is_open");
    let store = Store::connect(&url).unwrap();
    let a = node(&url, "a");
    let mut b = node(&url, "b");

    // Node a's batch is under way: it has counted its events, advanced engine time and landed an
    // object on `hot`, and holds whatever rows that locked until it commits.
    let tx = a.begin().unwrap();
    tx.exec(COUNTER_SQL, &[&"events.ingested", &5i64]).unwrap();
    advance_engine_time(&tx, 1_000).unwrap();
    tx.exec_batch("INSERT INTO objects(key, tier, size, created) VALUES ('a1', 'hot', 10, 0)")
        .unwrap();

    // Node b's batch does the same and must commit meanwhile: a wait on a's rows past two
    // seconds fails it instead of hanging the test.
    b.exec_batch("SET lock_timeout = '2s'").unwrap();
    let landed = [testing::record("b1", "hot", 5, 0)];
    let batch = Batch {
        registers: &landed,
        discovered: &[],
        effects: &[],
        events: 3,
        rejected: &[],
        rejected_keep: 10,
        offsets: &BTreeMap::new(),
    };
    write_batch(&mut b, &batch, 2_000).expect("node b's batch waited on node a's rows");
    tx.commit().unwrap();

    // Read back as one store: the nodes' rows add up.
    let reader = store.reader().unwrap();
    let s = summary(&reader).unwrap();
    assert_eq!(s.events.ingested, 8);
    assert_eq!(s.tiers.get("hot"), Some(&TierTotals { objects: 2, bytes: 15 }));
    assert_eq!((s.objects, s.bytes), (2, 15));
    assert_eq!(engine_time(&reader).unwrap(), Some(2_000));
}

/// What a store at schema step 7 had counted: its shared rows become node ''s.
const AT_STEP_7: &str = "INSERT INTO counters(name, value) VALUES ('events.ingested', 42), ('events.rejected', 2);
     INSERT INTO settings(name, value) VALUES ('engine_time_ms', '9000');
     INSERT INTO objects(key, tier, size, created) VALUES ('k', 'hot', 7, 0);";

fn step_8_kept(store: &Store) {
    let r = store.reader().unwrap();
    let s = summary(&r).unwrap();
    assert_eq!((s.events.ingested, s.events.rejected), (42, 2));
    assert_eq!(s.tiers.get("hot"), Some(&TierTotals { objects: 1, bytes: 7 }));
    assert_eq!(engine_time(&r).unwrap(), Some(9_000));
    advance_engine_time(&store.writer(), 8_000).unwrap();
    assert_eq!(engine_time(&r).unwrap(), Some(9_000), "engine time ran backwards");
}

#[test]
fn step_8_keeps_what_an_sqlite_store_had_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for sql in &super::schema::MIGRATIONS[..7] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 7).unwrap();
        c.execute_batch(AT_STEP_7).unwrap();
    }
    step_8_kept(&Store::open(&path, 4).unwrap());
}

#[test]
#[ignore = "needs the test services (scripts/test.sh)"]
fn step_8_keeps_what_a_postgres_store_had_counted() {
    let url = testing::postgres_url("nodes_apart::step_8_keeps_what_a_postgres_store_had_counted");
    {
        let c = Connection::Pg(Box::new(PgConn::connect(&url).unwrap()));
        c.exec_batch(super::schema_pg::FUNCTIONS).unwrap();
        c.exec_batch("CREATE TABLE dim_schema (version BIGINT NOT NULL)")
            .unwrap();
        for (i, sql) in super::schema_pg::MIGRATIONS[..7].iter().enumerate() {
            c.exec_batch(sql).unwrap();
            c.exec("INSERT INTO dim_schema(version) VALUES (?1)", &[&((i + 1) as i64)])
                .unwrap();
        }
        c.exec_batch(AT_STEP_7).unwrap();
    }
    step_8_kept(&Store::connect(&url).unwrap());
}
