//! `POST /orders` and the checkout preview: HTTP in and out; placing is `place.rs`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::checkout;
use super::domain::AddressInput;
use super::lines::LineInput;
use super::place::{self, CreateOrder, OrderRequest};
use super::plan::{Plan, PlannedItem};
use super::views::OrderView;
use crate::auth::AuthUser;
use crate::catalogue::Storage;
use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{idempotency_key, ApiJson};
use crate::http::idempotency;
use crate::ids::{CooperativeId, OrganizationId, SkuId, WarehouseId};
use crate::money::Money;
use crate::organizations;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PreviewRequest {
    #[schema(min_items = 1, max_items = 200)]
    pub items: Option<Vec<LineInput>>,
    pub shipping_address: AddressInput,
    pub organization_id: Option<OrganizationId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewItem {
    pub sku_id: SkuId,
    pub sku_code: String,
    pub product_name: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    pub cooperative_id: CooperativeId,
    pub warehouse_id: WarehouseId,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewFulfilment {
    pub cooperative_id: CooperativeId,
    pub warehouse_id: WarehouseId,
    pub storage: Storage,
    pub shipping_fee: Money,
    pub items: Vec<PreviewItem>,
    /// The date the co-op's truck takes the goods (China time)
    pub ship_by: Option<chrono::NaiveDate>,
    /// `ship_by` plus the rate's transit days
    pub estimated_delivery: Option<chrono::NaiveDate>,
    /// Net weight of the goods, in grams
    pub weight_grams: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub items: Vec<PreviewItem>,
    pub fulfilments: Vec<PreviewFulfilment>,
    pub subtotal: Money,
    pub shipping_fee: Money,
    pub total: Money,
    pub currency: &'static str,
}

impl From<Plan> for PreviewView {
    fn from(p: Plan) -> Self {
        let item = |i: &PlannedItem, coop: CooperativeId| PreviewItem {
            sku_id: i.sku.id,
            sku_code: i.sku.code.clone(),
            product_name: i.sku.product_name.clone(),
            quantity: i.quantity,
            unit_price: i.unit_price,
            line_total: i.line_total,
            cooperative_id: coop,
            warehouse_id: i.warehouse_id,
        };
        let mut items: Vec<(usize, PreviewItem)> = p
            .fulfilments
            .iter()
            .flat_map(|f| f.items.iter().map(|i| (i.index, item(i, f.cooperative_id))))
            .collect();
        items.sort_by_key(|(i, _)| *i);
        PreviewView {
            items: items.into_iter().map(|(_, i)| i).collect(),
            fulfilments: p
                .fulfilments
                .iter()
                .map(|f| PreviewFulfilment {
                    cooperative_id: f.cooperative_id,
                    warehouse_id: f.warehouse_id,
                    storage: f.storage,
                    shipping_fee: f.shipping_fee,
                    items: f.items.iter().map(|i| item(i, f.cooperative_id)).collect(),
                    ship_by: f.slot.as_ref().map(|s| s.ship_by),
                    estimated_delivery: f.estimated_delivery(),
                    weight_grams: f.weight_grams,
                })
                .collect(),
            subtotal: p.subtotal,
            shipping_fee: p.shipping_fee,
            total: p.total,
            currency: "CNY",
        }
    }
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = CreateOrder,
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 201, body = OrderView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    user: AuthUser,
    body: ApiJson<CreateOrder>,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let hash = idempotency::fingerprint("POST", req.path(), &body.0);
    let request = OrderRequest::try_from(body.0)?;
    let stored = place::place(&pool, config.into_inner(), user, key, hash, request).await?;
    Ok(stored.into_response())
}

#[utoipa::path(post, path = "/api/v1/checkout/preview", tag = "orders", request_body = PreviewRequest,
    security(("bearer" = [])),
    responses((status = 200, body = PreviewView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn preview(
    pool: web::Data<DbPool>,
    user: AuthUser,
    body: ApiJson<PreviewRequest>,
) -> ApiResult<HttpResponse> {
    let p = body.0;
    let request = OrderRequest::try_from(CreateOrder {
        items: p.items,
        shipping_address: p.shipping_address,
        buyer_note: None,
        purchase_order_number: None,
        organization_id: p.organization_id,
    })?;
    let view = blocking::run(&pool, move |conn| preview_order(conn, &user, request)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// What an order would come to (prices, fees, delivery dates), without placing it.
pub fn preview_order(
    conn: &mut DbConn,
    user: &AuthUser,
    request: OrderRequest,
) -> ApiResult<PreviewView> {
    let terms = organizations::terms_for_order(conn, user, request.organization_id)?;
    let (lines, _) = place::lines_for(conn, user, &request.items)?;
    let mut plan = checkout::plan(
        conn,
        &lines,
        terms.buyer,
        terms.min_shelf_life_days,
        &request.address,
    )?;
    checkout::schedule(conn, &mut plan, checkout::Scheduling::Peek)?;
    Ok(PreviewView::from(plan))
}
