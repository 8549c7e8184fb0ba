//! Group commit for SQLite's one writer. Every write transaction of a server on a SQLite file
//! runs on one writer connection, each in a savepoint of a shared transaction: when a write
//! ends while others queue for the writer, it leaves the transaction open for them and waits;
//! the write that finds nobody queued behind it (or the batch full) commits for all. A batch's
//! writes are answered only once their COMMIT is through, so nothing is acknowledged that a
//! crash could lose; a write that fails rolls back its own savepoint only.
//!
//! Each write used to pay for its own BEGIN IMMEDIATE and COMMIT, and its COMMIT wrote every
//! page it touched to the WAL: a batch writes the shared pages (the stock row, the index
//! leaves orders append to) once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Instant;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::CustomizeConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::{DbConn, SessionSettings};

/// Writes that may share one COMMIT: bounds how long the first of them waits for it.
const MAX_BATCH: usize = 32;

/// The writer of one SQLite file.
pub struct Group {
    path: std::path::PathBuf,
    settings: SessionSettings,
    state: Mutex<State>,
    /// signalled when a batch has finished, committed or not
    finished: Condvar,
    /// writes queued for the writer right now
    queued: AtomicUsize,
}

struct State {
    conn: Option<DbConn>,
    /// the batch whose transaction is open, and how many writes it holds
    open: Option<(u64, usize)>,
    next: u64,
    /// every batch up to this one has finished
    finished_through: u64,
    /// recent batches whose COMMIT failed, with why
    failed: std::collections::VecDeque<(u64, String)>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").field("path", &self.path).finish()
    }
}

impl Group {
    pub fn new(path: std::path::PathBuf, settings: SessionSettings) -> Arc<Self> {
        Arc::new(Group {
            path,
            settings,
            state: Mutex::new(State {
                conn: None,
                open: None,
                next: 1,
                finished_through: 0,
                failed: Default::default(),
            }),
            finished: Condvar::new(),
            queued: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open_connection(&self) -> diesel::QueryResult<DbConn> {
        let mut conn = diesel::SqliteConnection::establish(&self.path.to_string_lossy())
            .map(DbConn::Sqlite)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
        self.settings.on_acquire(&mut conn).map_err(|e| match e {
            diesel::r2d2::Error::QueryError(q) => q,
            other => diesel::result::Error::QueryBuilderError(other.to_string().into()),
        })?;
        // every write runs in a savepoint, and SQLite keeps the pages a savepoint changes in a
        // sub-journal: past 64 KiB in a temporary file, which made each order open, write and
        // delete a file while holding the writer (a third of the time it held it)
        if let DbConn::Sqlite(c) = &mut conn {
            diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA temp_store = MEMORY")?;
        }
        Ok(conn)
    }

    /// Runs `f` once, in its own savepoint of the writer's shared transaction, and returns
    /// after the transaction holding its changes has committed (or with the reason it did not).
    pub fn write<T, E, F>(&self, f: &mut F) -> Result<T, E>
    where
        F: FnMut(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        let asked = Instant::now();
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut state = self.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let held = Instant::now();
        metrics::histogram!("sqlite_writer_wait_seconds").record((held - asked).as_secs_f64());

        let batch = self.join_batch(&mut state)?;
        let Some(conn) = state.conn.as_mut() else {
            // join_batch leaves a connection; were it gone, nobody would commit this batch
            self.finish(
                &mut state,
                batch,
                Err("the writer connection was lost".into()),
            );
            return Err(diesel::result::Error::BrokenTransactionManager.into());
        };
        // the savepoint: a failed write takes back only its own changes
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| conn.transaction(|c| f(c))));
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(panic) => {
                // the connection's transaction state is unknown: close it (SQLite rolls the
                // whole batch back) and fail the batch's other writes rather than leave them
                // waiting, then let the panic go on
                state.conn = None;
                self.finish(
                    &mut state,
                    batch,
                    Err("a write in the batch panicked".into()),
                );
                drop(state);
                std::panic::resume_unwind(panic);
            }
        };
        let members = state.open.map_or(0, |(_, n)| n);
        if self.queued.load(Ordering::SeqCst) > 0 && members < MAX_BATCH {
            metrics::histogram!("sqlite_writer_held_seconds").record(held.elapsed().as_secs_f64());
            // someone queues for the writer: they go on in this transaction, and the last of
            // the batch commits it. A failed write waits too: what failed it may be a write of
            // this batch (the same Idempotency-Key, say), which its caller's next read on its
            // own connection must then see
            state = self
                .finished
                .wait_while(state, |s| s.finished_through < batch)
                .unwrap_or_else(|p| p.into_inner());
            let value = outcome?;
            return match state.failed.iter().find(|(b, _)| *b == batch) {
                Some((_, why)) => Err(commit_failed(why).into()),
                None => Ok(value),
            };
        }
        type Manager = <DbConn as Connection>::TransactionManager;
        let committed = match state.conn.as_mut() {
            Some(conn) => Manager::commit_transaction(conn).map_err(|e| {
                let _ = Manager::rollback_transaction(conn);
                e.to_string()
            }),
            None => Err("the writer connection was lost".into()),
        };
        metrics::histogram!("sqlite_writer_held_seconds").record(held.elapsed().as_secs_f64());
        metrics::histogram!("sqlite_group_commit_writes").record(members as f64);
        let failed = committed.is_err();
        self.finish(&mut state, batch, committed);
        if failed {
            // the connection may be in any state after a failed COMMIT: start afresh
            state.conn = None;
            if outcome.is_ok() {
                let why = state
                    .failed
                    .iter()
                    .find(|(b, _)| *b == batch)
                    .map(|(_, w)| w.clone())
                    .unwrap_or_default();
                return Err(commit_failed(&why).into());
            }
        }
        outcome
    }

