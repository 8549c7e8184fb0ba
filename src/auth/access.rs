//! Membership checks, made inside the caller's database work so they see the same data the
//! change does. Admins pass every check.

use diesel::prelude::*;

use super::extract::AuthUser;
use crate::db::schema::{cooperative_members, organization_members};
use crate::db::DbConn;
use crate::http::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoopRole {
    Owner,
    Staff,
}

impl CoopRole {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(CoopRole::Owner),
            "staff" => Some(CoopRole::Staff),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CoopRole::Owner => "owner",
            CoopRole::Staff => "staff",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgRole {
    Owner,
    Member,
}

impl OrgRole {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(OrgRole::Owner),
            "member" => Some(OrgRole::Member),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Member => "member",
        }
    }
}

/// The caller's role in a cooperative, if any.
pub fn cooperative_role(
    conn: &mut DbConn,
    user: &AuthUser,
    cooperative_id: &str,
) -> Result<Option<CoopRole>, ApiError> {
    let role = cooperative_members::table
        .find((cooperative_id, user.id.db()))
        .select(cooperative_members::role)
        .first::<String>(conn)
        .optional()?;
    Ok(role.as_deref().and_then(CoopRole::parse))
}

/// Passes for admins and members of the co-op (owners only, when `owner_only`); 403 otherwise.
pub fn require_cooperative_member(
    conn: &mut DbConn,
    user: &AuthUser,
    cooperative_id: &str,
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
    cooperative_id: &str,
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
    organization_id: &str,
) -> Result<Option<OrgRole>, ApiError> {
    let role = organization_members::table
        .find((organization_id, user.id.db()))
        .select(organization_members::role)
        .first::<String>(conn)
        .optional()?;
    Ok(role.as_deref().and_then(OrgRole::parse))
}
