//! Product endpoints: co-op members create and edit; the public browses what is published.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::domain::{Pricing, ProductStatus, SalesChannel, Storage};
use super::product::{ProductDraft, ProductInput, ProductPatch};
use super::repo::{self, ProductDetail, ProductRow, SkuDetail};
use super::search::{self, Search, SearchParams};
use crate::audit;
use crate::auth::{AuthUser, MaybeUser};
use crate::cooperatives::can_see_cooperative;
use crate::cooperatives::repo as coops;
use crate::cooperatives::require_cooperative_member;
use crate::db::{self, replicas::ReadPool, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::extract::{etag, if_match, ApiJson};
use crate::http::pagination::Paginated;
use crate::ids::{CategoryId, CooperativeId, ProductId, SkuId};
use crate::inventory;
use crate::money::Money;

#[derive(Debug, Serialize, ToSchema)]
pub struct CooperativeRef {
    pub id: CooperativeId,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierView {
    pub min_quantity: i64,
    pub unit_price: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuView {
    pub id: SkuId,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub net_weight_grams: i64,
    pub price: Money,
    pub sales_channel: SalesChannel,
    pub min_order_quantity: Option<i64>,
    pub tiers: Vec<TierView>,
    /// Sellable units now, over all the co-op's warehouses.
    pub available: i64,
    pub low_stock_threshold: i64,
    /// Stock is held in dated lots and sold first-expired-first-out.
    pub lot_tracked: bool,
    /// `per_kg`: `price` and tier prices are per kilogram of a piece's nominal weight.
    pub pricing: Pricing,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: ProductId,
    pub cooperative_id: CooperativeId,
    pub cooperative: CooperativeRef,
    pub category_id: Option<CategoryId>,
    pub name: String,
    pub subtitle: Option<String>,
    pub description: Option<String>,
    pub origin: String,
    pub storage: Storage,
    pub shelf_life_days: Option<i32>,
    pub certifications: Vec<String>,
    pub images: Vec<String>,
    pub status: ProductStatus,
    pub version: i64,
    /// The lowest retail price (what price sorts and filters use).
    pub price: Money,
    pub skus: Vec<SkuView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummary {
    pub id: ProductId,
    pub cooperative_id: CooperativeId,
    pub cooperative: CooperativeRef,
    pub category_id: Option<CategoryId>,
    pub name: String,
    pub subtitle: Option<String>,
    pub origin: String,
    pub storage: Storage,
    pub certifications: Vec<String>,
    pub images: Vec<String>,
    pub status: ProductStatus,
    pub price: Money,
    pub created_at: DateTime<Utc>,
}

impl From<(ProductRow, String)> for ProductSummary {
    fn from((p, cooperative_name): (ProductRow, String)) -> Self {
        ProductSummary {
            certifications: p.certifications(),
            images: p.images(),
            status: p.status,
            storage: p.storage,
            price: Money::from_fen(p.sort_price),
            created_at: db::utc(p.created_at),
            cooperative: CooperativeRef {
                id: p.cooperative_id,
                name: cooperative_name,
            },
            id: p.id,
            cooperative_id: p.cooperative_id,
            category_id: p.category_id,
            name: p.name,
            subtitle: p.subtitle,
            origin: p.origin,
        }
    }
}

/// The product view: the catalogue's detail with inventory's sellable units per SKU (the
/// edge joins the two domains; the catalogue never reads stock).
fn product_view(conn: &mut DbConn, d: ProductDetail) -> ApiResult<ProductView> {
    let ids: Vec<SkuId> = d.skus.iter().map(|s| s.sku.id).collect();
    let available = inventory::repo::available_by_sku(conn, &ids)?;
    Ok(ProductView::new(d, &available))
}

impl ProductView {
    fn new(d: ProductDetail, available: &HashMap<SkuId, i64>) -> Self {
        let p = d.product;
        ProductView {
            certifications: p.certifications(),
            images: p.images(),
            status: p.status,
            storage: p.storage,
            price: Money::from_fen(p.sort_price),
            created_at: db::utc(p.created_at),
            updated_at: db::utc(p.updated_at),
            cooperative: CooperativeRef {
                id: p.cooperative_id,
                name: d.cooperative_name,
            },
            skus: d
                .skus
                .into_iter()
                .map(|SkuDetail { sku: s, tiers }| SkuView {
                    available: available.get(&s.id).copied().unwrap_or(0),
                    sales_channel: s.sales_channel,
                    id: s.id,
                    code: s.code,
                    name: s.name,
                    unit: s.unit,
                    net_weight_grams: s.net_weight_grams,
                    price: Money::from_fen(s.price),
                    min_order_quantity: s.min_order_quantity,
                    tiers: tiers
                        .into_iter()
                        .map(|(q, p)| TierView {
                            min_quantity: q,
                            unit_price: Money::from_fen(p),
                        })
                        .collect(),
                    low_stock_threshold: s.low_stock_threshold,
                    lot_tracked: s.lot_tracked,
                    pricing: s.pricing,
                    version: s.version,
                })
                .collect(),
            id: p.id,
            cooperative_id: p.cooperative_id,
            category_id: p.category_id,
            name: p.name,
            subtitle: p.subtitle,
            description: p.description,
            origin: p.origin,
            shelf_life_days: p.shelf_life_days,
            version: p.version,
        }
    }
}

fn with_etag(status: actix_web::http::StatusCode, view: ProductView) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(view.version))
        .json(view)
}

/// Loads a product the caller may edit: members of its co-op and admins. Others get 404
/// while it is not public (its existence must not leak) and 403 once it is.
fn editable_product(conn: &mut DbConn, user: &AuthUser, id: ProductId) -> ApiResult<ProductRow> {
    let product = repo::find_product(conn, id)?.ok_or(ApiError::NotFound)?;
    if !can_see_cooperative(conn, Some(user), product.cooperative_id)? {
        return Err(if repo::is_public(conn, &product)? {
            ApiError::forbidden("only the cooperative's members may change its products")
        } else {
            ApiError::NotFound
        });
    }
    Ok(product)
}

#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/products", tag = "catalogue", request_body = ProductInput,
    security(("bearer" = [])),
    responses((status = 201, body = ProductView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    body: ApiJson<ProductInput>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let draft = ProductDraft::try_from(body.0)?;
    let view = blocking::run(&pool, move |conn| {
        create_product(conn, &user, coop_id, &draft)
    })
    .await?;
    Ok(with_etag(actix_web::http::StatusCode::CREATED, view))
}

/// A new (unpublished) product of the caller's co-op.
pub fn create_product(
    conn: &mut DbConn,
    user: &AuthUser,
    coop_id: CooperativeId,
    draft: &ProductDraft,
) -> ApiResult<ProductView> {
    let detail = db::write_tx(conn, |conn| {
        coops::get(conn, coop_id)?;
        require_cooperative_member(conn, user, coop_id, false)?;
        let id = repo::insert_product(conn, coop_id, draft)?;
        let row = repo::find_product(conn, id)?.ok_or(ApiError::NotFound)?;
        repo::detail(conn, row)
    })?;
    product_view(conn, detail)
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalogue",
    responses((status = 200, body = ProductView), (status = 404, body = Problem)))]
pub async fn get(
    reads: web::Data<ReadPool>,
    user: MaybeUser,
    id: web::Path<ProductId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = blocking::read(&reads, move |conn| {
        public_product(conn, user.0.as_ref(), id)
    })
    .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, view))
}