    /// The open batch, with one more write in it; opens one (and the connection) if none is.
    fn join_batch(&self, state: &mut State) -> diesel::QueryResult<u64> {
        if let Some((batch, members)) = state.open.as_mut() {
            *members += 1;
            return Ok(*batch);
        }
        if state.conn.is_none() {
            state.conn = Some(self.open_connection()?);
        }
        let Some(DbConn::Sqlite(c)) = state.conn.as_mut() else {
            return Err(diesel::result::Error::BrokenTransactionManager);
        };
        if let Err(e) = AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE") {
            // busy past busy_timeout, or the file is gone: the next write tries a new connection
            state.conn = None;
            return Err(e);
        }
        let batch = state.next;
        state.next += 1;
        state.open = Some((batch, 1));
        Ok(batch)
    }

    fn finish(&self, state: &mut State, batch: u64, outcome: Result<(), String>) {
        state.open = None;
        state.finished_through = batch;
        if let Err(why) = outcome {
            tracing::error!(batch, error = %why, "a SQLite group commit failed");
            state.failed.push_back((batch, why));
            while state.failed.len() > 64 {
                state.failed.pop_front();
            }
        }
        self.finished.notify_all();
    }
}

fn commit_failed(why: &str) -> diesel::result::Error {
    diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new(format!(
            "the transaction holding this write did not commit: {why}"
        )),
    )
}

/// The writers of the SQLite files pools are open on, by canonical path (weak: a writer
/// lives as long as its pool's connection manager).
static GROUPS: std::sync::LazyLock<Mutex<HashMap<PathBuf, Weak<Group>>>> =
    std::sync::LazyLock::new(Default::default);

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The writer of the SQLite file at `path` (a new one unless a live pool has it already).
pub fn register(path: &Path, settings: SessionSettings) -> Option<Arc<Group>> {
    let key = canonical(path);
    let mut groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
    groups.retain(|_, g| g.strong_count() > 0);
    if let Some(g) = groups.get(&key).and_then(Weak::upgrade) {
        return Some(g);
    }
    let group = Group::new(key.clone(), settings);
    groups.insert(key, Arc::downgrade(&group));
    Some(group)
}

#[derive(QueryableByName)]
struct Attached {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    file: String,
}

/// The writer of the database a pooled connection is open on, found once per connection (its
/// main file, looked up among the registered writers) and kept with it.
pub fn of_pooled(conn: &mut super::PooledConn) -> Option<Arc<Group>> {
    if let Some(known) = r2d2::PooledConnection::extensions(conn).get::<Option<Arc<Group>>>() {
        return known.clone();
    }
    let group = match &mut **conn {
        DbConn::Sqlite(c) => diesel::sql_query("PRAGMA database_list")
            .load::<Attached>(c)
            .ok()
            .and_then(|list| list.into_iter().find(|a| a.name == "main"))
            .filter(|main| !main.file.is_empty())
            .and_then(|main| {
                let groups = GROUPS.lock().unwrap_or_else(|p| p.into_inner());
                groups
                    .get(&canonical(Path::new(&main.file)))
                    .and_then(Weak::upgrade)
            }),
        DbConn::Pg(_) => None,
    };
    r2d2::PooledConnection::extensions_mut(conn).insert(group.clone());
    group
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Arc<Group>>> = const { std::cell::RefCell::new(None) };
}

