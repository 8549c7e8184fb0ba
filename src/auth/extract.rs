//! Extractors handlers declare to say who may call them. The token proves identity; the role
//! (and that the account exists) is read from the database, and remembered for a few seconds
//! per user so that a client's run of requests does not pay a database round trip, and a hop to
//! the blocking pool, before each one. Roles are set when an account is created and no request
//! changes them.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use diesel::prelude::*;

use super::domain::Role;
use super::tokens::TokenKeys;
use crate::db::{schema::users, DbPool};
use crate::http::blocking;
use crate::http::error::ApiError;
use crate::ids::UserId;

/// Any signed-in user.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A signed-in platform admin (others get 403).
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

async fn authenticate(req: HttpRequest) -> Result<AuthUser, ApiError> {
    let keys = req
        .app_data::<web::Data<TokenKeys>>()
        .ok_or_else(|| ApiError::internal("token keys not configured"))?
        .clone();
    let pool = req
        .app_data::<web::Data<DbPool>>()
        .ok_or_else(|| ApiError::internal("database pool not configured"))?
        .clone();
    let token = bearer(&req).ok_or(ApiError::Unauthorized)?;
    let claims = keys.verify_access(&token).ok_or(ApiError::Unauthorized)?;
    let id: UserId = claims.sub.parse().map_err(|_| ApiError::Unauthorized)?;
    if let Some(role) = known_role(id) {
        return Ok(AuthUser { id, role });
    }
    let role = blocking::run(&pool, move |conn| {
        users::table
            .find(id)
            .select(users::role)
            .first::<Role>(conn)
            .optional()
            .map_err(ApiError::from)
    })
    .await?
    .ok_or(ApiError::Unauthorized)?;
    remember_role(id, role);
    Ok(AuthUser { id, role })
}

/// How long a user's role read from the database is used without reading it again.
const ROLE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Past this many remembered users the memory is cleared (it refills from the database).
const ROLES_KEPT: usize = 50_000;

type Roles = std::collections::HashMap<UserId, (Role, std::time::Instant)>;

fn roles() -> &'static std::sync::Mutex<Roles> {
    static ROLES: std::sync::OnceLock<std::sync::Mutex<Roles>> = std::sync::OnceLock::new();
    ROLES.get_or_init(Default::default)
}

fn known_role(id: UserId) -> Option<Role> {
    let roles = roles().lock().ok()?;
    let (role, at) = roles.get(&id)?;
    (at.elapsed() < ROLE_TTL).then_some(*role)
}

fn remember_role(id: UserId, role: Role) {
    if let Ok(mut roles) = roles().lock() {
        if roles.len() >= ROLES_KEPT {
            roles.clear();
        }
        roles.insert(id, (role, std::time::Instant::now()));
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = authenticate(req).await?;
            if user.is_admin() {
                Ok(AdminUser(user))
            } else {
                Err(ApiError::forbidden("this needs a platform admin"))
            }
        })
    }
}

/// The caller if signed in, else nobody: public pages that show more to members.
/// A missing or unusable token reads as anonymous rather than failing the page.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if bearer(&req).is_none() {
                return Ok(MaybeUser(None));
            }
            match authenticate(req).await {
                Ok(u) => Ok(MaybeUser(Some(u))),
                Err(ApiError::Unauthorized) => Ok(MaybeUser(None)),
                Err(other) => Err(other),
            }
        })
    }
}
