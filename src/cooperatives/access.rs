//! Who acts for a co-op: its members and their roles, and the checks every co-op endpoint
//! makes inside its own database work (so they see the same data the change does). Admins
//! pass every check.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::AuthUser;
use crate::db::schema::{cooperative_members, cooperatives};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{CooperativeId, UserId};
use crate::vocabulary;

vocabulary! {
    #[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum CoopRole as "cooperative member role (cooperative_members.role)" {
        Owner = "owner",
        Staff = "staff",
    }
}

/// The caller's role in a cooperative, if any.
pub fn cooperative_role(
    conn: &mut DbConn,
    user: &AuthUser,
    cooperative_id: CooperativeId,
) -> Result<Option<CoopRole>, ApiError> {
    let role = cooperative_members::table
        .find((cooperative_id, user.id))
        .select(cooperative_members::role)
        .first::<CoopRole>(conn)
        .optional()?;
    Ok(role)
}

/// Passes for admins and members of the co-op (owners only, when `owner_only`); 403 otherwise.
pub fn require_cooperative_member(
    conn: &mut DbConn,
    user: &AuthUser,
    cooperative_id: CooperativeId,
    owner_only: bool,
) -> Result<(), ApiError> {
    if user.is_admin() {
        return Ok(());
    }
    match cooperative_role(conn, user, cooperative_id)? {
        Some(CoopRole::Owner) => Ok(()),
        Some(CoopRole::Staff) if !owner_only => Ok(()),
        Some(CoopRole::Staff) => Err(ApiError::forbidden("this needs the cooperative's owner")),
        None => Err(ApiError::forbidden(
            "you are not a member of this cooperative",
        )),
    }
}

/// Whether the caller may see a co-op's private data (drafts, stock) — for 404-not-403 cases.
pub fn can_see_cooperative(
    conn: &mut DbConn,
    user: Option<&AuthUser>,
    cooperative_id: CooperativeId,
) -> Result<bool, ApiError> {
    match user {
        None => Ok(false),
        Some(u) if u.is_admin() => Ok(true),
        Some(u) => Ok(cooperative_role(conn, u, cooperative_id)?.is_some()),
    }
}

/// Adds a member; 409 when already one.
pub fn add_member(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    user_id: UserId,
    role: CoopRole,
) -> Result<NaiveDateTime, ApiError> {
    let now = db::now();
    diesel::insert_into(cooperative_members::table)
        .values((
            cooperative_members::cooperative_id.eq(cooperative_id),
            cooperative_members::user_id.eq(user_id),
            cooperative_members::role.eq(role),
            cooperative_members::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => {
                ApiError::Conflict("This user is already a member of the cooperative.".into())
            }
            other => other,
        })?;
    Ok(now)
}

/// Whether the user is a member of the co-op (any role).
pub fn is_member(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    user_id: UserId,
) -> Result<bool, ApiError> {
    Ok(cooperative_members::table
        .find((cooperative_id, user_id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// The co-ops a user owns.
pub fn owned_by(conn: &mut DbConn, user_id: UserId) -> Result<Vec<CooperativeId>, ApiError> {
    Ok(cooperative_members::table
        .filter(cooperative_members::user_id.eq(user_id))
        .filter(cooperative_members::role.eq(CoopRole::Owner))
        .select(cooperative_members::cooperative_id)
        .load(conn)?)
}

/// The co-ops a user belongs to, by name: (id, name, role).
pub fn memberships_of(
    conn: &mut DbConn,
    user_id: UserId,
) -> Result<Vec<(CooperativeId, String, CoopRole)>, ApiError> {
    Ok(cooperative_members::table
        .inner_join(cooperatives::table)
        .filter(cooperative_members::user_id.eq(user_id))
        .order(cooperatives::name.asc())
        .select((
            cooperatives::id,
            cooperatives::name,
            cooperative_members::role,
        ))
        .load(conn)?)
}

/// Which of `cooperatives` the user belongs to.
pub fn member_of(
    conn: &mut DbConn,
    user_id: UserId,
    cooperatives: &[CooperativeId],
) -> Result<Vec<CooperativeId>, ApiError> {
    Ok(cooperative_members::table
        .filter(cooperative_members::user_id.eq(user_id))
        .filter(cooperative_members::cooperative_id.eq_any(cooperatives))
        .select(cooperative_members::cooperative_id)
        .load(conn)?)
}
