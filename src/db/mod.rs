//! The data layer: one connection type over PostgreSQL and SQLite, its pool, the write
//! transaction every change goes through, embedded migrations, and the helper that moves
//! diesel's blocking work off the async workers.

pub mod failures;
pub mod group_commit;
pub mod prepared;
pub mod replicas;
pub mod schema;
pub mod stored;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to either database; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    Postgres(String),
    Sqlite(std::path::PathBuf),
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // a PostgreSQL URL may carry a password: show only hosts and database
            DbUrl::Postgres(u) => write!(f, "postgres://{}", pg_hosts_and_database(u)),
            DbUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
        }
    }
}

/// `host:port,host:port/database` of a PostgreSQL URL, without user, password or parameters
/// (written by hand: a multi-host URL is not a URL the `url` crate parses).
pub fn pg_hosts_and_database(raw: &str) -> String {
    let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{hosts}/{database}")
}

/// The URL with libpq's `connect_timeout` (whole seconds, at least 1) unless it sets one:
/// a dead host then costs at most that long before libpq tries the next one or gives up.
pub fn pg_url_with_connect_timeout(raw: &str, timeout: Duration) -> String {
    if raw.contains("connect_timeout=") {
        return raw.to_owned();
    }
    let secs = timeout.as_secs().max(1);
    let joiner = if raw.contains('?') { '&' } else { '?' };
    format!("{raw}{joiner}connect_timeout={secs}")
}

impl DbUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err("DATABASE_URL names no SQLite file".into());
        }
        if path.contains("://") {
            return Err(format!("unsupported database URL scheme in {path:?}"));
        }
        Ok(DbUrl::Sqlite(path.into()))
    }
}

/// Opens connections of the backend the URL names, keeping the backend's own error
/// (the derive's `establish` tries each backend and loses it).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DbUrl,
    /// A SQLite file's one writer (`group_commit`), kept while the pool lives.
    group: Option<std::sync::Arc<group_commit::Group>>,
}

impl ConnectionManager {
    pub fn new(url: DbUrl) -> Self {
        Self { url, group: None }
    }

    /// PostgreSQL URLs get libpq's `connect_timeout`.
    pub fn with_connect_timeout(url: DbUrl, timeout: Duration) -> Self {
        let url = match url {
            DbUrl::Postgres(u) => DbUrl::Postgres(pg_url_with_connect_timeout(&u, timeout)),
            other => other,
        };
        Self { url, group: None }
    }

    /// The pool's writes share COMMITs on one writer connection (SQLite files only: an
    /// in-memory database is a different one on every connection).
    fn with_group_commit(mut self, settings: SessionSettings) -> Self {
        if let DbUrl::Sqlite(path) = &self.url {
            if !path.to_string_lossy().contains(":memory:") {
                self.group = group_commit::register(path, settings);
            }
        }
        self
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        match &self.url {
            DbUrl::Postgres(u) => diesel::PgConnection::establish(u).map(DbConn::Pg),
            DbUrl::Sqlite(p) => {
                diesel::SqliteConnection::establish(&p.to_string_lossy()).map(DbConn::Sqlite)
            }
        }
        .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        // a query on this thread found the server gone (diesel notices that itself only
        // inside a transaction): the connection is dropped rather than handed out again
        let lost = failures::take_connection_lost();
        std::thread::panicking() || lost || conn.is_broken()
    }
}

/// Which pool a connection belongs to, as `/metrics` labels its statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolRole {
    Primary,
    Replica,
}

impl PoolRole {
    pub fn label(self) -> &'static str {
        match self {
            PoolRole::Primary => "primary",
            PoolRole::Replica => "replica",
        }
    }
}

/// Session settings applied to every new connection.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub sqlite_synchronous_full: bool,
    /// SQLite's page cache per connection, in KiB (its own default is 2,000).
    pub sqlite_cache_kib: u32,
    pub role: PoolRole,
    /// libpq's `connect_timeout` for PostgreSQL connections.
    pub connect_timeout: Duration,
}

