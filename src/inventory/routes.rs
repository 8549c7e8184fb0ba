//! Stock endpoints for co-op members: the stock list, stocktakes, batch adjustments, the ledger.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::domain::{Adjustment, AdjustmentBatch, MovementKind, Stocktake, StocktakeRequest};
use super::lots::repo as lot_repo;
use super::repo::{self, MovementRow, StockFilter, StockRow};
use crate::audit;
use crate::auth::AuthUser;
use crate::cooperatives::repo as coops;
use crate::cooperatives::require_cooperative_member;
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::extract::{etag, idempotency_key, if_match, ApiJson};
use crate::http::idempotency::{self, Stored};
use crate::http::pagination::{Page, PageParams, Paginated};
use crate::ids::{CooperativeId, LotId, MovementId, OrderId, SkuId, UserId, WarehouseId};

#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub sku_id: SkuId,
    pub sku_code: String,
    pub warehouse_id: WarehouseId,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// At or below the SKU's low-stock threshold.
    pub low_stock: bool,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<StockRow> for StockView {
    fn from(r: StockRow) -> Self {
        let available = r.on_hand - r.reserved;
        StockView {
            low_stock: available <= r.low_stock_threshold,
            sku_id: r.sku_id,
            sku_code: r.sku_code,
            warehouse_id: r.warehouse_id,
            on_hand: r.on_hand,
            reserved: r.reserved,
            available,
            version: r.version,
            updated_at: db::utc(r.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementView {
    pub id: MovementId,
    pub warehouse_id: WarehouseId,
    pub delta: i64,
    pub kind: MovementKind,
    pub reason: Option<String>,
    pub order_id: Option<OrderId>,
    pub actor_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    /// The lot the units moved in or out of (lot-tracked SKUs).
    pub lot_id: Option<LotId>,
}

impl From<MovementRow> for MovementView {
    fn from(r: MovementRow) -> Self {
        MovementView {
            kind: r.kind,
            id: r.id,
            warehouse_id: r.warehouse_id,
            delta: r.delta,
            reason: r.reason,
            order_id: r.order_id,
            actor_id: r.actor_id,
            created_at: db::utc(r.created_at),
            lot_id: r.lot_id,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StockQuery {
    pub sku_id: Option<SkuId>,
    pub warehouse_id: Option<WarehouseId>,
    /// Only rows at or below their SKU's low-stock threshold.
    pub low_stock: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/stock", tag = "inventory", params(StockQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Paginated<StockView>), (status = 403, body = Problem)))]
pub async fn list(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    q: web::Query<StockQuery>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let filter = StockFilter {
        sku_id: q.sku_id,
        warehouse_id: q.warehouse_id,
        low_stock: q.low_stock.unwrap_or(false),
    };
    let rows = blocking::run(&pool, move |conn| {
        stock_of(conn, &user, coop_id, &filter, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.map(StockView::from)))
}

/// A co-op's stock rows, for its members and admins.
pub fn stock_of(
    conn: &mut DbConn,
    user: &AuthUser,
    coop_id: CooperativeId,
    filter: &StockFilter,
    page: &Page,
) -> ApiResult<crate::http::pagination::Paginated<repo::StockRow>> {
    coops::get(conn, coop_id)?;
    require_cooperative_member(conn, user, coop_id, false)?;
    repo::list(conn, coop_id, filter, page)
}

/// The answer to a stock-row change of a lot-tracked SKU.
const LOT_TRACKED: &str =
    "This SKU is lot-tracked: its stock moves through its lots (receive, adjust or hold a lot).";

/// The SKU's co-op after checking the caller belongs to it and the warehouse does too.
fn sku_and_warehouse_access(
    conn: &mut DbConn,
    user: &AuthUser,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
) -> ApiResult<CooperativeId> {
    let coop = repo::sku_cooperative(conn, sku_id)?.ok_or(ApiError::NotFound)?;
    require_cooperative_member(conn, user, coop, false)?;
    match repo::warehouse_cooperative(conn, warehouse_id)? {
        Some(w) if w == coop => Ok(coop),
        _ => Err(ApiError::NotFound),
    }
}

#[utoipa::path(put, path = "/api/v1/skus/{sku_id}/stock/{warehouse_id}", tag = "inventory",
    request_body = StocktakeRequest, security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "the stock row's ETag")),
    responses((status = 200, body = StockView), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn stocktake(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    path: web::Path<(SkuId, WarehouseId)>,
    body: ApiJson<StocktakeRequest>,
) -> ApiResult<HttpResponse> {
    let (sku, wh) = path.into_inner();
    let count = Stocktake::try_from(body.0)?;
    let expected = if_match(&req)?;
    let row = blocking::run(&pool, move |conn| {
        take_stock(conn, &user, sku, wh, &count, expected)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(row.version))
        .json(StockView::from(row)))
}

/// Sets a stock row to a counted number (not below what is reserved); `expected` pins the
/// row's version. Audited when it changes something.
pub fn take_stock(
    conn: &mut DbConn,
    user: &AuthUser,
    sku: SkuId,
    wh: WarehouseId,
    count: &Stocktake,
    expected: Option<i64>,
) -> ApiResult<repo::StockRow> {
    db::write_tx(conn, |conn| {
        let coop = sku_and_warehouse_access(conn, user, sku, wh)?;
        if !lot_repo::lot_tracked(conn, &[sku])?.is_empty() {
            return Err(ApiError::Conflict(LOT_TRACKED.into()));
        }
        repo::ensure_row(conn, sku, wh, coop)?;
        let actor = user.id;
        // the version check makes the count apply to exactly the row that was read; a
        // concurrent change (a reservation, say) is retried, unless If-Match pinned it
        for _ in 0..5 {
            let current = repo::find(conn, sku, wh)?.ok_or(ApiError::NotFound)?;
            if expected.is_some_and(|v| v != current.version) {
                return Err(ApiError::PreconditionFailed);
            }
            if count.on_hand < current.reserved {
                return Err(ApiError::Conflict(format!(
                    "{} units are reserved for orders; the count cannot be lower",
                    current.reserved
                )));
            }
            let applied = repo::set_on_hand(
                conn,
                &current,
                count.on_hand,
                count.reason.as_deref(),
                Some(actor),
            )?;
            if let Some(delta) = applied {
                audit::record(
                    conn,
                    Some(actor),
                    "stock.stocktake",
                    "stock",
                    format!("{sku}/{wh}"),
                    serde_json::json!({"sku_id": sku, "warehouse_id": wh, "on_hand": count.on_hand, "delta": delta, "reason": count.reason}),
                )?;
                return repo::find(conn, sku, wh)?.ok_or(ApiError::NotFound);
            }
            if expected.is_some() {
                return Err(ApiError::PreconditionFailed);
            }
        }
        Err(ApiError::Conflict(
            "the stock row keeps changing; try again".into(),
        ))
    })
}

#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/stock/adjustments", tag = "inventory",
    request_body = AdjustmentBatch, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 200, body = Paginated<StockView>), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn adjust(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    body: ApiJson<AdjustmentBatch>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let key = idempotency_key(&req)?;
    let hash = idempotency::fingerprint("POST", req.path(), &body.0);
    let lines: Vec<Adjustment> = body.0.try_into()?;
    let user_id = user.id;
    let stored = idempotency::execute(&pool, user_id, key, hash, move |conn| {
        coops::get(conn, coop_id)?;
        require_cooperative_member(conn, &user, coop_id, false)?;
        apply_batch(conn, coop_id, &lines, user_id)
    })
    .await?;
    Ok(stored.into_response())
}

/// Applies every line or none: any line that would leave less on hand than is reserved fails
/// the batch with a 409 naming each such line.
fn apply_batch(
    conn: &mut DbConn,
    coop_id: CooperativeId,
    lines: &[Adjustment],
    actor: UserId,
) -> ApiResult<Stored> {
    let mut invalid = Vec::new();
    for l in lines {
        if repo::sku_cooperative(conn, l.sku_id)? != Some(coop_id) {
            invalid.push(FieldError::new(
                format!("adjustments[{}].sku_id", l.index),
                "no such SKU in this cooperative",
            ));
        }
        if repo::warehouse_cooperative(conn, l.warehouse_id)? != Some(coop_id) {
            invalid.push(FieldError::new(
                format!("adjustments[{}].warehouse_id", l.index),
                "no such warehouse in this cooperative",
            ));
        }
    }
    if !invalid.is_empty() {
        return Err(ApiError::Validation(invalid));
    }
    let ids: Vec<SkuId> = lines.iter().map(|l| l.sku_id).collect();
    let tracked = lot_repo::lot_tracked(conn, &ids)?;
    if !tracked.is_empty() {
        return Err(ApiError::ConflictWith {
            detail: LOT_TRACKED.into(),
            errors: lines
                .iter()
                .filter(|l| tracked.contains(&l.sku_id))
                .map(|l| {
                    FieldError::new(
                        format!("adjustments[{}].sku_id", l.index),
                        "is lot-tracked: adjust its lots",
                    )
                })
                .collect(),
        });
    }
    // a stable lock order keeps two batches from deadlocking on PostgreSQL
    let mut ordered: Vec<&Adjustment> = lines.iter().collect();
    ordered.sort_by_key(|l| (l.sku_id, l.warehouse_id, l.index));
    let mut short = Vec::new();
    for l in ordered {
        repo::ensure_row(conn, l.sku_id, l.warehouse_id, coop_id)?;
        if !repo::apply_delta(
            conn,
            l.sku_id,
            l.warehouse_id,
            l.delta,
            l.kind,
            l.reason.as_deref(),
            Some(actor),
        )? {
            short.push(FieldError::new(
                format!("adjustments[{}]", l.index),
                "would leave less stock on hand than is reserved, or more than 1,000,000,000",
            ));
        }
    }
    if !short.is_empty() {
        short.sort_by(|a, b| a.field.cmp(&b.field));
        return Err(ApiError::ConflictWith {
            detail: "An adjustment would make available stock negative; nothing was applied."
                .into(),
            errors: short,
        });
    }
    let recorded: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            serde_json::json!({"sku_id": l.sku_id, "warehouse_id": l.warehouse_id, "delta": l.delta,
                               "kind": l.kind.as_str(), "reason": l.reason})
        })
        .collect();
    audit::record(
        conn,
        Some(actor),
        "stock.adjusted",
        "cooperative",
        coop_id,
        serde_json::json!({ "adjustments": recorded }),
    )?;
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::new();
    for l in lines {
        if seen.insert((l.sku_id, l.warehouse_id)) {
            let row = repo::find(conn, l.sku_id, l.warehouse_id)?.ok_or(ApiError::NotFound)?;
            items.push(StockView::from(row));
        }
    }
    Stored::new(
        StatusCode::OK,
        Paginated {
            items,
            next_cursor: None,
        },
    )
}

#[utoipa::path(get, path = "/api/v1/skus/{sku_id}/stock/movements", tag = "inventory", params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Paginated<MovementView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn movements(
    pool: web::Data<DbPool>,
    user: AuthUser,
    sku: web::Path<SkuId>,
    q: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let sku = sku.into_inner();
    let page = Page::try_from(q.into_inner())?;
    let rows = blocking::run(&pool, move |conn| {
        let coop = repo::sku_cooperative(conn, sku)?.ok_or(ApiError::NotFound)?;
        require_cooperative_member(conn, &user, coop, false)?;
        repo::movements(conn, sku, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.map(MovementView::from)))
}
