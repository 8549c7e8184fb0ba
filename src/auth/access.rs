//! Membership checks, made inside the caller's database work so they see the same data the
//! change does. Admins pass every check.

use crate::vocabulary;
use diesel::prelude::*;

use super::extract::AuthUser;
use crate::db::schema::{cooperative_members, organization_members};
use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::ids::{CooperativeId, OrganizationId};

vocabulary! {
    #[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum CoopRole as "cooperative member role (cooperative_members.role)" {
        Owner = "owner",
        Staff = "staff",
    }
}

vocabulary! {
    #[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum OrgRole as "organization member role (organization_members.role)" {
        Owner = "owner",
        Member = "member",
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

/// The caller's role in an organization, if any.
pub fn organization_role(
    conn: &mut DbConn,
    user: &AuthUser,
    organization_id: OrganizationId,
) -> Result<Option<OrgRole>, ApiError> {
    let role = organization_members::table
        .find((organization_id, user.id))
        .select(organization_members::role)
        .first::<OrgRole>(conn)
        .optional()?;
    Ok(role)
}