impl SessionSettings {
    pub fn primary(sqlite_synchronous_full: bool) -> Self {
        Self {
            sqlite_synchronous_full,
            sqlite_cache_kib: 2000,
            role: PoolRole::Primary,
            connect_timeout: Duration::from_secs(3),
        }
    }
}

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        conn.set_instrumentation(statement_counter(self.role.label()));
        let sql = match conn {
            // busy_timeout first: switching to WAL itself needs the lock
            DbConn::Sqlite(_) => format!(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; PRAGMA cache_size = -{};",
                if self.sqlite_synchronous_full {
                    "FULL"
                } else {
                    "NORMAL"
                },
                self.sqlite_cache_kib.max(100)
            ),
            // Plan each kept statement once per connection, whatever its values. Left to
            // choose, PostgreSQL kept planning some statements afresh on every execution
            // (custom plans: a generic plan for `LIKE $1` or a range of unknown width looked
            // dearer), and planning cost more than running them: a catalogue page planned
            // 0.8 ms to run 0.5 ms; `q=米` went from 1,460 to 2,000-2,200 pages/s with the
            // backends' CPU 2.35 -> 1.04 s for 4,000 pages, order placement (spread) from
            // ~756 to ~855 orders/s. Statements whose best plan depends on a value are
            // written so that one plan suits every value (the catalogue walks an index in page
            // order; see catalogue::search for the price range).
            DbConn::Pg(_) => {
                "SET TIME ZONE 'UTC'; SET plan_cache_mode = force_generic_plan".to_owned()
            }
        };
        conn.batch_execute(&sql)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// `queue_timeout`: how long a caller waits for a free connection before giving up.
pub fn build_pool(
    url: &DbUrl,
    size: u32,
    settings: SessionSettings,
    queue_timeout: Duration,
) -> Result<DbPool, String> {
    if let DbUrl::Sqlite(path) = url {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
    }
    // an in-memory SQLite database exists once per connection: keep exactly one
    let in_memory = matches!(url, DbUrl::Sqlite(p) if p.to_string_lossy().contains(":memory:"));
    let size = if in_memory { 1 } else { size.max(1) };
    if let (DbUrl::Sqlite(path), false) = (url, in_memory) {
        // WAL is a property of the file: set it once here, before the pool opens its
        // connections together (each switching a new file at once, all but one found it locked)
        let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
            .map_err(|e| format!("cannot open the database {url:?}: {e}"))?;
        conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
            .map_err(|e| format!("cannot switch {url:?} to WAL: {e}"))?;
    }
    pool_builder(size, settings, queue_timeout)
        .build(
            ConnectionManager::with_connect_timeout(url.clone(), settings.connect_timeout)
                .with_group_commit(settings),
        )
        .map_err(|e| format!("cannot open the database {url:?}: {e}"))
}

/// A pool on a PostgreSQL replica: built without connecting (a replica that is down at
/// start-up must not keep the server from starting), and quick to give up on a checkout, as
/// the read then goes to the primary.
pub fn build_replica_pool(url: &str, size: u32, settings: SessionSettings) -> DbPool {
    let settings = SessionSettings {
        role: PoolRole::Replica,
        ..settings
    };
    pool_builder(size.max(1), settings, Duration::from_millis(500))
        .min_idle(Some(1))
        .build_unchecked(ConnectionManager::with_connect_timeout(
            DbUrl::Postgres(url.to_owned()),
            settings.connect_timeout,
        ))
}

fn pool_builder(
    size: u32,
    settings: SessionSettings,
    queue_timeout: Duration,
) -> r2d2::Builder<ConnectionManager> {
    r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(queue_timeout)
        // no ping on every checkout (a round trip per request); broken connections are
        // detected by `has_broken` after the failing query and replaced
        .test_on_check_out(false)
        .connection_customizer(Box::new(settings))
}

/// Applies pending migrations for the connection's backend. On PostgreSQL an advisory lock
/// keeps several instances starting at once from racing each other.
pub fn run_migrations(conn: &mut DbConn) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConn::Pg(c) => {
            // a standby cannot take writes: say so before anything is tried
            #[derive(QueryableByName)]
            struct Recovery {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                in_recovery: bool,
            }
            let standby = diesel::sql_query("SELECT pg_is_in_recovery() AS in_recovery")
                .get_result::<Recovery>(c)
                .map_err(|e| e.to_string())?
                .in_recovery;
            if standby {
                return Err(
                    "DATABASE_URL reaches a standby (read-only) PostgreSQL server; \
                     migrations need the primary: list the primary's host, or add \
                     target_session_attrs=read-write to a multi-host URL"
                        .into(),
                );
            }
            c.batch_execute("SELECT pg_advisory_lock(727274)")
                .map_err(|e| e.to_string())?;
            let result = c
                .run_pending_migrations(PG_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            let _ = c.batch_execute("SELECT pg_advisory_unlock(727274)");
            result?
        }
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>())
            .map_err(|e| e.to_string())?,
    };
    Ok(applied)
}

