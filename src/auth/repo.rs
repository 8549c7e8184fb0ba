//! Queries for users, refresh-token families and the memberships `/me` shows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::Role;
use crate::db::schema::{refresh_tokens, users};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{RefreshTokenId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub display_name: &'a str,
    pub phone: Option<&'a str>,
    pub role: Role,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_user(conn: &mut DbConn, user: &NewUser<'_>) -> Result<(), ApiError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut DbConn, id: UserId) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn set_password_hash(conn: &mut DbConn, id: UserId, hash: &str) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Creates a refresh-token row in `family_id` and returns nothing but success.
pub fn insert_refresh_token(
    conn: &mut DbConn,
    user_id: UserId,
    family_id: RefreshTokenId,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(RefreshTokenId::generate()),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(expires_at),
            refresh_tokens::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Queryable)]
pub struct RefreshRow {
    pub id: RefreshTokenId,
    pub user_id: UserId,
    pub family_id: RefreshTokenId,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn find_refresh_token(conn: &mut DbConn, hash: &str) -> Result<Option<RefreshRow>, ApiError> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select((
            refresh_tokens::id,
            refresh_tokens::user_id,
            refresh_tokens::family_id,
            refresh_tokens::expires_at,
            refresh_tokens::revoked_at,
        ))
        .first(conn)
        .optional()?)
}

/// Marks one token used; false when another request used it first.
pub fn consume_refresh_token(conn: &mut DbConn, id: RefreshTokenId) -> Result<bool, ApiError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(db::now()))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn revoke_family(conn: &mut DbConn, family_id: RefreshTokenId) -> Result<(), ApiError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}

/// What `ensure_admin` did.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    Created,
    AlreadyExists,
}

/// Creates an admin with this email unless a user with it exists; never touches an existing
/// account's password.
pub fn ensure_admin(
    conn: &mut DbConn,
    email: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<AdminOutcome, ApiError> {
    db::write_tx(conn, |conn| {
        if find_by_email(conn, email)?.is_some() {
            return Ok(AdminOutcome::AlreadyExists);
        }
        let now = db::now();
        let id = UserId::generate();
        insert_user(
            conn,
            &NewUser {
                id,
                email,
                display_name,
                phone: None,
                role: Role::Admin,
                password_hash,
                created_at: now,
                updated_at: now,
            },
        )?;
        crate::audit::record(
            conn,
            None,
            "admin.created",
            "user",
            id,
            serde_json::json!({ "email": email }),
        )?;
        Ok(AdminOutcome::Created)
    })
}
