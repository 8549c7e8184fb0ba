//! Owns `idempotency_keys`. `Idempotency-Key`: a retried request gets the first response again,
//! never a second effect.
//!
//! The key is claimed by inserting its row, with the answer, at the end of the effect's own
//! write transaction, so the claim and the effect commit together or not at all. A concurrent
//! request with the same key blocks on that row (PostgreSQL) or waits for the writer (SQLite),
//! then finds the key taken, rolls its own work back and replays the stored response; one
//! whose effect failed (the first took the last of the stock) looks for that answer too. Only
//! successful responses are stored: a failed request changed nothing, so retrying it is safe.

use crate::ids::UserId;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::{ApiError, ApiResult};
use crate::db::prepared::Keep;
use crate::db::schema::idempotency_keys;
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;

/// What the caller's request looks like, for telling a retry from a different request.
pub fn fingerprint(method: &str, path: &str, body: &impl Serialize) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(serde_json::to_vec(body).unwrap_or_default());
    hex::encode(h.finalize())
}

/// A response to send and, with a key, to keep: the JSON text itself, serialized once (inside
/// the write transaction when it is kept, so as little as possible there) and sent as stored.
pub struct Stored {
    pub status: StatusCode,
    body: String,
}

impl Stored {
    pub fn new(status: StatusCode, body: impl Serialize) -> ApiResult<Self> {
        Ok(Stored {
            status,
            body: serde_json::to_string(&body).map_err(|e| ApiError::internal(e.to_string()))?,
        })
    }

    /// A top-level string field of the body (`id`, say).
    pub fn field(&self, name: &str) -> Option<String> {
        let body: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        body.get(name)?.as_str().map(str::to_owned)
    }

    pub fn into_response(self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type(actix_web::http::header::ContentType::json())
            .body(self.body)
    }
}

enum Lookup {
    Absent,
    Replay(Stored),
}

fn lookup(conn: &mut DbConn, user_id: UserId, key: &str, hash: &str) -> ApiResult<Lookup> {
    let row: Option<(String, Option<i32>, Option<String>)> = idempotency_keys::table
        .find((user_id, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    match row {
        None => Ok(Lookup::Absent),
        Some((stored_hash, _, _)) if stored_hash != hash => Err(ApiError::IdempotencyConflict),
        Some((_, Some(status), Some(body))) => Ok(Lookup::Replay(Stored {
            status: u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or_else(|| {
                    ApiError::internal(format!(
                        "idempotency_keys.status_code {status} is not an HTTP status"
                    ))
                })?,
            body,
        })),
        // only visible once committed, and committed rows carry their response
        Some(_) => Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still in progress".into(),
        )),
    }
}

/// Why a keyed attempt did not commit.
enum Attempt {
    KeyTaken,
    Failed(ApiError),
}

impl From<ApiError> for Attempt {
    fn from(e: ApiError) -> Self {
        Attempt::Failed(e)
    }
}

impl From<diesel::result::Error> for Attempt {
    fn from(e: diesel::result::Error) -> Self {
        Attempt::Failed(e.into())
    }
}

/// Runs `effect` in one write transaction, exactly once per (user, key).
pub async fn execute<F>(
    pool: &DbPool,
    user_id: UserId,
    key: Option<String>,
    hash: String,
    effect: F,
) -> ApiResult<Stored>
where
    F: Fn(&mut DbConn) -> ApiResult<Stored> + Send + 'static,
{
    execute_checked(
        pool,
        user_id,
        key,
        hash,
        |_| Ok(()),
        move |conn, _: &()| effect(conn),
    )
    .await
}

/// [`execute`] with a read-only `precheck` run outside the transaction, after a stored answer
/// would have been replayed: its error is the answer, and no write is opened (a failed
/// request is not stored, so a retry runs again); what it read is handed to `effect`.
pub async fn execute_checked<P, A, F>(
    pool: &DbPool,
    user_id: UserId,
    key: Option<String>,
    hash: String,
    precheck: P,
    effect: F,
) -> ApiResult<Stored>
where
    P: Fn(&mut DbConn) -> ApiResult<A> + Send + 'static,
    F: Fn(&mut DbConn, &A) -> ApiResult<Stored> + Send + 'static,
    A: Send + 'static,
{
    blocking::run(pool, move |conn| {
        let Some(key) = key else {
            let checked = precheck(conn)?;
            return db::write_tx(conn, |conn| effect(conn, &checked));
        };
        for _ in 0..3 {
            if let Lookup::Replay(stored) = lookup(conn, user_id, &key, &hash)? {
                return Ok(stored);
            }
            let checked = match precheck(conn) {
                Ok(checked) => checked,
                Err(e) => return replay_or(conn, user_id, &key, &hash, e),
            };
            // the key is claimed last, with the answer: one statement, and the effect's row
            // locks are taken before the key's. A concurrent request with the same key finds
            // it taken at that INSERT and rolls back everything it did
            let outcome = db::write_tx(conn, |conn| {
                let stored = effect(conn, &checked)?;
                Keep(
                    diesel::insert_into(idempotency_keys::table)
                        .values((
                            idempotency_keys::user_id.eq(user_id),
                            idempotency_keys::idem_key.eq(&key),
                            idempotency_keys::request_hash.eq(&hash),
                            idempotency_keys::created_at.eq(db::now()),
                            idempotency_keys::status_code
                                .eq(Some(i32::from(stored.status.as_u16()))),
                            idempotency_keys::response_body.eq(Some(&stored.body)),
                        ))
                        // RETURNING: kept prepared (`db::prepared`)
                        .returning(idempotency_keys::created_at),
                )
                .get_result::<chrono::NaiveDateTime>(conn)
                .map_err(|e| match e {
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    ) => Attempt::KeyTaken,
                    other => Attempt::Failed(other.into()),
                })?;
                Ok(stored)
            });
            match outcome {
                Ok(stored) => return Ok(stored),
                // another request with this key committed first: replay it on the next turn
                Err(Attempt::KeyTaken) => continue,
                Err(Attempt::Failed(e)) => return replay_or(conn, user_id, &key, &hash, e),
            }
        }
        Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still in progress".into(),
        ))
    })
    .await
}

/// A request that failed may have failed on what a request with the same key did first (it
/// took the last of the stock, say): that request's answer if it has committed, else `error`.
fn replay_or(
    conn: &mut DbConn,
    user_id: UserId,
    key: &str,
    hash: &str,
    error: ApiError,
) -> ApiResult<Stored> {
    match lookup(conn, user_id, key, hash)? {
        Lookup::Replay(stored) => Ok(stored),
        Lookup::Absent => Err(error),
    }
}

/// Forgets keys older than `max_age` (the contract keeps them at least 24 h).
pub fn prune(conn: &mut DbConn, max_age: chrono::Duration) -> ApiResult<usize> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(db::now() - max_age)),
    )
    .execute(conn)?)
}
