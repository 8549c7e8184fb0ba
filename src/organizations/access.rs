//! Who buys for an organization: its members and their roles.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::AuthUser;
use crate::db::schema::{organization_members, organizations};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{OrganizationId, UserId};
use crate::vocabulary;

use super::domain::OrganizationStatus;

vocabulary! {
    #[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum OrgRole as "organization member role (organization_members.role)" {
        Owner = "owner",
        Member = "member",
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

/// Adds a member; 409 when already one.
pub fn add_member(
    conn: &mut DbConn,
    org: OrganizationId,
    user: UserId,
    role: OrgRole,
) -> Result<NaiveDateTime, ApiError> {
    let now = db::now();
    diesel::insert_into(organization_members::table)
        .values((
            organization_members::organization_id.eq(org),
            organization_members::user_id.eq(user),
            organization_members::role.eq(role),
            organization_members::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => {
                ApiError::Conflict("This user is already a member of the organization.".into())
            }
            other => other,
        })?;
    Ok(now)
}

/// The organizations a user belongs to: (id, name, role, approval status).
pub fn memberships_of(
    conn: &mut DbConn,
    user_id: UserId,
) -> Result<Vec<(OrganizationId, String, OrgRole, OrganizationStatus)>, ApiError> {
    Ok(organization_members::table
        .inner_join(organizations::table)
        .filter(organization_members::user_id.eq(user_id))
        .order(organizations::name.asc())
        .select((
            organizations::id,
            organizations::name,
            organization_members::role,
            organizations::status,
        ))
        .load(conn)?)
}

/// Removes a member (not the owner: the caller decides who may leave).
pub fn remove_member(
    conn: &mut DbConn,
    organization_id: OrganizationId,
    user_id: UserId,
) -> Result<(), ApiError> {
    diesel::delete(organization_members::table.find((organization_id, user_id))).execute(conn)?;
    Ok(())
}
