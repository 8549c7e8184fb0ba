//! `/auth/*` and `/me`: register, log in, rotate refresh tokens, log out, who am I.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::{Email, Password, Role};
use super::limiter::{self, Limits};
use super::password;
use super::password::HashGate;
use super::repo::{self, NewUser, UserRow};
use super::tokens::{hash_refresh_token, new_refresh_token, TokenKeys};
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::extract::ApiJson;
use crate::http::text::{EmailText, Line, MaybePhone};
use crate::ids::{RefreshTokenId, UserId};

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub email: EmailText,
    /// 10 to 128 characters, not the email address itself
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    pub display_name: Line<64>,
    pub phone: Option<MaybePhone>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl From<&UserRow> for UserView {
    fn from(u: &UserRow) -> Self {
        UserView {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            phone: u.phone.clone(),
            role: u.role,
            created_at: db::utc(u.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub user: UserView,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A registration that passed every rule.
pub struct NewAccount {
    email: Email,
    password: Password,
    display_name: String,
    phone: Option<String>,
}

impl TryFrom<RegisterRequest> for NewAccount {
    type Error = ApiError;
    fn try_from(r: RegisterRequest) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let email = Email::parse(&r.email.0)
            .map_err(|m| errors.push(FieldError::new("email", m)))
            .ok();
        let password = Password::parse(&r.password, Some(r.email.0.trim()))
            .map_err(|m| errors.push(FieldError::new("password", m)))
            .ok();
        let display_name = r
            .display_name
            .parse()
            .map_err(|m| errors.push(FieldError::new("display_name", m)))
            .ok();
        let phone = MaybePhone::parse_opt(&r.phone)
            .map_err(|m| errors.push(FieldError::new("phone", m)))
            .ok();
        match (email, password, display_name, phone) {
            (Some(email), Some(password), Some(display_name), Some(phone)) if errors.is_empty() => {
                Ok(NewAccount {
                    email,
                    password,
                    display_name,
                    phone,
                })
            }
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// Runs argon2 work through the gate: 503 with Retry-After when the server is busy hashing.
async fn through_gate<T, F>(gate: &HashGate, work: F) -> ApiResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match gate.run(work).await {
        Some(done) => done.map_err(ApiError::internal),
        None => Err(ApiError::Unavailable(
            "the server is busy checking passwords".into(),
        )),
    }
}

/// Hashes a password: argon2 is deliberately slow, so it goes through the gate.
pub async fn hash_password(gate: &HashGate, password: String) -> ApiResult<String> {
    through_gate(gate, move || password::hash(&password))
        .await?
        .map_err(ApiError::internal)
}

/// The client's address: the connection's, or, when the connection comes from a trusted load
/// balancer (`SHANHE_TRUSTED_PROXIES`), the right-most `X-Forwarded-For` entry that is not one
/// of ours (entries further left are whatever the client chose to send).
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    let Some(config) = req
        .app_data::<web::Data<crate::config::Config>>()
        .filter(|c| c.is_trusted_proxy(peer))
    else {
        return peer.to_string();
    };
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    forwarded
        .iter()
        .rev()
        .map_while(|entry| entry.trim().parse::<std::net::IpAddr>().ok())
        .find(|ip| !config.is_trusted_proxy(*ip))
        .unwrap_or(peer)
        .to_string()
}

/// Starts (or continues, with `family`) a refresh-token family; returns the token.
fn start_session(
    conn: &mut DbConn,
    keys: &TokenKeys,
    user_id: UserId,
    family: Option<RefreshTokenId>,
) -> ApiResult<String> {
    let (token, hash) = new_refresh_token();
    let family = family.unwrap_or_else(RefreshTokenId::generate);
    let ttl = chrono::Duration::from_std(keys.refresh_ttl)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    repo::insert_refresh_token(conn, user_id, family, &hash, db::now() + ttl)?;
    Ok(token)
}

fn token_response(
    keys: &TokenKeys,
    user: &UserRow,
    refresh_token: String,
) -> ApiResult<TokenResponse> {
    let view = UserView::from(user);
    let access_token = keys
        .issue_access(user.id, view.role)
        .map_err(ApiError::internal)?;
    Ok(TokenResponse {
        user: view,
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: keys.access_ttl.as_secs(),
    })
}

#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = TokenResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn register(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    keys: web::Data<TokenKeys>,
    limits: web::Data<Limits>,
    gate: web::Data<HashGate>,
    body: ApiJson<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let account = NewAccount::try_from(body.0)?;
    let keys_db = keys.clone();
    let (user, refresh) = create_account(
        &pool,
        &gate,
        **limits,
        account,
        client_address(&req),
        move |conn, user| start_session(conn, &keys_db, user.id, None),
    )
    .await?;
    Ok(HttpResponse::Created().json(token_response(&keys, &user, refresh)?))
}

/// Creates a shopper's account from a checked registration (for the API and the pages):
/// counted against the address's registration limit before any hashing, then `then` runs in
/// the same transaction as the insert (the API starts a token session there).
pub async fn create_account<T, F>(
    pool: &DbPool,
    gate: &HashGate,
    limits: Limits,
    account: NewAccount,
    address: String,
    then: F,
) -> ApiResult<(UserRow, T)>
where
    F: Fn(&mut DbConn, &UserRow) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let email = account.email.as_str().to_owned();
    // counted and checked before any hashing: a flood of registrations, or of existing
    // emails, costs one statement each, not an argon2 hash
    blocking::run(pool, move |conn| {
        limiter::count_registration(conn, &limits, &address)?;
        match repo::find_by_email(conn, &email)? {
            Some(_) => Err(taken()),
            None => Ok(()),
        }
    })
    .await?;
    let hash = hash_password(gate, account.password.expose().to_owned()).await?;
    blocking::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            let now = db::now();
            let id = UserId::generate();
            repo::insert_user(
                conn,
                &NewUser {
                    id,
                    email: account.email.as_str(),
                    display_name: &account.display_name,
                    phone: account.phone.as_deref(),
                    role: Role::Customer,
                    password_hash: &hash,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let user = repo::find_by_id(conn, id)?.ok_or(ApiError::NotFound)?;
            let extra = then(conn, &user)?;
            Ok((user, extra))
        })
    })
    .await
    .map_err(|e| match e {
        ApiError::Conflict(_) => taken(),
        other => other,
    })
}

