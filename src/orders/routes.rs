//! Placing orders: the request, the checkout preview and `POST /orders`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::allocation::{self, Shortage};
use super::cart;
use super::checkout::{self, LineInput, Plan};
use super::domain::{Address, AddressInput};
use super::repo::{self, NewOrder};
use super::views::{self, OrderView};
use crate::auth::AuthUser;
use crate::catalogue::Storage;
use crate::config::Config;
use crate::db::{self, DbConn, DbPool};
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{idempotency_key, ApiJson};
use crate::http::idempotency::{self, Stored};
use crate::http::validate::{optional_text, Fields};
use crate::ids::OrganizationId;
use crate::inventory;
use crate::money::Money;
use crate::organizations::{self, credit};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CreateOrder {
    /// The lines to order; the cart when left out.
    pub items: Option<Vec<LineInput>>,
    pub shipping_address: AddressInput,
    pub buyer_note: Option<String>,
    pub purchase_order_number: Option<String>,
    pub organization_id: Option<OrganizationId>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PreviewRequest {
    pub items: Option<Vec<LineInput>>,
    pub shipping_address: AddressInput,
    pub organization_id: Option<OrganizationId>,
}

/// A checked order request.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    pub items: Option<Vec<LineInput>>,
    pub address: Address,
    pub buyer_note: Option<String>,
    pub purchase_order_number: Option<String>,
    pub organization_id: Option<String>,
}

