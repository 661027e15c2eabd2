//! The store's tests run on both backends: a fresh SQLite file, and a fresh database on the
//! PostgreSQL server scripts/test.sh starts (`DIM_TEST_PG_URL`; a test that asked for it fails
//! without it, never skips).

use super::Store;
use super::ingest::ObjectRecord;
use crate::clock::Millis;

/// An object found on `tier` at `at` (created and last modified then), its ETag named after it.
pub(crate) fn record(key: &str, tier: &str, size: u64, at: Millis) -> ObjectRecord {
    ObjectRecord {
        key: key.into(),
        tier: tier.into(),
        size,
        etag: Some(format!("e-{key}")),
        last_modified: at,
        created: at,
    }
}

/// A store for one test, with what must outlive it (the SQLite file's directory).
pub(crate) struct TestStore {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

pub(crate) fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("s.db"), 8).expect("open SQLite store");
    TestStore { store, _dir: Some(dir) }
}

/// The URL of a new, empty database on the test server.
pub(crate) fn postgres_url(test: &str) -> String {
    let admin = std::env::var("DIM_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("{test}: DIM_TEST_PG_URL is not set; run ./scripts/test.sh, which starts PostgreSQL and sets it")
    });
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "dim_t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    super::create_database(&admin, &name).expect("create a test database")
}

pub(crate) fn postgres(test: &str) -> TestStore {
    let store = Store::connect(&postgres_url(test)).expect("connect to the PostgreSQL store");
    TestStore { store, _dir: None }
}

/// Runs each named test function (taking a `&Store`) on both backends: `NAME::sqlite` and
/// `NAME::postgres` (ignored by a plain `cargo test`, as every test that needs a server is).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(&crate::store::testing::sqlite());
                }
                #[test]
                #[ignore = "needs the test services (scripts/test.sh)"]
                fn postgres() {
                    super::$name(&crate::store::testing::postgres(concat!(module_path!(), "::", stringify!($name))));
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;
