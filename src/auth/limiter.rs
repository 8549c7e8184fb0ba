//! Owns `login_failures`. Login throttling that stops the guesser, not the owner: failures are
//! counted per (email, client address) and per client address in a fixed window, in the
//! database so every instance shares them. A per-email ceiling catches guessing spread over
//! many addresses; past it only addresses that have already failed are held back, so the
//! owner with the right password from a clean address still gets in. Registrations are
//! counted per address the same way.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::schema::login_failures;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;

/// How many of what a window allows.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub window: chrono::Duration,
    /// Failures for one email from one address.
    pub per_pair: i64,
    /// Failures from one address, whatever the email.
    pub per_address: i64,
    /// Failures for one email from anywhere, past which failing addresses wait.
    pub per_email: i64,
    /// Registrations from one address.
    pub registrations: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            window: chrono::Duration::minutes(15),
            per_pair: 5,
            per_address: 50,
            per_email: 200,
            registrations: 250,
        }
    }
}

fn pair_key(email: &str, address: &str) -> String {
    format!("p:{}|{address}", normalise(email))
}
fn address_key(address: &str) -> String {
    format!("a:{address}")
}
fn email_key(email: &str) -> String {
    format!("e:{}", normalise(email))
}
fn registration_key(address: &str) -> String {
    format!("r:{address}")
}
fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What the counters say about a login attempt (pure, so the rule is unit-tested).
pub fn verdict(limits: &Limits, pair: i64, address: i64, email: i64) -> bool {
    let held = pair >= limits.per_pair
        || address >= limits.per_address
        || (email >= limits.per_email && (pair > 0 || address > 0));
    !held
}

/// `Err(429 with Retry-After)` while this email from this address is held back.
pub fn check_login(
    conn: &mut DbConn,
    limits: &Limits,
    email: &str,
    address: &str,
) -> Result<(), ApiError> {
    let now = db::now();
    let keys = [
        pair_key(email, address),
        address_key(address),
        email_key(email),
    ];
    let rows: Vec<(String, i64, NaiveDateTime)> = login_failures::table
        .filter(login_failures::key.eq_any(&keys))
        .filter(login_failures::window_start.gt(now - limits.window))
        .select((
            login_failures::key,
            login_failures::failures,
            login_failures::window_start,
        ))
        .load(conn)?;
    let count = |k: &str| rows.iter().find(|r| r.0 == k).map_or(0, |r| r.1);
    if verdict(limits, count(&keys[0]), count(&keys[1]), count(&keys[2])) {
        return Ok(());
    }
    let oldest = rows.iter().map(|r| r.2).min().unwrap_or(now);
    let left = (oldest + limits.window - now).num_seconds().max(1);
    Err(ApiError::RateLimited {
        retry_after_secs: u64::try_from(left).unwrap_or(1),
    })
}

/// Counts one failed login against all three keys.
pub fn record_failure(
    conn: &mut DbConn,
    limits: &Limits,
    email: &str,
    address: &str,
) -> Result<(), ApiError> {
    for key in [
        pair_key(email, address),
        address_key(address),
        email_key(email),
    ] {
        bump(conn, limits, &key)?;
    }
    Ok(())
}

/// The owner got in from this address: its own failures there are forgiven (the address's
/// and the email's counts stand, as other guessers may be at work).
pub fn clear_pair(conn: &mut DbConn, email: &str, address: &str) -> Result<(), ApiError> {
    diesel::delete(login_failures::table.find(pair_key(email, address))).execute(conn)?;
    Ok(())
}

/// Counts a registration from `address`; 429 once the window's allowance is used up.
pub fn count_registration(
    conn: &mut DbConn,
    limits: &Limits,
    address: &str,
) -> Result<(), ApiError> {
    let (n, started) = bump(conn, limits, &registration_key(address))?;
    if n <= limits.registrations {
        return Ok(());
    }
    let left = (started + limits.window - db::now()).num_seconds().max(1);
    Err(ApiError::RateLimited {
        retry_after_secs: u64::try_from(left).unwrap_or(1),
    })
}

/// Forgets windows that have ended (the sweep calls this).
pub fn prune(conn: &mut DbConn, limits: &Limits) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        login_failures::table.filter(login_failures::window_start.le(db::now() - limits.window)),
    )
    .execute(conn)?)
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    failures: i64,
    #[diesel(sql_type = Timestamp)]
    window_start: NaiveDateTime,
}

/// Adds one to a key's count in one statement, starting a new window when the old one ended.
fn bump(conn: &mut DbConn, limits: &Limits, key: &str) -> Result<(i64, NaiveDateTime), ApiError> {
    const UPSERT: &str = "INSERT INTO login_failures (key, failures, window_start) \
         VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET \
         failures = CASE WHEN login_failures.window_start <= $3 THEN 1 \
                         ELSE login_failures.failures + 1 END, \
         window_start = CASE WHEN login_failures.window_start <= $3 THEN $2 \
                             ELSE login_failures.window_start END \
         RETURNING failures, window_start";
    let now = db::now();
    let cutoff = now - limits.window;
    let counted = match conn {
        DbConn::Pg(c) => diesel::sql_query(UPSERT)
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(cutoff)
            .get_result::<Counted>(c)?,
        // SQLite numbers its parameters ?1, ?2…
        DbConn::Sqlite(c) => diesel::sql_query(UPSERT.replace('$', "?"))
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(cutoff)
            .get_result::<Counted>(c)?,
    };
    Ok((counted.failures, counted.window_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guesser_is_held_not_the_owner() {
        let l = Limits::default();
        // five failures for one email from one address hold that pair
        assert!(verdict(&l, 4, 4, 4));
        assert!(!verdict(&l, 5, 5, 5));
        // the owner from another, clean address is let through
        assert!(verdict(&l, 0, 0, 5));
        // one address failing for many emails is held
        assert!(!verdict(&l, 0, 50, 1));
        // past the per-email ceiling only addresses that failed wait
        assert!(!verdict(&l, 1, 1, 200));
        assert!(verdict(&l, 0, 0, 10_000));
    }
}
