//! Keeping hot write statements prepared. diesel prepares every statement, but keeps only
//! those it can prove have a bounded number of SQL texts: never an `UPDATE`, an `INSERT` with
//! an optional column, or `sql_query`. On PostgreSQL each of those is parsed and planned again
//! on every call (the unnamed statement), on SQLite compiled again, and for an order that is
//! five of its statements. [`Keep`] marks a statement whose SQL text the caller knows comes in
//! few shapes; the connection then caches it by its text, like any other cached statement.
//!
//! Only a statement that is *loaded* (`get_result`, `load`) is kept: diesel runs `execute` on a
//! reference, and a reference asks the statement's parts again, which refuse. So a kept write
//! carries a `RETURNING` and is loaded.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement to keep prepared on its connection, keyed by its SQL text. Only for statements
/// built from a fixed shape (one row, a fixed `SET` list, a constant `sql_query`): each distinct
/// text stays in the connection's cache for the connection's life.
#[derive(Debug, Clone, Copy)]
pub struct Keep<Q>(pub Q);

impl<Q> QueryId for Keep<Q> {
    type QueryId = ();
    // keyed by the SQL text, never by type: one type can render several texts
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for Keep<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q: Query> Query for Keep<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Keep<Q> {}

/// How many values an `IN` list may name and still be kept prepared: an order's handful of
/// SKUs is the common case, while each list length is a statement text of its own (on SQLite;
/// PostgreSQL binds one array), so longer lists are compiled afresh instead of filling the cache.
pub const FEW: usize = 4;

/// Loads `query`, kept prepared when its `IN` list names at most [`FEW`] values.
pub fn load_listed<'q, Q, U>(
    conn: &mut super::DbConn,
    query: Q,
    listed: usize,
) -> QueryResult<Vec<U>>
where
    Q: diesel::query_dsl::LoadQuery<'q, super::DbConn, U>,
    Keep<Q>: diesel::query_dsl::LoadQuery<'q, super::DbConn, U>,
{
    load_kept_if(conn, query, listed <= FEW)
}

/// Loads `query`, kept prepared when `keep` (the caller knows its text comes in few shapes).
pub fn load_kept_if<'q, Q, U>(conn: &mut super::DbConn, query: Q, keep: bool) -> QueryResult<Vec<U>>
where
    Q: diesel::query_dsl::LoadQuery<'q, super::DbConn, U>,
    Keep<Q>: diesel::query_dsl::LoadQuery<'q, super::DbConn, U>,
{
    if keep {
        Keep(query).load(conn)
    } else {
        query.load(conn)
    }
}

/// `query LIMIT n` with `n` written into the SQL text instead of bound. SQLite plans with the
/// value bound to a `LIMIT ?` (3.46 and later), and so marks the statement to be compiled
/// again whenever that parameter is bound, which diesel does on every execution: a cached
/// page statement was recompiled on every page (a tenth of a rare search's CPU, `perf`). A
/// literal leaves one statement text per page size, cached like any other; PostgreSQL, too,
/// then plans knowing how many rows are wanted. `query` must have no `LIMIT` of its own.
#[derive(Debug, Clone, Copy)]
pub struct Limit<Q> {
    query: Q,
    rows: u32,
    keep: bool,
}

impl<Q> QueryId for Limit<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for Limit<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(pass.reborrow())?;
        pass.push_sql(" LIMIT ");
        pass.push_sql(&self.rows.to_string());
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, backend: &DB) -> QueryResult<bool> {
        Ok(self.keep || self.query.is_safe_to_cache_prepared(backend)?)
    }
}

impl<Q: Query> Query for Limit<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Limit<Q> {}

/// Loads at most `rows` rows of `query` (which has no `LIMIT`), the limit in the SQL text (see
/// [`Limit`]); `keep`: keep it prepared even if diesel would not (see [`Keep`]).
pub fn load_limited<'q, Q, U>(
    conn: &mut super::DbConn,
    query: Q,
    rows: i64,
    keep: bool,
) -> QueryResult<Vec<U>>
where
    Limit<Q>: diesel::query_dsl::LoadQuery<'q, super::DbConn, U>,
{
    Limit {
        query,
        rows: u32::try_from(rows.max(0)).unwrap_or(u32::MAX),
        keep,
    }
    .load(conn)
}

/// Narrows a boxed `query` to the rows whose `column` is one of `ids`: by `=` when there is
/// one (an order's usual single SKU), because PostgreSQL plans `= ANY($1)` afresh on every
/// call — a generic plan, costed for an array of unknown length, never wins against a custom
/// plan for one element — while `= $1` is planned once per connection.
#[macro_export]
macro_rules! filter_ids {
    ($query:expr, $column:expr, $ids:expr) => {
        match $ids {
            [one] => $query.filter($column.eq(*one)),
            many => $query.filter($column.eq_any(many.to_vec())),
        }
    };
}

/// Several writes as one PostgreSQL statement: `WITH a AS (…), b AS (…) SELECT …`, one round
/// trip instead of one per write. PostgreSQL runs every data-modifying part of a `WITH` once
/// and to completion whether or not the final `SELECT` reads it, and checks foreign keys at
/// the end of the statement, so parts may write rows that refer to each other. The order the
/// parts run in is not defined: never two parts that lock rows other statements lock in some
/// order. `keep`: the caller knows the SQL text comes in few shapes (see [`Keep`]).
pub struct Together<'a, DB: Backend, ST> {
    parts: Vec<(&'static str, Box<dyn QueryFragment<DB> + 'a>)>,
    select: &'static str,
    keep: bool,
    sql_type: std::marker::PhantomData<ST>,
}

impl<'a, DB: Backend, ST> Together<'a, DB, ST> {
    /// Ends with `select`, which may read the parts by their names.
    pub fn new(select: &'static str, keep: bool) -> Self {
        Together {
            parts: Vec::new(),
            select,
            keep,
            sql_type: std::marker::PhantomData,
        }
    }

    /// Adds a part named `name`; a part `select` reads needs a `RETURNING`.
    pub fn with(mut self, name: &'static str, part: impl QueryFragment<DB> + 'a) -> Self {
        self.parts.push((name, Box::new(part)));
        self
    }
}

impl<DB: Backend, ST> QueryId for Together<'_, DB, ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend, ST> QueryFragment<DB> for Together<'_, DB, ST> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        pass.push_sql("WITH ");
        for (n, (name, part)) in self.parts.iter().enumerate() {
            if n > 0 {
                pass.push_sql(", ");
            }
            pass.push_sql(name);
            pass.push_sql(" AS (");
            part.walk_ast(pass.reborrow())?;
            pass.push_sql(")");
        }
        pass.push_sql(" ");
        pass.push_sql(self.select);
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(self.keep)
    }
}

impl<DB: Backend, ST> Query for Together<'_, DB, ST> {
    type SqlType = ST;
}

impl<DB: Backend, ST, Conn> RunQueryDsl<Conn> for Together<'_, DB, ST> {}
