//! The store's reader pool (`pool.rs`): what a read sees, and which session serves it.

use super::testing::on_both_backends;
use super::{Store, get_setting, set_setting};

on_both_backends!(a_pooled_reader_sees_every_later_commit);

/// A reader given back and taken again must not keep an old view of the store.
fn a_pooled_reader_sees_every_later_commit(s: &Store) {
    for v in ["1", "2", "3"] {
        set_setting(&s.writer(), "pool.test", v).unwrap();
        assert_eq!(
            get_setting(&s.reader().unwrap(), "pool.test").unwrap().as_deref(),
            Some(v)
        );
    }
    let held: Vec<_> = (0..3).map(|_| s.reader().unwrap()).collect();
    set_setting(&s.writer(), "pool.test", "4").unwrap();
    for r in &held {
        assert_eq!(get_setting(r, "pool.test").unwrap().as_deref(), Some("4"));
    }
}

fn backend_pid(s: &Store) -> i32 {
    s.reader()
        .unwrap()
        .row("SELECT pg_backend_pid()", &[], |r| r.get(0))
        .unwrap()
        .unwrap()
}

/// One session serves read after read, and one the server ended is replaced, not returned.
#[test]
#[ignore = "needs the test services (scripts/test.sh)"]
fn postgres_reuses_its_readers_and_replaces_one_the_server_ended() {
    let s = super::testing::postgres("pool::postgres_reuses_its_readers");
    let pid = backend_pid(&s);
    assert_eq!(backend_pid(&s), pid, "a second read opened a new session");
    let ended: bool = s
        .writer()
        .row("SELECT pg_terminate_backend(?1)", &[&pid], |r| r.get(0))
        .unwrap()
        .unwrap();
    assert!(ended);
    let fresh = backend_pid(&s);
    assert_ne!(fresh, pid, "the ended session was handed out again");
    assert_eq!(get_setting(&s.reader().unwrap(), "nothing.here").unwrap(), None);
}
