//! Database work from a handler: diesel is synchronous, so every call runs on the blocking
//! pool through this one helper, with failures to run at all answered as `ApiError`s.

use crate::db::{self, replicas::ReadPool, DbConn, DbPool};
use crate::http::error::ApiError;

/// Runs `f` with a pooled connection off the async workers.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    db::run(pool, f).await
}

/// Runs a public read that tolerates a little staleness on a replica when one is usable, else
/// on the primary (`db::replicas`). `f` may run twice: on the replica and, when that fails
/// under it, on the primary.
pub async fn read<T, F>(reads: &ReadPool, f: F) -> Result<T, ApiError>
where
    F: Fn(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    db::replicas::read(reads, f).await
}