/// How many times a write transaction is tried when PostgreSQL reports a serialization
/// failure (40001) or a deadlock (40P01); other errors are never retried.
pub const WRITE_ATTEMPTS: u32 = 4;

/// Runs `f` in a write transaction. On SQLite the outermost one opens with `BEGIN IMMEDIATE`,
/// so the write lock is taken up front and concurrent read-then-write transactions queue on
/// busy_timeout instead of failing with "database is locked". Nested calls are savepoints.
/// The outermost transaction is run again, after a short jittered pause, when the database
/// reports a serialization failure or a deadlock (counted in `db_transaction_retries_total`):
/// everything it did was rolled back, so `f` starts over on a clean slate.
pub fn write_tx<T, E, F>(conn: &mut DbConn, mut f: F) -> Result<T, E>
where
    F: FnMut(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if transaction_depth(conn).map_err(E::from)?.is_some() {
        return conn.transaction(f);
    }
    let mut attempt = 1;
    loop {
        failures::take_transient();
        let outcome = write_tx_once(conn, &mut f);
        let transient = failures::take_transient();
        match (outcome, transient) {
            (Err(_), Some(reason)) if attempt < WRITE_ATTEMPTS => {
                metrics::counter!("db_transaction_retries_total", "reason" => reason).increment(1);
                tracing::debug!(reason, attempt, "write transaction retried");
                std::thread::sleep(retry_pause(attempt));
                attempt += 1;
            }
            (outcome, _) => return outcome,
        }
    }
}

/// Exponential backoff from 2 ms with full jitter, so transactions that collided do not
/// collide again in step.
fn retry_pause(attempt: u32) -> Duration {
    use rand::Rng;
    let ceiling_us = 2_000u64 << attempt.min(6);
    Duration::from_micros(rand::thread_rng().gen_range(ceiling_us / 4..=ceiling_us))
}

fn transaction_depth(conn: &mut DbConn) -> diesel::QueryResult<Option<std::num::NonZeroU32>> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
        DbConn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
    }
    .transaction_depth()
}

fn write_tx_once<T, E, F>(conn: &mut DbConn, f: &mut F) -> Result<T, E>
where
    F: FnMut(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if matches!(conn, DbConn::Pg(_)) {
        return conn.transaction(|c| f(c));
    }
    if let Some(group) = group_commit::current() {
        return group.write(f);
    }
    // SQLite has one writer: queue this process's writers on a mutex (woken in turn) rather
    // than in SQLite's busy handler, which sleeps and starved some writers for seconds
    let asked = std::time::Instant::now();
    let _writer = sqlite_writer().lock().unwrap_or_else(|p| p.into_inner());
    let held = std::time::Instant::now();
    metrics::histogram!("sqlite_writer_wait_seconds").record((held - asked).as_secs_f64());
    let outcome = (|| {
        if let DbConn::Sqlite(c) = conn {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        }
        match f(conn) {
            Ok(value) => {
                match <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        let _ =
                            <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                        Err(e.into())
                    }
                }
            }
            Err(e) => {
                <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
                Err(e)
            }
        }
    })();
    // how long this process's one writer was held: the order path's critical section
    metrics::histogram!("sqlite_writer_held_seconds").record(held.elapsed().as_secs_f64());
    outcome
}

fn sqlite_writer() -> &'static std::sync::Mutex<()> {
    static WRITER: std::sync::OnceLock<std::sync::Mutex<()>> = std::sync::OnceLock::new();
    WRITER.get_or_init(|| std::sync::Mutex::new(()))
}

