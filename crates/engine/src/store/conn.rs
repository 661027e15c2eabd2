//! One connection type for both backends (SQLite embedded, PostgreSQL for several nodes): the
//! store's functions write their SQL once, with SQLite's `?N` placeholders, and run it on either.

use std::cell::RefCell;
use std::collections::HashMap;

use super::StoreError;

/// A connection to the store. Callers hold one and hand it to the store's functions; only this
/// module and its siblings speak SQL on it (tests/layers.rs keeps that true).
pub enum Connection {
    Lite(rusqlite::Connection),
    Pg(Box<PgConn>),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Connection::Lite(_) => "Connection(SQLite)",
            Connection::Pg(_) => "Connection(PostgreSQL)",
        })
    }
}

/// Which SQL a statement must be written in, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Lite,
    Pg,
}

/// A PostgreSQL client with its prepared statements, keyed by the SQL text the store wrote.
/// `RefCell` because the client needs `&mut` for every query and the store API hands out `&`.
pub struct PgConn {
    /// `None` only while the connection is dropped.
    client: RefCell<Option<postgres::Client>>,
    /// The cluster node this session writes for (`dim_node()` in SQL), if it is one.
    node: Option<String>,
    prepared: RefCell<HashMap<String, postgres::Statement>>,
}

/// Runs blocking PostgreSQL I/O from wherever the store is called. The `postgres` client drives
/// its socket on a runtime of its own, which tokio forbids inside a runtime's thread: on a
/// multi-threaded runtime the call is marked blocking (`block_in_place`, which also serves the
/// blocking pool's threads); a single-threaded runtime cannot block at all, so that is refused.
pub(super) fn off_runtime<T>(f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    match tokio::runtime::Handle::try_current() {
        Err(_) => f(),
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        Ok(_) => Err(StoreError::SingleThreadedRuntime),
    }
}

impl PgConn {
    pub(crate) fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_as(url, None)
    }

    /// A session writing for cluster node `node`: its task transitions are fenced by its leases.
    pub(crate) fn connect_as(url: &str, node: Option<&str>) -> Result<Self, StoreError> {
        let client = off_runtime(|| Ok(postgres::Client::connect(url, postgres::NoTls)?))?;
        let conn = Self {
            client: RefCell::new(Some(client)),
            node: node.map(str::to_string),
            prepared: RefCell::new(HashMap::new()),
        };
        if let Some(node) = node {
            let stmt = conn.statement("SELECT set_config('dim.node', ?1, false)")?;
            off_runtime(|| Ok(conn.client()?.query(&stmt, &[&node]).map(drop)?))?;
        }
        Ok(conn)
    }

    pub(crate) fn node(&self) -> Option<&str> {
        self.node.as_deref()
    }

    /// The client itself, for what the shared helpers do not cover (COPY, arrays, locks).
    pub(crate) fn client(&self) -> Result<std::cell::RefMut<'_, postgres::Client>, StoreError> {
        std::cell::RefMut::filter_map(self.client.borrow_mut(), Option::as_mut).map_err(|_| StoreError::Closed)
    }

    /// The prepared statement for `sql` (written with `?N`), prepared once per connection.
    pub(super) fn statement(&self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(s) = self.prepared.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = off_runtime(|| Ok(self.client()?.prepare(&numbered(sql))?))?;
        self.prepared.borrow_mut().insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.borrow().as_ref().is_none_or(postgres::Client::is_closed)
    }
}

impl Drop for PgConn {
    /// Closing a client waits on its own runtime, as every call does (see `off_runtime`); on a
    /// single-threaded runtime it is closed on a thread of its own instead.
    fn drop(&mut self) {
        let Some(client) = self.client.get_mut().take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread => {
                std::thread::spawn(move || drop(client));
            }
            _ => {
                let _ = off_runtime(move || {
                    drop(client);
                    Ok(())
                });
            }
        }
    }
}

/// SQLite's `?N` placeholders as PostgreSQL's `$N`, outside quoted text.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

