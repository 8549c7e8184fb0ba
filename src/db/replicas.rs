//! Reads that tolerate a little staleness, spread over PostgreSQL streaming replicas.
//!
//! `SHANHE_REPLICA_URLS` names the replicas; each gets a pool of its own. A watcher thread asks
//! every replica once a second how far its replay is behind; a replica that fails, or lags more
//! than `SHANHE_REPLICA_MAX_LAG`, is skipped until a later check finds it well again. A read
//! sent to a replica that turns out to be gone (or cancelled by a recovery conflict) is run
//! again on the primary, so a client never sees a replica fail. With no replica usable, or none
//! configured, every read runs on the primary.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use diesel::prelude::*;
use serde::Serialize;

use super::{failures, DbConn, DbPool, RunError};

/// How often the watcher checks each replica.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The primary and the replicas public reads may use.
#[derive(Clone)]
pub struct ReadPool {
    inner: Arc<Inner>,
}

struct Inner {
    primary: DbPool,
    replicas: Vec<Replica>,
    next: AtomicUsize,
}

struct Replica {
    /// `host:port/database`, without credentials.
    name: String,
    pool: DbPool,
    usable: AtomicBool,
    /// The last measured lag in milliseconds; `u64::MAX` until measured.
    lag_ms: AtomicU64,
    problem: Mutex<Option<String>>,
}

/// One replica as `/health/ready` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReplicaState {
    pub name: String,
    pub usable: bool,
    /// Seconds the replica's replay is behind; `None` before the first check.
    pub lag_seconds: Option<f64>,
    pub problem: Option<String>,
}

impl ReadPool {
    /// Every read on the primary.
    pub fn primary_only(primary: DbPool) -> Self {
        Self::new(primary, Vec::new())
    }

    /// `replicas`: each replica's display name and pool. They start unused: the first check
    /// (at once, from `watch`) decides.
    pub fn new(primary: DbPool, replicas: Vec<(String, DbPool)>) -> Self {
        let replicas = replicas
            .into_iter()
            .map(|(name, pool)| Replica {
                name,
                pool,
                usable: AtomicBool::new(false),
                lag_ms: AtomicU64::new(u64::MAX),
                problem: Mutex::new(Some("not checked yet".into())),
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                primary,
                replicas,
                next: AtomicUsize::new(0),
            }),
        }
    }

    pub fn primary(&self) -> &DbPool {
        &self.inner.primary
    }

    pub fn has_replicas(&self) -> bool {
        !self.inner.replicas.is_empty()
    }

    pub fn states(&self) -> Vec<ReplicaState> {
        self.inner
            .replicas
            .iter()
            .map(|r| {
                let lag = r.lag_ms.load(Ordering::Relaxed);
                ReplicaState {
                    name: r.name.clone(),
                    usable: r.usable.load(Ordering::Relaxed),
                    lag_seconds: (lag != u64::MAX).then(|| lag as f64 / 1000.0),
                    problem: r.problem.lock().map(|p| p.clone()).unwrap_or(None),
                }
            })
            .collect()
    }

    /// Starts the thread that checks the replicas every `CHECK_EVERY`; it ends when the last
    /// clone of this pool is dropped. Nothing to watch without replicas.
    pub fn watch(&self, max_lag: Duration) {
        if !self.has_replicas() {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let spawned = std::thread::Builder::new()
            .name("replica-watch".into())
            .spawn(move || loop {
                let Some(inner) = weak.upgrade() else { break };
                for r in &inner.replicas {
                    r.check(max_lag);
                }
                drop(inner);
                std::thread::sleep(CHECK_EVERY);
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the replica watcher: reads stay on the primary");
        }
    }

    /// Runs `f` on a usable replica (in turn), else on the primary; a replica that fails under
    /// it is marked unusable and `f` runs again on the primary.
    pub fn run<T, E, F>(&self, f: &F) -> Result<T, E>
    where
        F: Fn(&mut DbConn) -> Result<T, E>,
        E: From<RunError>,
    {
        if let Some(replica) = self.pick() {
            match replica.pool.get() {
                Ok(mut conn) => {
                    failures::take_connection_lost();
                    failures::take_transient();
                    let out = f(&mut conn);
                    let lost = failures::connection_lost_seen();
                    let conflict = failures::take_transient();
                    if !lost && conflict.is_none() {
                        metrics::counter!("db_reads_total", "pool" => "replica").increment(1);
                        return out;
                    }
                    if lost {
                        replica.mark_unusable("the connection was lost".into());
                    }
                    // dropping `conn` here lets the pool discard it when it was lost
                }
                Err(e) => replica.mark_unusable(format!("no connection: {e}")),
            }
            metrics::counter!("db_replica_fallbacks_total").increment(1);
        }
        metrics::counter!("db_reads_total", "pool" => "primary").increment(1);
        let mut conn = self.inner.primary.get().map_err(RunError::NoConnection)?;
        f(&mut conn)
    }

    fn pick(&self) -> Option<&Replica> {
        let replicas = &self.inner.replicas;
        if replicas.is_empty() {
            return None;
        }
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed);
        (0..replicas.len())
            .map(|i| &replicas[(start + i) % replicas.len()])
            .find(|r| r.usable.load(Ordering::Relaxed))
    }
}

