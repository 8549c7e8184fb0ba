//! Queries for organizations and their members, and the buying terms an order gets.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::access::organization_role;
use super::domain::{OrganizationStatus, PaymentTerms};
use crate::auth::AuthUser;
use crate::catalogue::pricing::Buyer;
use crate::db::schema::{organization_members, organizations};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{OrganizationId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: OrganizationId,
    pub name: String,
    pub business_license_no: String,
    pub city: String,
    pub contact_phone: String,
    pub status: OrganizationStatus,
    pub payment_terms: Option<PaymentTerms>,
    pub credit_limit: Option<i64>,
    pub rejection_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub credit_used: i64,
    pub min_remaining_shelf_life_days: i32,
}

/// An application, checked.
pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub business_license_no: &'a str,
    pub city: &'a str,
    pub contact_phone: &'a str,
}

/// Records an application, pending approval.
pub fn insert(conn: &mut DbConn, new: &NewOrganization<'_>) -> Result<OrganizationId, ApiError> {
    let id = OrganizationId::generate();
    let now = db::now();
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(id),
            organizations::name.eq(new.name),
            organizations::business_license_no.eq(new.business_license_no),
            organizations::city.eq(new.city),
            organizations::contact_phone.eq(new.contact_phone),
            organizations::status.eq(OrganizationStatus::Pending),
            organizations::created_at.eq(now),
            organizations::updated_at.eq(now),
            organizations::credit_used.eq(0_i64),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Organizations (at most 500): all of them, or those `member` belongs to.
pub fn list(conn: &mut DbConn, member: Option<UserId>) -> Result<Vec<OrganizationRow>, ApiError> {
    let mut q = organizations::table
        .select(OrganizationRow::as_select())
        .order(organizations::id.asc())
        .limit(500)
        .into_boxed();
    if let Some(user) = member {
        let mine = organization_members::table
            .filter(organization_members::user_id.eq(user))
            .select(organization_members::organization_id);
        q = q.filter(organizations::id.eq_any(mine));
    }
    Ok(q.load(conn)?)
}

pub fn find(conn: &mut DbConn, id: OrganizationId) -> Result<Option<OrganizationRow>, ApiError> {
    Ok(organizations::table
        .find(id)
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()?)
}

/// How an order for an organization is priced and paid.
#[derive(Debug, Clone)]
pub struct BuyingTerms {
    pub organization_id: Option<OrganizationId>,
    pub buyer: Buyer,
    pub net_30: bool,
    /// Days of shelf life the goods must have left when they arrive.
    pub min_shelf_life_days: i64,
}

impl BuyingTerms {
    pub fn retail() -> Self {
        BuyingTerms {
            organization_id: None,
            buyer: Buyer::Retail,
            net_30: false,
            min_shelf_life_days: 0,
        }
    }
}

/// The terms for ordering on behalf of `organization_id`: the caller must be a member (else
/// 403) and the organization approved (else 403).
pub fn terms_for_order(
    conn: &mut DbConn,
    user: &AuthUser,
    organization_id: Option<OrganizationId>,
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
    if org.status != OrganizationStatus::Approved {
        return Err(ApiError::forbidden(
            "this organization is not approved for business buying yet",
        ));
    }
    Ok(BuyingTerms {
        organization_id: Some(org.id),
        buyer: Buyer::Wholesale,
        net_30: org.payment_terms == Some(PaymentTerms::Net30),
        min_shelf_life_days: i64::from(org.min_remaining_shelf_life_days),
    })
}

/// What an approval decision writes besides the status (`None`: the column is left alone).
#[derive(AsChangeset)]
#[diesel(table_name = organizations)]
pub struct Decision<'a> {
    pub status: OrganizationStatus,
    pub payment_terms: Option<Option<PaymentTerms>>,
    pub credit_limit: Option<Option<i64>>,
    pub rejection_reason: Option<Option<&'a str>>,
    pub min_remaining_shelf_life_days: Option<i32>,
    pub updated_at: NaiveDateTime,
}

impl<'a> Decision<'a> {
    /// Approval (or new terms for an approved organization).
    pub fn approve(
        terms: PaymentTerms,
        credit_limit: Option<i64>,
        min_remaining_shelf_life_days: Option<i32>,
    ) -> Self {
        Decision {
            status: OrganizationStatus::Approved,
            payment_terms: Some(Some(terms)),
            credit_limit: Some(credit_limit),
            rejection_reason: None,
            min_remaining_shelf_life_days,
            updated_at: db::now(),
        }
    }

    pub fn reject(reason: &'a str) -> Self {
        Decision {
            status: OrganizationStatus::Rejected,
            payment_terms: None,
            credit_limit: None,
            rejection_reason: Some(Some(reason)),
            min_remaining_shelf_life_days: None,
            updated_at: db::now(),
        }
    }
}

/// Applies a decision to an organization that is still `from` (checked by the transition
/// rule first); false when a racing request changed its status meanwhile.
pub fn decide(
    conn: &mut DbConn,
    id: OrganizationId,
    from: OrganizationStatus,
    decision: &Decision<'_>,
) -> Result<bool, ApiError> {
    from.transition(decision.status)?;
    let n = diesel::update(
        organizations::table
            .filter(organizations::id.eq(id))
            .filter(organizations::status.eq(from)),
    )
    .set(decision)
    .execute(conn)?;
    Ok(n == 1)
}

/// Sets the shelf life an organization's goods must have left on arrival.
pub fn set_min_shelf_life(
    conn: &mut DbConn,
    id: OrganizationId,
    days: i32,
) -> Result<bool, ApiError> {
    let n = diesel::update(organizations::table.find(id))
        .set((
            organizations::min_remaining_shelf_life_days.eq(days),
            organizations::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