/// A product as `viewer` may see it: published products of active co-ops for anyone, the
/// rest only for the co-op's members and admins (else 404).
pub fn public_product(
    conn: &mut DbConn,
    viewer: Option<&AuthUser>,
    id: ProductId,
) -> ApiResult<ProductView> {
    let product = repo::find_product(conn, id)?.ok_or(ApiError::NotFound)?;
    if !repo::is_public(conn, &product)?
        && !can_see_cooperative(conn, viewer, product.cooperative_id)?
    {
        return Err(ApiError::NotFound);
    }
    let detail = repo::detail(conn, product)?;
    product_view(conn, detail)
}

#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "catalogue", request_body = ProductPatch,
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "the ETag last seen")),
    responses((status = 200, body = ProductView), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ProductId>,
    body: ApiJson<ProductPatch>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let expected = if_match(&req)?;
    let patch = body.0;
    let view = blocking::run(&pool, move |conn| {
        patch_product(conn, &user, id, patch, expected)
    })
    .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, view))
}

/// Applies a patch to a product of the caller's co-op; `expected` is the version the caller
/// last saw (412 when it moved on).
pub fn patch_product(
    conn: &mut DbConn,
    user: &AuthUser,
    id: ProductId,
    patch: ProductPatch,
    expected: Option<i64>,
) -> ApiResult<ProductView> {
    let detail = db::write_tx(conn, |conn| {
        let product = editable_product(conn, user, id)?;
        let version = product.version;
        let current = repo::detail(conn, product)?;
        // a patch that is wrong on its own is told so, whichever version it names
        let draft = ProductDraft::try_from(patch.clone().apply(repo::as_input(&current)?))?;
        if expected.is_some_and(|v| v != version) {
            return Err(ApiError::PreconditionFailed);
        }
        lot_tracking_may_change(conn, &current, &draft)?;
        repo::update_product(conn, &current, version, &draft)?;
        let row = repo::find_product(conn, id)?.ok_or(ApiError::NotFound)?;
        repo::detail(conn, row)
    })?;
    product_view(conn, detail)
}