/// Why blocking database work could not run at all (the work's own errors are the caller's).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no database connection: {0}")]
    NoConnection(#[from] r2d2::Error),
    #[error("blocking task failed: {0}")]
    WorkerFailed(String),
}

/// Runs blocking diesel work on the blocking thread pool with a pooled connection. Generic
/// over the caller's error type, which says how a failure to run maps into it.
pub async fn run<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<RunError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().map_err(|e| E::from(RunError::NoConnection(e)))?;
        let group = group_commit::of_pooled(&mut conn);
        group_commit::with(group, || f(&mut conn))
    })
    .await
    .map_err(|e| E::from(RunError::WorkerFailed(e.to_string())))?
}

/// The current time as the database stores it: UTC, truncated to microseconds so both
/// backends hold the same value.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now().naive_utc();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// A stored UTC timestamp as the API shows it.
pub fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc)
}

/// A multi-row INSERT: diesel's multi-backend cannot batch, so the one statement is written
/// once and run on the concrete connection.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

/// Counts every SQL statement and transaction on every connection into the Prometheus
/// metrics (`db_statements_total`, `db_transactions_total`), so a regression in the number
/// of round trips per request shows in `/metrics` and in the benchmark's output.
/// Pooled connections replace it with their pool's own counter (label `pool`); it also
/// notes, for the thread that ran the query, failures that say the server is gone or that the
/// transaction may simply be tried again (`failures`).
pub fn install_statement_counter() {
    fn counter() -> Option<Box<dyn diesel::connection::Instrumentation>> {
        Some(Box::new(statement_counter("direct")))
    }
    if let Err(e) = diesel::connection::set_default_instrumentation(counter) {
        tracing::warn!(error = %e, "could not install the SQL statement counter");
    }
}

fn statement_counter(
    pool: &'static str,
) -> impl FnMut(diesel::connection::InstrumentationEvent<'_>) + Send + 'static {
    move |event| {
        use diesel::connection::InstrumentationEvent as E;
        match event {
            E::StartQuery { query, .. } => {
                metrics::counter!("db_statements_total", "pool" => pool).increment(1);
                tracing::trace!(target: "shanhe::sql", "{query}");
            }
            E::FinishQuery {
                error: Some(error), ..
            } => failures::note(error),
            E::BeginTransaction { depth, .. } => {
                metrics::counter!("db_transactions_total", "pool" => pool).increment(1);
                tracing::trace!(target: "shanhe::sql", "BEGIN (depth {depth})");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert!(matches!(
            DbUrl::parse("postgres://u@h/db"),
            Ok(DbUrl::Postgres(_))
        ));
        assert!(matches!(
            DbUrl::parse("postgresql://u@h/db"),
            Ok(DbUrl::Postgres(_))
        ));
        assert_eq!(
            DbUrl::parse("sqlite://data/x.db"),
            Ok(DbUrl::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            DbUrl::parse("data/x.db"),
            Ok(DbUrl::Sqlite("data/x.db".into()))
        );
        assert!(DbUrl::parse("mysql://h/db").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!(
            "{:?}",
            DbUrl::parse("postgres://app:s3cret@db.internal/shanhe").unwrap()
        );
        assert_eq!(shown, "postgres://db.internal/shanhe");
        let shown = format!(
            "{:?}",
            DbUrl::parse("postgres://app:pw@a:5432,b:5433/shanhe?target_session_attrs=read-write")
                .unwrap()
        );
        assert_eq!(shown, "postgres://a:5432,b:5433/shanhe");
    }

    #[test]
    fn connect_timeout_is_added_once() {
        let t = Duration::from_secs(3);
        assert_eq!(
            pg_url_with_connect_timeout("postgres://h/db", t),
            "postgres://h/db?connect_timeout=3"
        );
        assert_eq!(
            pg_url_with_connect_timeout("postgres://a,b/db?target_session_attrs=read-write", t),
            "postgres://a,b/db?target_session_attrs=read-write&connect_timeout=3"
        );
        assert_eq!(
            pg_url_with_connect_timeout("postgres://h/db?connect_timeout=9", t),
            "postgres://h/db?connect_timeout=9"
        );
        assert_eq!(
            pg_url_with_connect_timeout("postgres://h/db", Duration::from_millis(200)),
            "postgres://h/db?connect_timeout=1"
        );
    }
}
