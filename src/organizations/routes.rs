//! `/organizations…`: apply, approve or reject (admin), add members (owner), read.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access;
use super::domain::{OrganizationStatus, PaymentTerms};
use super::repo::{self, Decision, OrganizationRow};
use crate::audit;
use crate::auth::domain::Email;
use crate::auth::{self, AdminUser, AuthUser};
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::pagination::Paginated;
use crate::http::text::{EmailText, Line, Phone};
use crate::http::validate::Fields;
use crate::ids::OrganizationId;
use crate::money::Money;
use crate::organizations::organization_role;
use crate::organizations::OrgRole;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Apply {
    pub name: Line<100>,
    pub business_license_no: Line<40>,
    pub city: Line<50>,
    pub contact_phone: Phone,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Approve {
    pub payment_terms: PaymentTerms,
    pub credit_limit: Option<Money>,
    /// Days of shelf life goods must have left when they arrive (default: unchanged, 0 for a
    /// new organization).
    #[schema(minimum = 0, maximum = 3650)]
    pub min_remaining_shelf_life_days: Option<i64>,
}

/// What an admin may change on an organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPatch {
    #[schema(minimum = 0, maximum = 3650)]
    pub min_remaining_shelf_life_days: Option<i64>,
}

pub fn shelf_life_days(days: Option<i64>) -> ApiResult<Option<i32>> {
    match days {
        None => Ok(None),
        Some(d) if (0..=3650).contains(&d) => Ok(Some(d as i32)),
        Some(_) => Err(ApiError::field(
            "min_remaining_shelf_life_days",
            "must be between 0 and 3650 days",
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Reject {
    pub reason: Line<500>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddOrganizationMember {
    pub email: EmailText,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: OrganizationId,
    pub name: String,
    pub business_license_no: String,
    pub city: String,
    pub contact_phone: String,
    pub status: OrganizationStatus,
    pub payment_terms: Option<PaymentTerms>,
    pub credit_limit: Option<Money>,
    /// Open on-terms orders: confirmed and not yet paid.
    pub credit_used: Money,
    pub rejection_reason: Option<String>,
    /// Days of shelf life goods must have left when they arrive.
    pub min_remaining_shelf_life_days: i32,
    pub created_at: DateTime<Utc>,
}

impl From<OrganizationRow> for OrganizationView {
    fn from(r: OrganizationRow) -> Self {
        OrganizationView {
            id: r.id,
            name: r.name,
            business_license_no: r.business_license_no,
            city: r.city,
            contact_phone: r.contact_phone,
            status: r.status,
            payment_terms: r.payment_terms,
            credit_limit: r.credit_limit.map(Money::from_fen),
            credit_used: Money::from_fen(r.credit_used),
            rejection_reason: r.rejection_reason,
            min_remaining_shelf_life_days: r.min_remaining_shelf_life_days,
            created_at: db::utc(r.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgMemberView {
    pub organization_id: OrganizationId,
    pub email: String,
    pub role: OrgRole,
    pub created_at: DateTime<Utc>,
}

#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = Apply,
    security(("bearer" = [])),
    responses((status = 201, body = OrganizationView), (status = 422, body = Problem)))]
pub async fn apply(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ApiJson<Apply>,
) -> ApiResult<HttpResponse> {
    let a = body.0;
    let row = blocking::run(&pool, move |conn| apply_organization(conn, &user, &a)).await?;
    Ok(HttpResponse::Created().json(OrganizationView::from(row)))
}

/// An application for a business account: the applicant becomes its owner; it waits for an
/// admin's approval.
pub fn apply_organization(
    conn: &mut DbConn,
    user: &AuthUser,
    a: &Apply,
) -> ApiResult<OrganizationRow> {
    let mut f = Fields::default();
    let name = f.check("name", a.name.parse());
    let license = f.check("business_license_no", a.business_license_no.parse());
    let city = f.check("city", a.city.parse());
    let contact = f.check("contact_phone", a.contact_phone.parse());
    let (name, license, city, contact) =
        f.finish((|| Some((name?, license?, city?, contact?)))())?;
    db::write_tx(conn, |conn| {
        let id = repo::insert(
            conn,
            &repo::NewOrganization {
                name: &name,
                business_license_no: &license,
                city: &city,
                contact_phone: &contact,
            },
        )?;
        access::add_member(conn, id, user.id, OrgRole::Owner)?;
        repo::find(conn, id)?.ok_or(ApiError::NotFound)
    })
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", security(("bearer" = [])),
    responses((status = 200, body = Paginated<OrganizationView>)))]
pub async fn list(pool: web::Data<DbPool>, user: AuthUser) -> ApiResult<HttpResponse> {
    let rows = blocking::run(&pool, move |conn| {
        let member = (!user.is_admin()).then_some(user.id);
        repo::list(conn, member)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paginated {
        items: rows
            .into_iter()
            .map(OrganizationView::from)
            .collect::<Vec<_>>(),
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", security(("bearer" = [])),
    responses((status = 200, body = OrganizationView), (status = 404, body = Problem)))]
pub async fn get(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrganizationId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = blocking::run(&pool, move |conn| {
        let row = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
        if !user.is_admin() && organization_role(conn, &user, id)?.is_none() {
            return Err(ApiError::NotFound);
        }
        Ok(row)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrganizationView::from(row)))
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/approve", tag = "organizations", request_body = Approve,
    security(("bearer" = [])),
    responses((status = 200, body = OrganizationView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve(
    pool: web::Data<DbPool>,
    admin: AdminUser,
    id: web::Path<OrganizationId>,
    body: ApiJson<Approve>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let Approve {
        payment_terms,
        credit_limit,
        min_remaining_shelf_life_days,
    } = body.0;
    let shelf_life = shelf_life_days(min_remaining_shelf_life_days)?;
    let row = blocking::run(&pool, move |conn| {
        approve_organization(conn, &admin.0, id, payment_terms, credit_limit, shelf_life)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrganizationView::from(row)))
}

/// Approves (or re-approves) an organization with its terms; admins only (the caller's
/// extractor or page checks that), audited.
pub fn approve_organization(
    conn: &mut DbConn,
    admin: &AuthUser,
    id: OrganizationId,
    payment_terms: PaymentTerms,
    credit_limit: Option<Money>,
    shelf_life: Option<i32>,
) -> ApiResult<OrganizationRow> {
    if !admin.is_admin() {
        return Err(ApiError::forbidden("this needs a platform admin"));
    }
    db::write_tx(conn, |conn| {
        let org = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
        let limit = credit_limit.map(Money::fen);
        let decision = Decision::approve(payment_terms, limit, shelf_life);
        if !repo::decide(conn, id, org.status, &decision)? {
            return Err(changed_meanwhile());
        }
        audit::record(
            conn,
            Some(admin.id),
            "organization.approved",
            "organization",
            id,
            serde_json::json!({"payment_terms": payment_terms.as_str(), "credit_limit": credit_limit,
                               "min_remaining_shelf_life_days": shelf_life}),
        )?;
        repo::find(conn, id)?.ok_or(ApiError::NotFound)
    })
}

/// Rejects an organization with a reason; admins only, audited.
pub fn reject_organization(
    conn: &mut DbConn,
    admin: &AuthUser,
    id: OrganizationId,
    reason: &str,
) -> ApiResult<OrganizationRow> {
    if !admin.is_admin() {
        return Err(ApiError::forbidden("this needs a platform admin"));
    }
    db::write_tx(conn, |conn| {
        let org = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
        if !repo::decide(conn, id, org.status, &Decision::reject(reason))? {
            return Err(changed_meanwhile());
        }
        audit::record(
            conn,
            Some(admin.id),
            "organization.rejected",
            "organization",
            id,
            serde_json::json!({ "reason": reason }),
        )?;
        repo::find(conn, id)?.ok_or(ApiError::NotFound)
    })
}

#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "organizations", request_body = OrganizationPatch,
    security(("bearer" = [])),
    responses((status = 200, body = OrganizationView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    pool: web::Data<DbPool>,
    admin: AdminUser,
    id: web::Path<OrganizationId>,
    body: ApiJson<OrganizationPatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let days = shelf_life_days(body.0.min_remaining_shelf_life_days)?;
    let row = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
            if let Some(days) = days {
                repo::set_min_shelf_life(conn, id, days)?;
                audit::record(
                    conn,
                    Some(admin.0.id),
                    "organization.updated",
                    "organization",
                    id,
                    serde_json::json!({"min_remaining_shelf_life_days": days}),
                )?;
            }
            repo::find(conn, id)?.ok_or(ApiError::NotFound)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrganizationView::from(row)))
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/reject", tag = "organizations", request_body = Reject,
    security(("bearer" = [])),
    responses((status = 200, body = OrganizationView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject(
    pool: web::Data<DbPool>,
    admin: AdminUser,
    id: web::Path<OrganizationId>,
    body: ApiJson<Reject>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut f = Fields::default();
    let reason = f.check("reason", body.0.reason.parse());
    let reason = f.finish(reason)?;
    let row = blocking::run(&pool, move |conn| {
        reject_organization(conn, &admin.0, id, &reason)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrganizationView::from(row)))
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/members", tag = "organizations", request_body = AddOrganizationMember,
    security(("bearer" = [])),
    responses((status = 201, body = OrgMemberView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_member(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrganizationId>,
    body: ApiJson<AddOrganizationMember>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let email = Email::parse(&body.0.email.0).map_err(|m| ApiError::field("email", m))?;
    let view = blocking::run(&pool, move |conn| add_org_member(conn, &user, id, &email)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Adds an existing account to an organization (its owner, or an admin).
pub fn add_org_member(
    conn: &mut DbConn,
    user: &AuthUser,
    id: OrganizationId,
    email: &Email,
) -> ApiResult<OrgMemberView> {
    db::write_tx(conn, |conn| {
        repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
        match organization_role(conn, user, id)? {
            Some(OrgRole::Owner) => {}
            _ if user.is_admin() => {}
            Some(OrgRole::Member) => {
                return Err(ApiError::forbidden(
                    "only the organization's owner adds members",
                ))
            }
            None => return Err(ApiError::NotFound),
        }
        let member = auth::repo::find_by_email(conn, email.as_str())?
            .map(|u| u.id)
            .ok_or_else(|| {
                ApiError::field(
                    "email",
                    "no account uses this email; ask them to register first",
                )
            })?;
        let created = access::add_member(conn, id, member, OrgRole::Member)?;
        Ok(OrgMemberView {
            organization_id: id,
            email: email.as_str().to_owned(),
            role: OrgRole::Member,
            created_at: db::utc(created),
        })
    })
}

/// The answer when another request changed the organization between our read and our write.
fn changed_meanwhile() -> ApiError {
    ApiError::InvalidState("the organization's status changed meanwhile; read it again".into())
}

#[utoipa::path(delete, path = "/api/v1/organizations/{id}/members/me", tag = "organizations",
    security(("bearer" = [])),
    responses((status = 204, description = "The caller is no longer a member"), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn leave(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrganizationId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| match organization_role(conn, &user, id)? {
            None => Err(ApiError::NotFound),
            Some(OrgRole::Owner) => Err(ApiError::Conflict(
                "the owner cannot leave the organization".into(),
            )),
            Some(OrgRole::Member) => {
                access::remove_member(conn, id, user.id)?;
                Ok(())
            }
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