fn taken() -> ApiError {
    ApiError::Conflict("An account with this email already exists.".into())
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    keys: web::Data<TokenKeys>,
    limits: web::Data<Limits>,
    gate: web::Data<HashGate>,
    body: ApiJson<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { email, password } = body.0;
    let keys_db = keys.clone();
    let (user, refresh) = check_password(
        &pool,
        &gate,
        **limits,
        &email,
        password,
        client_address(&req),
        move |conn, user| start_session(conn, &keys_db, user.id, None),
    )
    .await?;
    Ok(HttpResponse::Ok().json(token_response(&keys, &user, refresh)?))
}

/// Checks an email and password (for the API and the pages) under the login limits: a wrong
/// one is counted, a right one clears the count and runs `then` in that transaction.
pub async fn check_password<T, F>(
    pool: &DbPool,
    gate: &HashGate,
    limits: Limits,
    email: &str,
    password: String,
    address: String,
    then: F,
) -> ApiResult<(UserRow, T)>
where
    F: Fn(&mut DbConn, &UserRow) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let normalised = email.trim().to_lowercase();
    let (lookup, at) = (normalised.clone(), address.clone());
    let user = blocking::run(pool, move |conn| {
        limiter::check_login(conn, &limits, &lookup, &at)?;
        repo::find_by_email(conn, &lookup)
    })
    .await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let attempt = password.clone();
    let valid = through_gate(gate, move || password::verify(&attempt, stored.as_deref())).await?;
    let Some(user) = user.filter(|_| valid) else {
        let (failed, at) = (normalised.clone(), address.clone());
        blocking::run(pool, move |conn| {
            db::write_tx(conn, |conn| {
                limiter::record_failure(conn, &limits, &failed, &at)
            })
        })
        .await?;
        return Err(ApiError::Unauthorized);
    };
    let new_hash = if password::needs_rehash(&user.password_hash) {
        Some(hash_password(gate, password).await?)
    } else {
        None
    };
    blocking::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            limiter::clear_pair(conn, &normalised, &address)?;
            if let Some(h) = &new_hash {
                repo::set_password_hash(conn, user.id, h)?;
            }
            let extra = then(conn, &user)?;
            Ok((user.clone(), extra))
        })
    })
    .await
}

enum RefreshOutcome {
    Rotated(Box<UserRow>, String),
    Refused,
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem)))]
pub async fn refresh(
    pool: web::Data<DbPool>,
    keys: web::Data<TokenKeys>,
    body: ApiJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let hash = hash_refresh_token(body.0.refresh_token.trim());
    let keys_db = keys.clone();
    let outcome = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let Some(row) = repo::find_refresh_token(conn, &hash)? else {
                return Ok(RefreshOutcome::Refused);
            };
            if row.revoked_at.is_some() || !repo::consume_refresh_token(conn, row.id)? {
                // a used token presented again: assume it was stolen and end the whole session
                repo::revoke_family(conn, row.family_id)?;
                return Ok(RefreshOutcome::Refused);
            }
            if row.expires_at <= db::now() {
                return Ok(RefreshOutcome::Refused);
            }
            let Some(user) = repo::find_by_id(conn, row.user_id)? else {
                return Ok(RefreshOutcome::Refused);
            };
            let token = start_session(conn, &keys_db, row.user_id, Some(row.family_id))?;
            Ok(RefreshOutcome::Rotated(Box::new(user), token))
        })
    })
    .await?;
    match outcome {
        RefreshOutcome::Rotated(user, token) => {
            Ok(HttpResponse::Ok().json(token_response(&keys, &user, token)?))
        }
        RefreshOutcome::Refused => Err(ApiError::Unauthorized),
    }
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "The session's refresh tokens are revoked")))]
pub async fn logout(
    pool: web::Data<DbPool>,
    body: ApiJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let hash = hash_refresh_token(body.0.refresh_token.trim());
    blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            if let Some(row) = repo::find_refresh_token(conn, &hash)? {
                repo::revoke_family(conn, row.family_id)?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