/// A SKU switches to or from lots only while it holds no stock (its stock would otherwise
/// be in neither form): 409 naming each SKU that still does.
fn lot_tracking_may_change(
    conn: &mut DbConn,
    current: &ProductDetail,
    draft: &ProductDraft,
) -> ApiResult<()> {
    let mut switching = Vec::new();
    for (i, s) in draft.skus.iter().enumerate() {
        if let Some(SkuDetail { sku, .. }) = current.skus.iter().find(|d| d.sku.code == s.code) {
            if sku.lot_tracked != s.lot_tracked {
                switching.push((i, sku.id));
            }
        }
    }
    if switching.is_empty() {
        return Ok(());
    }
    let ids: Vec<SkuId> = switching.iter().map(|(_, id)| *id).collect();
    let stocked = inventory::repo::holding_stock(conn, &ids)?;
    let errors: Vec<FieldError> = switching
        .iter()
        .filter(|(_, id)| stocked.contains(id))
        .map(|(i, _)| {
            FieldError::new(
                format!("skus[{i}].lot_tracked"),
                "this SKU has stock; lot tracking can change only while it has none",
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::ConflictWith {
            detail: "Lot tracking can change only while a SKU has no stock.".into(),
            errors,
        })
    }
}

async fn set_status(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: ProductId,
    to: ProductStatus,
) -> ApiResult<HttpResponse> {
    let expected = if_match(&req)?;
    let view = blocking::run(&pool, move |conn| {
        change_product_status(conn, &user, id, to, expected)
    })
    .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, view))
}

/// Publishes, unpublishes or archives a product of the caller's co-op (audited).
pub fn change_product_status(
    conn: &mut DbConn,
    user: &AuthUser,
    id: ProductId,
    to: ProductStatus,
    expected: Option<i64>,
) -> ApiResult<ProductView> {
    let detail = db::write_tx(conn, |conn| {
        let product = editable_product(conn, user, id)?;
        if expected.is_some_and(|v| v != product.version) {
            return Err(ApiError::PreconditionFailed);
        }
        if product.status != to {
            repo::change_status(conn, &product, to)?;
            audit::record(
                conn,
                Some(user.id),
                &format!("product.{}", to.as_str()),
                "product",
                id,
                serde_json::json!({"from": product.status.as_str()}),
            )?;
        }
        let row = repo::find_product(conn, id)?.ok_or(ApiError::NotFound)?;
        repo::detail(conn, row)
    })?;
    product_view(conn, detail)
}

#[utoipa::path(post, path = "/api/v1/products/{id}/publish", tag = "catalogue", security(("bearer" = [])),
    responses((status = 200, body = ProductView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn publish(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ProductId>,
) -> ApiResult<HttpResponse> {
    set_status(req, pool, user, id.into_inner(), ProductStatus::Published).await
}

#[utoipa::path(post, path = "/api/v1/products/{id}/unpublish", tag = "catalogue", security(("bearer" = [])),
    responses((status = 200, body = ProductView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn unpublish(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ProductId>,
) -> ApiResult<HttpResponse> {
    set_status(req, pool, user, id.into_inner(), ProductStatus::Unpublished).await
}

#[utoipa::path(post, path = "/api/v1/products/{id}/archive", tag = "catalogue", security(("bearer" = [])),
    responses((status = 200, body = ProductView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn archive(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ProductId>,
) -> ApiResult<HttpResponse> {
    set_status(req, pool, user, id.into_inner(), ProductStatus::Archived).await
}

#[utoipa::path(get, path = "/api/v1/products", tag = "catalogue", params(SearchParams),
    responses((status = 200, body = Paginated<ProductSummary>), (status = 422, body = Problem)))]
pub async fn list(
    reads: web::Data<ReadPool>,
    rare: web::Data<search::RareQueries>,
    q: web::Query<SearchParams>,
) -> ApiResult<HttpResponse> {
    let s = Search::try_from(q.into_inner())?;
    let page = blocking::read(&reads, move |conn| browse(conn, &s, &rare)).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One page of the public catalogue.
pub fn browse(
    conn: &mut DbConn,
    s: &Search,
    rare: &search::RareQueries,
) -> ApiResult<Paginated<ProductSummary>> {
    let in_stock: Option<fn() -> search::InStock> = s
        .in_stock
        .then_some(inventory::repo::product_in_stock::<search::ProductsWithCoops>);
    Ok(search::search(conn, s, in_stock, rare)?.map(ProductSummary::from))
}
