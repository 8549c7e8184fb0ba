//! Queries for organizations and their members, and the buying terms an order gets.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::access::organization_role;
use crate::auth::{AuthUser, OrgRole};
use crate::catalogue::pricing::Buyer;
use crate::db::schema::{organization_members, organizations};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub business_license_no: String,
    pub city: String,
    pub contact_phone: String,
    pub status: String,
    pub payment_terms: Option<String>,
    pub credit_limit: Option<i64>,
    pub rejection_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub credit_used: i64,
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<OrganizationRow>, ApiError> {
    Ok(organizations::table
        .find(id)
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn add_member(
    conn: &mut DbConn,
    org: &str,
    user: &str,
    role: OrgRole,
) -> Result<NaiveDateTime, ApiError> {
    let now = db::now();
    diesel::insert_into(organization_members::table)
        .values((
            organization_members::organization_id.eq(org),
            organization_members::user_id.eq(user),
            organization_members::role.eq(role.as_str()),
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

/// How an order for an organization is priced and paid.
#[derive(Debug, Clone)]
pub struct BuyingTerms {
    pub organization_id: Option<String>,
    pub buyer: Buyer,
    pub net_30: bool,
}

impl BuyingTerms {
    pub fn retail() -> Self {
        BuyingTerms {
            organization_id: None,
            buyer: Buyer::Retail,
            net_30: false,
        }
    }
}

/// The terms for ordering on behalf of `organization_id`: the caller must be a member (else
/// 403) and the organization approved (else 403).
pub fn terms_for_order(
    conn: &mut DbConn,
    user: &AuthUser,
    organization_id: Option<&str>,
) -> Result<BuyingTerms, ApiError> {
    let Some(org_id) = organization_id else {
        return Ok(BuyingTerms::retail());
    };
    let org = find(conn, org_id)?
        .ok_or_else(|| ApiError::forbidden("you are not a member of this organization"))?;
    if organization_role(conn, user, org_id)?.is_none() {
        return Err(ApiError::forbidden(
            "you are not a member of this organization",
        ));
    }
    if org.status != "approved" {
        return Err(ApiError::forbidden(
            "this organization is not approved for business buying yet",
        ));
    }
    Ok(BuyingTerms {
        organization_id: Some(org.id),
        buyer: Buyer::Wholesale,
        net_30: org.payment_terms.as_deref() == Some("net_30"),
    })
}
