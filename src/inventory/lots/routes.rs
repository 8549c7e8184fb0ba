//! Lot endpoints: receive, list, read, adjust, hold and release for the co-op's members; the
//! public trace (JSON and a phone page) and the printable label.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::domain::{self, LotAdjustment, LotHold, LotReason, LotStatus, Receipt, ReceiveLot};
use super::repo::{self, LotFilter, LotRow};
use crate::audit;
use crate::auth::AuthUser;
use crate::config::PublicUrl;
use crate::cooperatives::repo as coops;
use crate::cooperatives::{can_see_cooperative, require_cooperative_member};
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{idempotency_key, ApiJson, OptionalJson};
use crate::http::idempotency::{self, Stored};
use crate::http::pagination::{Page, Paginated};
use crate::http::validate::optional_word;
use crate::ids::{CooperativeId, LotId, SkuId, WarehouseId};

#[derive(Debug, Serialize, ToSchema)]
pub struct LotView {
    pub id: LotId,
    pub cooperative_id: CooperativeId,
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub code: String,
    #[schema(format = Date)]
    pub harvested_on: Option<String>,
    #[schema(format = Date)]
    pub packed_on: String,
    /// The last day the lot may be sold on (China time).
    #[schema(format = Date)]
    pub best_before: String,
    pub origin: Option<String>,
    pub certificate_no: Option<String>,
    pub received_quantity: i64,
    pub on_hand: i64,
    pub reserved: i64,
    /// Units an order could take now: 0 unless the lot is active.
    pub available: i64,
    pub status: LotStatus,
    pub hold_reason: Option<String>,
    pub trace_code: String,
    pub trace_url: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LotView {
    pub fn new(r: LotRow, public: &PublicUrl, today: chrono::NaiveDate) -> Self {
        let status = LotStatus::of(r.status, r.on_hand, &r.best_before, today);
        LotView {
            available: if status == LotStatus::Active {
                r.on_hand - r.reserved
            } else {
                0
            },
            status,
            trace_url: public.trace_url(&r.trace_code),
            created_at: db::utc(r.created_at),
            updated_at: db::utc(r.updated_at),
            id: r.id,
            cooperative_id: r.cooperative_id,
            sku_id: r.sku_id,
            warehouse_id: r.warehouse_id,
            code: r.code,
            harvested_on: r.harvested_on,
            packed_on: r.packed_on,
            best_before: r.best_before,
            origin: r.origin,
            certificate_no: r.certificate_no,
            received_quantity: r.received_quantity,
            on_hand: r.on_hand,
            reserved: r.reserved,
            hold_reason: r.hold_reason,
            trace_code: r.trace_code,
            version: r.version,
        }
    }
}

/// A lot the caller may work with: its co-op's members and admins; 404 for everyone else,
/// so lots of other co-ops do not even show they exist.
pub fn visible_lot(conn: &mut DbConn, user: &AuthUser, id: LotId) -> ApiResult<LotRow> {
    let lot = repo::get(conn, id)?.ok_or(ApiError::NotFound)?;
    if !can_see_cooperative(conn, Some(user), lot.cooperative_id)? {
        return Err(ApiError::NotFound);
    }
    Ok(lot)
}

/// A co-op's page of lots: 404 for a co-op that does not exist, 403 for non-members.
pub fn member_of_coop(conn: &mut DbConn, user: &AuthUser, id: CooperativeId) -> ApiResult<()> {
    coops::get(conn, id)?;
    require_cooperative_member(conn, user, id, false)
}

#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/lots", tag = "lots",
    request_body = ReceiveLot, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 201, body = LotView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn receive(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    body: ApiJson<ReceiveLot>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let key = idempotency_key(&req)?;
    let hash = idempotency::fingerprint("POST", req.path(), &body.0);
    let today = domain::today();
    let receipt = Receipt::parse(body.0, today)?;
    let user_id = user.id;
    let stored = idempotency::execute(&pool, user_id, key, hash, move |conn| {
        member_of_coop(conn, &user, coop_id)?;
        let lot = super::receive(conn, coop_id, &receipt, Some(user_id))?;
        Stored::new(StatusCode::CREATED, LotView::new(lot, &public, today))
    })
    .await?;
    Ok(stored.into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LotQuery {
    pub sku_id: Option<SkuId>,
    pub warehouse_id: Option<WarehouseId>,
    /// `active`, `held`, `expired` or `depleted` (blank: any)
    #[param(schema_with = lot_status_param)]
    pub status: Option<String>,
    /// Lots with units left whose last day is within this many days from today.
    #[param(minimum = 0, maximum = 3650)]
    pub expiring_within_days: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn lot_status_param() -> utoipa::openapi::Object {
    crate::http::openapi::word_or_blank(["active", "held", "expired", "depleted"])
}

#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/lots", tag = "lots", params(LotQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Paginated<LotView>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    q: web::Query<LotQuery>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let status = optional_word(
        "status",
        q.status.as_deref(),
        LotStatus::parse,
        "must be active, held, expired or depleted",
    )?;
    if q.expiring_within_days
        .is_some_and(|d| !(0..=3650).contains(&d))
    {
        return Err(ApiError::field(
            "expiring_within_days",
            "must be between 0 and 3650",
        ));
    }
    let filter = LotFilter {
        sku_id: q.sku_id,
        warehouse_id: q.warehouse_id,
        status,
        expiring_within_days: q.expiring_within_days,
    };
    let today = domain::today();
    let rows = blocking::run(&pool, move |conn| {
        member_of_coop(conn, &user, coop_id)?;
        repo::list(conn, coop_id, &filter, today, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.map(|r| LotView::new(r, &public, today))))
}

#[utoipa::path(get, path = "/api/v1/lots/{id}", tag = "lots", security(("bearer" = [])),
    responses((status = 200, body = LotView), (status = 404, body = Problem)))]
pub async fn get(
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<LotId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let lot = blocking::run(&pool, move |conn| visible_lot(conn, &user, id)).await?;
    Ok(HttpResponse::Ok().json(LotView::new(lot, &public, domain::today())))
}

#[utoipa::path(post, path = "/api/v1/lots/{id}/adjustments", tag = "lots",
    request_body = LotAdjustment, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 200, body = LotView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn adjust(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<LotId>,
    body: ApiJson<LotAdjustment>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let key = idempotency_key(&req)?;
    let hash = idempotency::fingerprint("POST", req.path(), &body.0);
    let (delta, reason) = body.0.check()?;
    let user_id = user.id;
    let stored = idempotency::execute(&pool, user_id, key, hash, move |conn| {
        let lot = visible_lot(conn, &user, id)?;
        let lot = super::adjust(conn, &lot, delta, reason.as_deref(), user_id)?;
        Stored::new(StatusCode::OK, LotView::new(lot, &public, domain::today()))
    })
    .await?;
    Ok(stored.into_response())
}

/// Moves a lot between active and held, recording who did it and why.
async fn set_hold(
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: LotId,
    to: LotHold,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    let lot = blocking::run(&pool, move |conn| {
        change_hold(conn, &user, id, to, reason.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(LotView::new(lot, &public, domain::today())))
}

/// Holds or releases a lot the caller's co-op owns (audited when it changes).
pub fn change_hold(
    conn: &mut DbConn,
    user: &AuthUser,
    id: LotId,
    to: LotHold,
    reason: Option<&str>,
) -> ApiResult<LotRow> {
    db::write_tx(conn, |conn| {
        let lot = visible_lot(conn, user, id)?;
        if !super::move_hold(conn, &lot, to, reason)? {
            return Ok(lot);
        }
        audit::record(
            conn,
            Some(user.id),
            &format!(
                "lot.{}",
                if to == LotHold::Held {
                    "held"
                } else {
                    "released"
                }
            ),
            "lot",
            id,
            serde_json::json!({"code": lot.code, "reason": reason}),
        )?;
        repo::get(conn, id)?.ok_or(ApiError::NotFound)
    })
}

#[utoipa::path(post, path = "/api/v1/lots/{id}/hold", tag = "lots", request_body = LotReason,
    security(("bearer" = [])),
    responses((status = 200, body = LotView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn hold(
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<LotId>,
    body: OptionalJson<LotReason>,
) -> ApiResult<HttpResponse> {
    let reason = body.0.check()?;
    set_hold(pool, public, user, id.into_inner(), LotHold::Held, reason).await
}

#[utoipa::path(post, path = "/api/v1/lots/{id}/release", tag = "lots",
    security(("bearer" = [])),
    responses((status = 200, body = LotView), (status = 404, body = Problem)))]
pub async fn release(
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<LotId>,
) -> ApiResult<HttpResponse> {
    set_hold(pool, public, user, id.into_inner(), LotHold::Active, None).await
}
