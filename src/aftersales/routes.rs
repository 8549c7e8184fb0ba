//! Claim endpoints: open (the buyer's side), read and list, and the decisions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::domain::{
    ApproveClaim, ClaimAction, ClaimActor, ClaimOrigin, ClaimRequest, ClaimStatus, OpenClaim,
    RejectClaim,
};
use super::repo::{self, ClaimRow};
use super::{ClaimView, Opening};
use crate::auth::AuthUser;
use crate::cooperatives::access::cooperative_role;
use crate::cooperatives::repo as coops;
use crate::cooperatives::require_cooperative_member;
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{idempotency_key, ApiJson, OptionalJson};
use crate::http::idempotency::{self, Stored};
use crate::http::pagination::{Page, Paginated};
use crate::http::validate::optional_word;
use crate::ids::{ClaimId, CooperativeId, OrderId};
use crate::orders::repo::{self as orders, OrderRow};
use crate::orders::views::{scope_for, Scope};
use crate::organizations::organization_role;

/// The buyer and the members of the order's organization.
pub(crate) fn on_buyer_side(
    conn: &mut DbConn,
    user: &AuthUser,
    order: &OrderRow,
) -> ApiResult<bool> {
    if order.buyer_id == user.id {
        return Ok(true);
    }
    match order.organization_id {
        Some(org) => Ok(organization_role(conn, user, org)?.is_some()),
        None => Ok(false),
    }
}

/// Who the caller is to this claim; 404 for anyone it is none of their business.
fn actor_for(conn: &mut DbConn, user: &AuthUser, claim: &ClaimRow) -> ApiResult<ClaimActor> {
    if user.is_admin() {
        return Ok(ClaimActor::Admin);
    }
    if cooperative_role(conn, user, claim.cooperative_id)?.is_some() {
        return Ok(ClaimActor::Cooperative);
    }
    let order = orders::find(conn, claim.order_id)?.ok_or(ApiError::NotFound)?;
    if on_buyer_side(conn, user, &order)? {
        return Ok(ClaimActor::Buyer);
    }
    Err(ApiError::NotFound)
}

fn one_view(conn: &mut DbConn, row: ClaimRow) -> ApiResult<ClaimView> {
    super::views(conn, vec![row])?
        .pop()
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/claims", tag = "after-sales", request_body = OpenClaim,
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 201, body = ClaimView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn open(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: ApiJson<OpenClaim>,
) -> ApiResult<HttpResponse> {
    let order_id = id.into_inner();
    let key = idempotency_key(&req)?;
    let hash = idempotency::fingerprint("POST", req.path(), &body.0);
    let claim = ClaimRequest::try_from(body.0)?;
    let user_id = user.id;
    let stored = idempotency::execute(&pool, user_id, key, hash, move |conn| {
        let order = orders::find(conn, order_id)?.ok_or(ApiError::NotFound)?;
        if !on_buyer_side(conn, &user, &order)? {
            return Err(ApiError::NotFound);
        }
        if !super::within_window(conn, &order)? {
            return Err(ApiError::field(
                "items",
                format!(
                    "claims are opened within {} days of delivery (or of shipping, if not delivered)",
                    super::WINDOW_DAYS
                ),
            ));
        }
        let row = super::open(
            conn,
            &order,
            &claim.items,
            &Opening {
                opened_by: Some(user_id),
                kind: claim.kind,
                reason: claim.reason,
                origin: ClaimOrigin::Buyer,
                note: claim.note.as_deref(),
                evidence: &claim.evidence,
                readings: Vec::new(),
                shipment_id: None,
            },
        )?;
        Stored::new(StatusCode::CREATED, one_view(conn, row)?)
    })
    .await?;
    Ok(stored.into_response())
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/claims", tag = "after-sales", security(("bearer" = [])),
    responses((status = 200, body = Paginated<ClaimView>), (status = 404, body = Problem)))]
