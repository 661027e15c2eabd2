//! The `[store]` section's checks: where the store is, and how long a cluster node's claims last.

use super::invalid::{Invalid, bad};

/// A PostgreSQL URL when one is given, and leases long enough to outlive a heartbeat or two.
pub(super) fn validate_store(s: &super::StoreConfig) -> Result<(), Invalid> {
    if !(2..=3600).contains(&s.lease_secs) {
        return Err(bad("store.lease_secs", "must be between 2 and 3600", "e.g. 10"));
    }
    match &s.url {
        Some(url) if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) => Err(bad(
            "store.url",
            "must be a PostgreSQL URL",
            "e.g. postgres://dim@127.0.0.1:5432/dim, or leave it out for the SQLite file",
        )),
        _ => Ok(()),
    }
}