/// The writer of the database the current blocking task works on, if it has one.
pub fn current() -> Option<Arc<Group>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Makes `group` the current writer while `f` runs on this thread.
pub fn with<R>(group: Option<Arc<Group>>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Arc<Group>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|c| c.replace(group));
    let _reset = Reset(previous);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    fn scratch() -> (PathBuf, Arc<Group>) {
        let path = std::env::temp_dir().join(format!("shanhe-group-{}.db", uuid::Uuid::now_v7()));
        let mut c = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
        c.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT NOT NULL);")
            .unwrap();
        let group = register(&path, SessionSettings::primary(false)).unwrap();
        (path, group)
    }

    fn insert(conn: &mut DbConn, v: &str) -> diesel::QueryResult<usize> {
        diesel::sql_query("INSERT INTO t (v) VALUES (?)")
            .bind::<diesel::sql_types::Text, _>(v)
            .execute(conn)
    }

    fn values(path: &Path) -> Vec<String> {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let mut c = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
        let mut out: Vec<String> = diesel::sql_query("SELECT v FROM t")
            .load::<V>(&mut c)
            .unwrap()
            .into_iter()
            .map(|r| r.v)
            .collect();
        out.sort();
        out
    }

    /// Runs `first` until a second write is queued behind it, so the two share a batch.
    fn wait_for_queue(group: &Group, inside: &AtomicBool) {
        inside.store(true, Ordering::SeqCst);
        let until = Instant::now() + Duration::from_secs(10);
        while group.queued.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < until, "the second write never queued");
            std::thread::yield_now();
        }
    }

    /// Waits until the first write is inside the writer, holding it.
    fn wait_until(flag: &AtomicBool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !flag.load(Ordering::SeqCst) {
            assert!(Instant::now() < until, "the first write never started");
            std::thread::yield_now();
        }
    }

    /// A write of `value` that has the writer and keeps it until a second write queues, so the
    /// second joins its batch; returns once it is inside.
    fn first_write_holding(
        group: &Arc<Group>,
        value: &'static str,
    ) -> std::thread::JoinHandle<diesel::QueryResult<()>> {
        let g = group.clone();
        let inside = Arc::new(AtomicBool::new(false));
        let flag = inside.clone();
        let first = std::thread::spawn(move || {
            g.write(&mut |c: &mut DbConn| {
                insert(c, value)?;
                wait_for_queue(&g, &flag);
                Ok(())
            })
        });
        wait_until(&inside);
        first
    }

    #[test]
    fn the_writer_keeps_savepoint_journals_in_memory() {
        #[derive(QueryableByName)]
        struct TempStore {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            temp_store: i32,
        }
        let (path, group) = scratch();
        let store = group
            .write(&mut |c: &mut DbConn| {
                diesel::sql_query("PRAGMA temp_store").get_result::<TempStore>(c)
            })
            .unwrap();
        assert_eq!(store.temp_store, 2, "MEMORY");
        // a write well past the 64 KiB a journal keeps in memory by default, taken back
        let big = "稻".repeat(100_000);
        let kept = group.write(&mut |c: &mut DbConn| insert(c, "kept"));
        assert!(kept.is_ok());
        let taken_back = group.write(&mut |c: &mut DbConn| {
            insert(c, &big)?;
            diesel::sql_query("UPDATE t SET v = v || '!'").execute(c)?;
            Err::<(), _>(diesel::result::Error::RollbackTransaction)
        });
        assert!(taken_back.is_err());
        assert_eq!(values(&path), vec!["kept".to_owned()]);
    }

    #[test]
    fn a_failed_write_takes_back_only_its_own_changes_and_its_batch_commits() {
        let (path, group) = scratch();
        let first = first_write_holding(&group, "kept");
        let second = group.write(&mut |c: &mut DbConn| {
            insert(c, "taken back")?;
            Err::<(), _>(diesel::result::Error::RollbackTransaction)
        });
        assert!(second.is_err());
        assert!(first.join().unwrap().is_ok());
        assert_eq!(values(&path), vec!["kept".to_owned()]);
        // both were one batch: the first write waited for the second to commit it
        assert_eq!(group.lock().finished_through, 1);
    }

    #[test]
    fn a_write_is_answered_only_after_its_batch_commits() {
        let (path, group) = scratch();
        let g = group.clone();
        let committed_before_answer = Arc::new(AtomicBool::new(false));
        let seen = committed_before_answer.clone();
        let p = path.clone();
        let inside = Arc::new(AtomicBool::new(false));
        let flag = inside.clone();
        let first = std::thread::spawn(move || {
            let out = g.write(&mut |c: &mut DbConn| {
                insert(c, "a")?;
                wait_for_queue(&g, &flag);
                Ok::<_, diesel::result::Error>(())
            });
            // another connection sees the row once the write is answered
            seen.store(values(&p).contains(&"a".to_owned()), Ordering::SeqCst);
            out
        });
        wait_until(&inside);
        group
            .write(&mut |c: &mut DbConn| insert(c, "b").map(|_| ()))
            .unwrap();
        first.join().unwrap().unwrap();
        assert!(committed_before_answer.load(Ordering::SeqCst));
        assert_eq!(values(&path), vec!["a".to_owned(), "b".to_owned()]);
    }

    #[test]
    fn a_panicking_write_fails_its_batch_without_leaving_anyone_waiting() {
        let (path, group) = scratch();
        let first = first_write_holding(&group, "lost with the batch");
        let g = group.clone();
        let second = std::thread::spawn(move || {
            g.write(&mut |c: &mut DbConn| -> diesel::QueryResult<()> {
                insert(c, "panicked")?;
                panic!("a defect inside a write");
            })
        });
        assert!(second.join().is_err(), "the panic goes on to its caller");
        assert!(
            first.join().unwrap().is_err(),
            "never acknowledged: not committed"
        );
        assert!(values(&path).is_empty());
        // the writer recovers: a new connection, a new batch
        group
            .write(&mut |c: &mut DbConn| insert(c, "after").map(|_| ()))
            .unwrap();
        assert_eq!(values(&path), vec!["after".to_owned()]);
    }
}
