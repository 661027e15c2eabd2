//! The store's pool of read-only connections (r2d2): a read takes a connection an earlier read
//! gave back instead of opening one — on PostgreSQL a connect, authentication and two statements
//! each time, on SQLite a file open with its functions registered.

use std::time::Duration;

use super::conn::Connection;
use super::error::StoreError;
use super::open::{Location, open_reader_at};

/// Readers a store keeps at most: the long-lived ones (the embedded workload, a Kafka session's
/// offsets) and a few reads at once (snapshots, plans, training, control requests). Per node on
/// PostgreSQL this and the writer and leader sessions are what it asks of `max_connections`.
pub const MAX_READERS: u32 = 8;

/// How long a read waits for a connection (all in use, or the server not answering) before it
/// fails with the last connection error.
const WAIT: Duration = Duration::from_secs(10);

/// Opens and checks the store's readers for the pool.
#[derive(Debug)]
pub struct Readers {
    location: Location,
}

/// A read-only connection borrowed from the store's pool; it goes back when dropped.
pub type Reader = r2d2::PooledConnection<Readers>;

impl r2d2::ManageConnection for Readers {
    type Connection = Connection;
    type Error = StoreError;

    fn connect(&self) -> Result<Connection, StoreError> {
        open_reader_at(&self.location)
    }

    /// Checked when taken from the pool (PostgreSQL only, see `pool`): a server that restarted
    /// closed the session without the client knowing until it speaks.
    fn is_valid(&self, conn: &mut Connection) -> Result<(), StoreError> {
        conn.exec_batch("SELECT 1")
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        match conn {
            Connection::Pg(pg) => pg.is_closed(),
            Connection::Lite(_) => false,
        }
    }
}

/// The pool for the store at `location`. Nothing is opened until the first read.
pub(super) fn pool(location: &Location) -> r2d2::Pool<Readers> {
    r2d2::Pool::builder()
        .max_size(MAX_READERS)
        .min_idle(Some(0))
        .connection_timeout(WAIT)
        // An SQLite file cannot go away under an open connection; a PostgreSQL session can.
        .test_on_check_out(matches!(location, Location::Postgres(_)))
        .build_unchecked(Readers {
            location: location.clone(),
        })
}