pub async fn of_order(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let items = blocking::run(&pool, move |conn| {
        let order = orders::find(conn, id)?.ok_or(ApiError::NotFound)?;
        let rows = match scope_for(conn, &user, &order)? {
            Scope::Whole => repo::of_order(conn, id, None)?,
            Scope::Cooperatives(c) => repo::of_order(conn, id, Some(&c))?,
        };
        super::views(conn, rows)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paginated {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/claims/{id}", tag = "after-sales", security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 404, body = Problem)))]
pub async fn get(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ClaimId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = blocking::run(&pool, move |conn| {
        let claim = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
        actor_for(conn, &user, &claim)?;
        one_view(conn, claim)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ClaimQuery {
    /// `open`, `approved`, `rejected`, `awaiting_return` or `escalated` (blank: any)
    #[param(schema_with = claim_status_param)]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn claim_status_param() -> utoipa::openapi::Object {
    crate::http::openapi::word_or_blank(ClaimStatus::ALL.iter().map(|s| s.as_str()))
}

#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/claims", tag = "after-sales", params(ClaimQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Paginated<ClaimView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn of_cooperative(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    q: web::Query<ClaimQuery>,
) -> ApiResult<HttpResponse> {
    let coop = id.into_inner();
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let status = optional_word(
        "status",
        q.status.as_deref(),
        ClaimStatus::parse,
        "must be open, approved, rejected, awaiting_return or escalated",
    )?;
    let out = blocking::run(&pool, move |conn| {
        claims_of(conn, &user, coop, status, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A co-op's claims, for its members and admins.
pub fn claims_of(
    conn: &mut DbConn,
    user: &AuthUser,
    coop: CooperativeId,
    status: Option<ClaimStatus>,
    page: &Page,
) -> ApiResult<Paginated<ClaimView>> {
    coops::get(conn, coop)?;
    require_cooperative_member(conn, user, coop, false)?;
    let rows = repo::of_cooperative(conn, coop, status, page)?;
    let next_cursor = rows.next_cursor.clone();
    Ok(Paginated {
        items: super::views(conn, rows.items)?,
        next_cursor,
    })
}

async fn act(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: ClaimId,
    action: ClaimAction,
    amount: Option<crate::money::Money>,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    let view = blocking::run(&pool, move |conn| {
        act_on(conn, &user, id, action, amount, reason.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Approves, rejects, escalates or receives the return of a claim, as the caller may.
pub fn act_on(
    conn: &mut DbConn,
    user: &AuthUser,
    id: ClaimId,
    action: ClaimAction,
    amount: Option<crate::money::Money>,
    reason: Option<&str>,
) -> ApiResult<ClaimView> {
    db::write_tx(conn, |conn| {
        let claim = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
        let actor = actor_for(conn, user, &claim)?;
        let row = super::decide(conn, &claim, action, actor, user.id, amount, reason)?;
        one_view(conn, row)
    })
}

#[utoipa::path(post, path = "/api/v1/claims/{id}/approve", tag = "after-sales", request_body = ApproveClaim,
    security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ClaimId>,
    body: OptionalJson<ApproveClaim>,
) -> ApiResult<HttpResponse> {
    let amount = body.0.amount;
    act(
        pool,
        user,
        id.into_inner(),
        ClaimAction::Approve,
        amount,
        None,
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/claims/{id}/reject", tag = "after-sales", request_body = RejectClaim,
    security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reject(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ClaimId>,
    body: ApiJson<RejectClaim>,
) -> ApiResult<HttpResponse> {
    let reason = body
        .0
        .reason
        .parse()
        .map_err(|m| ApiError::field("reason", m))?
        .ok_or_else(|| ApiError::field("reason", "is required"))?;
    act(
        pool,
        user,
        id.into_inner(),
        ClaimAction::Reject,
        None,
        Some(reason),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/claims/{id}/escalate", tag = "after-sales",
    security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn escalate(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ClaimId>,
) -> ApiResult<HttpResponse> {
    act(
        pool,
        user,
        id.into_inner(),
        ClaimAction::Escalate,
        None,
        None,
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/claims/{id}/receive-return", tag = "after-sales",
    security(("bearer" = [])),
    responses((status = 200, body = ClaimView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn receive_return(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ClaimId>,
) -> ApiResult<HttpResponse> {
    act(
        pool,
        user,
        id.into_inner(),
        ClaimAction::ReceiveReturn,
        None,
        None,
    )
    .await
}