impl Replica {
    fn mark_unusable(&self, problem: String) {
        if self.usable.swap(false, Ordering::Relaxed) {
            tracing::warn!(replica = %self.name, %problem, "replica no longer used for reads");
        }
        if let Ok(mut p) = self.problem.lock() {
            *p = Some(problem);
        }
    }

    fn mark_usable(&self, lag: Duration) {
        self.lag_ms.store(
            u64::try_from(lag.as_millis()).unwrap_or(u64::MAX - 1),
            Ordering::Relaxed,
        );
        if let Ok(mut p) = self.problem.lock() {
            *p = None;
        }
        if !self.usable.swap(true, Ordering::Relaxed) {
            tracing::info!(replica = %self.name, lag_ms = lag.as_millis() as u64, "replica used for reads");
        }
    }

    fn check(&self, max_lag: Duration) {
        match self.measure_lag() {
            Ok(lag) if lag <= max_lag => self.mark_usable(lag),
            Ok(lag) => {
                self.lag_ms.store(
                    u64::try_from(lag.as_millis()).unwrap_or(u64::MAX - 1),
                    Ordering::Relaxed,
                );
                self.mark_unusable(format!(
                    "{:.1} s behind the primary (the bound is {:.1} s)",
                    lag.as_secs_f64(),
                    max_lag.as_secs_f64()
                ));
            }
            Err(problem) => self.mark_unusable(problem),
        }
    }

    /// How far the replica's replay is behind. A replica that has replayed everything it
    /// received while streaming is current, however long ago the last transaction was; a
    /// server not in recovery (a promoted standby) is its own primary.
    fn measure_lag(&self) -> Result<Duration, String> {
        #[derive(QueryableByName)]
        struct Lag {
            #[diesel(sql_type = diesel::sql_types::Double)]
            lag_seconds: f64,
        }
        let mut conn = self.pool.get().map_err(|e| format!("no connection: {e}"))?;
        let lag = diesel::sql_query(
            "SELECT CASE \
               WHEN NOT pg_is_in_recovery() THEN 0::float8 \
               WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() \
                    AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') \
                 THEN 0::float8 \
               ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, \
                             1e9) \
             END AS lag_seconds",
        )
        .get_result::<Lag>(&mut conn)
        .map_err(|e| e.to_string())?
        .lag_seconds;
        Ok(Duration::try_from_secs_f64(lag.max(0.0)).unwrap_or(Duration::MAX))
    }
}

/// Runs `f` off the async workers on a replica or the primary (see `ReadPool::run`).
pub async fn read<T, E, F>(reads: &ReadPool, f: F) -> Result<T, E>
where
    F: Fn(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<RunError> + Send + 'static,
{
    let reads = reads.clone();
    actix_web::web::block(move || reads.run(&f))
        .await
        .map_err(|e| E::from(RunError::WorkerFailed(e.to_string())))?
}