impl TryFrom<CreateOrder> for OrderRequest {
    type Error = ApiError;
    fn try_from(c: CreateOrder) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let address = Address::parse(&c.shipping_address, "shipping_address", &mut f);
        let note = f.check("buyer_note", optional_text(c.buyer_note.as_deref(), 500));
        let po = f.check(
            "purchase_order_number",
            optional_text(c.purchase_order_number.as_deref(), 64),
        );
        if let Some(items) = &c.items {
            if let Err(ApiError::Validation(errors)) = checkout::check_lines(items) {
                for e in errors {
                    f.push(e.field, e.message);
                }
            }
        }
        let value = (|| {
            Some(OrderRequest {
                items: c.items,
                address: address?,
                buyer_note: note?,
                purchase_order_number: po?,
                organization_id: c.organization_id.map(|o| o.db()),
            })
        })();
        f.finish(value)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewItem {
    pub sku_id: String,
    pub sku_code: String,
    pub product_name: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    pub cooperative_id: String,
    pub warehouse_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewFulfilment {
    pub cooperative_id: String,
    pub warehouse_id: String,
    pub storage: Storage,
    pub shipping_fee: Money,
    pub items: Vec<PreviewItem>,
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
        let item = |i: &checkout::PlannedItem, coop: &str| PreviewItem {
            sku_id: i.sku.id.clone(),
            sku_code: i.sku.code.clone(),
            product_name: i.sku.product_name.clone(),
            quantity: i.quantity,
            unit_price: i.unit_price,
            line_total: i.line_total,
            cooperative_id: coop.to_owned(),
            warehouse_id: i.warehouse_id.clone(),
        };
        let mut items: Vec<(usize, PreviewItem)> = p
            .fulfilments
            .iter()
            .flat_map(|f| {
                f.items
                    .iter()
                    .map(|i| (i.index, item(i, &f.cooperative_id)))
            })
            .collect();
        items.sort_by_key(|(i, _)| *i);
        PreviewView {
            items: items.into_iter().map(|(_, i)| i).collect(),
            fulfilments: p
                .fulfilments
                .iter()
                .map(|f| PreviewFulfilment {
                    cooperative_id: f.cooperative_id.clone(),
                    warehouse_id: f.warehouse_id.clone(),
                    storage: f.storage,
                    shipping_fee: f.shipping_fee,
                    items: f.items.iter().map(|i| item(i, &f.cooperative_id)).collect(),
                })
                .collect(),
            subtotal: p.subtotal,
            shipping_fee: p.shipping_fee,
            total: p.total,
            currency: "CNY",
        }
    }
}

/// The lines an order or preview is for: the request's, else the cart's.
fn lines_for(
    conn: &mut DbConn,
    user: &AuthUser,
    items: &Option<Vec<LineInput>>,
) -> ApiResult<(Vec<LineInput>, bool)> {
    match items {
        Some(items) => Ok((items.clone(), false)),
        None => Ok((cart::lines(conn, &user.id.db())?, true)),
    }
}

/// Places an order inside the caller's write transaction: plan, write the rows, then reserve
/// every allocation last (sorted) so stock rows are locked only for the end of the transaction.
pub fn place_order(
    conn: &mut DbConn,
    user: &AuthUser,
    req: &OrderRequest,
    config: &Config,
) -> ApiResult<OrderView> {
    let terms = organizations::terms_for_order(conn, user, req.organization_id.as_deref())?;
    let (lines, from_cart) = lines_for(conn, user, &req.items)?;
    let plan = checkout::plan(conn, &lines, terms.buyer, &req.address)?;
    if terms.net_30 {
        if let Some(org) = &terms.organization_id {
            if !credit::reserve(conn, org, plan.total.fen())? {
                return Err(ApiError::Conflict(
                    "this order would take the organization past its credit limit".into(),
                ));
            }
        }
    }
    let due = chrono::Duration::from_std(config.payment_timeout)
        .ok()
        .map(|d| db::now() + d);
    let inserted = repo::insert(
        conn,
        &NewOrder {
            buyer_id: &user.id.db(),
            organization_id: terms.organization_id.as_deref(),
            address: &req.address,
            buyer_note: req.buyer_note.as_deref(),
            purchase_order_number: req.purchase_order_number.as_deref(),
            on_terms: terms.net_30,
            payment_due_at: due,
        },
        &plan,
    )?;
    let mut short: HashMap<usize, Shortage> = HashMap::new();
    for (sku, wh, quantity, index) in plan.reservations() {
        if !inventory::reserve(conn, sku, wh, quantity)? {
            let line_qty = lines[index].quantity;
            let available = checkout::load_stock(conn, &[sku.to_owned()])?
                .get(sku)
                .map(|o| o.iter().map(|o| o.available.max(0)).sum())
                .unwrap_or(0);
            short.insert(
                index,
                Shortage {
                    sku_id: sku.to_owned(),
                    requested: line_qty,
                    available,
                    index,
                },
            );
        }
    }
    if !short.is_empty() {
        let mut list: Vec<Shortage> = short.into_values().collect();
        list.sort_by_key(|s| s.index);
        return Err(allocation::insufficient(list));
    }
    if from_cart {
        let ids: Vec<String> = lines.iter().map(|l| l.sku_id.db()).collect();
        cart::remove(conn, &user.id.db(), &ids)?;
    }
    views::new_order_view(inserted.order, inserted.items, inserted.fulfilments)
}

/// Runs a placement through the idempotency mechanism and answers 201.
pub async fn place(
    pool: &DbPool,
    config: web::Data<Config>,
    user: AuthUser,
    key: Option<String>,
    hash: String,
    request: OrderRequest,
) -> ApiResult<HttpResponse> {
    let stored = idempotency::execute(pool, user.id.db(), key, hash, move |conn| {
        let view = place_order(conn, &user, &request, &config)?;
        Stored::new(StatusCode::CREATED, view)
    })
    .await
    .inspect_err(|e| {
        if matches!(e, ApiError::InsufficientStock { .. }) {
            metrics::counter!("stock_conflicts_total").increment(1);
        }
    })?;
    metrics::counter!("orders_placed_total").increment(1);
    Ok(stored.into_response())
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
    place(&pool, config, user, key, hash, request).await
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
    let view = db::run(&pool, move |conn| {
        let terms =
            organizations::terms_for_order(conn, &user, request.organization_id.as_deref())?;
        let (lines, _) = lines_for(conn, &user, &request.items)?;
        checkout::plan(conn, &lines, terms.buyer, &request.address).map(PreviewView::from)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