/// A value bound to a statement: anything both drivers can send.
pub(crate) trait Param: Sync {
    fn lite(&self) -> &dyn rusqlite::ToSql;
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Param for T {
    fn lite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// A value read from a row: anything both drivers can return.
pub(crate) trait Value: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a> {}
impl<T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>> Value for T {}

/// One result row, from either backend.
pub(crate) enum Row<'a, 'b> {
    Lite(&'a rusqlite::Row<'b>),
    Pg(&'a postgres::Row),
}

impl Row<'_, '_> {
    pub(crate) fn get<T: Value>(&self, i: usize) -> Result<T, StoreError> {
        match self {
            Row::Lite(r) => Ok(r.get(i)?),
            Row::Pg(r) => Ok(r.try_get(i)?),
        }
    }
}

fn lite_params<'p>(params: &'p [&'p dyn Param]) -> Vec<&'p dyn rusqlite::ToSql> {
    params.iter().map(|p| p.lite()).collect()
}

fn pg_params<'p>(params: &'p [&'p dyn Param]) -> Vec<&'p (dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p.pg()).collect()
}

impl Connection {
    pub fn dialect(&self) -> Dialect {
        match self {
            Connection::Lite(_) => Dialect::Lite,
            Connection::Pg(_) => Dialect::Pg,
        }
    }

    /// The SQLite connection underneath, for tests that look at the file's rows themselves.
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Connection::Lite(c) => Some(c),
            Connection::Pg(_) => None,
        }
    }

    /// Runs one statement; how many rows it changed.
    pub(crate) fn exec(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        match self {
            Connection::Lite(c) => Ok(c.prepare_cached(sql)?.execute(&lite_params(params)[..])? as u64),
            Connection::Pg(c) => {
                let stmt = c.statement(sql)?;
                off_runtime(|| Ok(c.client()?.execute(&stmt, &pg_params(params))?))
            }
        }
    }

    /// Runs statements without parameters (schema steps).
    pub(crate) fn exec_batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Connection::Lite(c) => Ok(c.execute_batch(sql)?),
            Connection::Pg(c) => off_runtime(|| Ok(c.client()?.batch_execute(sql)?)),
        }
    }

    /// The first row `sql` returns, read by `f`; `None` when it returns none.
    pub(crate) fn row<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        match self {
            Connection::Lite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(&lite_params(params)[..])?;
                match rows.next()? {
                    Some(r) => Ok(Some(f(&Row::Lite(r))?)),
                    None => Ok(None),
                }
            }
            Connection::Pg(c) => {
                let stmt = c.statement(sql)?;
                let row = off_runtime(|| Ok(c.client()?.query_opt(&stmt, &pg_params(params))?))?;
                row.map(|r| f(&Row::Pg(&r))).transpose()
            }
        }
    }

    /// Every row `sql` returns, each read by `f`.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.each_row(sql, params, |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with every row `sql` returns as the server sends them, so memory stays what
    /// `f` keeps (listing millions of objects).
    pub(crate) fn each_row(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_, '_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Connection::Lite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(&lite_params(params)[..])?;
                while let Some(r) = rows.next()? {
                    f(&Row::Lite(r))?;
                }
            }
            Connection::Pg(c) => {
                use postgres::fallible_iterator::FallibleIterator;
                let stmt = c.statement(sql)?;
                off_runtime(|| {
                    let mut client = c.client()?;
                    let mut rows = client.query_raw(&stmt, pg_params(params))?;
                    while let Some(r) = rows.next()? {
                        f(&Row::Pg(&r))?;
                    }
                    Ok(())
                })?;
            }
        }
        Ok(())
    }

    /// `lite` on SQLite, `pg` on PostgreSQL: for the few statements the two write differently.
    pub(crate) fn pick<'s>(&self, lite: &'s str, pg: &'s str) -> &'s str {
        match self {
            Connection::Lite(_) => lite,
            Connection::Pg(_) => pg,
        }
    }

    /// Starts a transaction that rolls back unless committed: what one store write holds.
    pub(crate) fn begin(&self) -> Result<Tx<'_>, StoreError> {
        self.exec_batch("BEGIN")?;
        Ok(Tx { conn: self, open: true })
    }
}

/// An open transaction on a connection; derefs to it, rolls back when dropped uncommitted.
pub(crate) struct Tx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.conn.exec_batch("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open
            && let Err(e) = self.conn.exec_batch("ROLLBACK")
        {
            tracing::warn!(target: "dim::store", error = %e, "rollback failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT '?1', a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT '?1', a FROM t WHERE b = $1 AND c = $12"
        );
    }
}
