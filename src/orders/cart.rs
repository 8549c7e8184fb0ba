//! The shopper's cart: lines with today's retail price, checked out by `POST /orders`.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::lines::{LineInput, MAX_QUANTITY};
use crate::auth::AuthUser;
use crate::catalogue::for_sale;
use crate::catalogue::pricing::{unit_price_for, Buyer};
use crate::db::schema::cart_items;
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::ids::{SkuId, UserId};
use crate::inventory;
use crate::inventory::domain::StockOption;
use crate::inventory::lots::{self, domain::date_text};
use crate::money::Money;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetQuantity {
    #[schema(minimum = 1, maximum = 100_000)]
    pub quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartLine {
    pub sku_id: SkuId,
    pub sku_code: String,
    pub product_name: String,
    pub sku_name: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    /// Sellable units now.
    pub available: i64,
    /// False once the product is unpublished: such lines cannot be ordered.
    pub for_sale: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartView {
    pub items: Vec<CartLine>,
    pub subtotal: Money,
    pub currency: &'static str,
}

/// The cart's lines as order lines.
pub fn lines(conn: &mut DbConn, user_id: UserId) -> Result<Vec<LineInput>, ApiError> {
    let rows: Vec<(SkuId, i64)> = cart_items::table
        .filter(cart_items::user_id.eq(user_id))
        .order(cart_items::updated_at.asc())
        .select((cart_items::sku_id, cart_items::quantity))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(sku_id, quantity)| LineInput { sku_id, quantity })
        .collect())
}

/// Removes ordered SKUs from the cart.
pub fn remove(conn: &mut DbConn, user_id: UserId, sku_ids: &[SkuId]) -> Result<(), ApiError> {
    diesel::delete(
        cart_items::table
            .filter(cart_items::user_id.eq(user_id))
            .filter(cart_items::sku_id.eq_any(sku_ids)),
    )
    .execute(conn)?;
    Ok(())
}

/// The cart with today's prices and what is available of each line.
pub fn view(conn: &mut DbConn, user_id: UserId) -> Result<CartView, ApiError> {
    let lines = lines(conn, user_id)?;
    let ids: Vec<SkuId> = lines.iter().map(|l| l.sku_id).collect();
    let skus = for_sale::load(conn, &ids, false)?;
    let mut stock = inventory::repo::sellable_stock(conn, &ids)?;
    // a lot-tracked SKU's stock row also holds held and expired units: count its lots
    let tracked: Vec<SkuId> = skus
        .values()
        .filter(|s| s.lot_tracked)
        .map(|s| s.id)
        .collect();
    if !tracked.is_empty() {
        let today = date_text(lots::domain::today());
        for id in &tracked {
            stock.remove(id);
        }
        for (lot, cold) in lots::repo::sellable(conn, &tracked, &today)? {
            stock.entry(lot.sku_id).or_default().push(StockOption {
                warehouse_id: lot.warehouse_id,
                cold,
                available: lot.available,
            });
        }
    }
    let mut items = Vec::new();
    let mut subtotal = Money::ZERO;
    for l in lines {
        let Some(s) = skus.get(&l.sku_id) else {
            continue;
        };
        // what a shopper pays for one piece (a weighed piece at its nominal weight); a
        // wholesale-only SKU shows its list price, and ordering it says why it cannot be had
        let unit_price =
            unit_price_for(&s.priced, Buyer::Retail, l.quantity).unwrap_or_else(|_| {
                s.priced
                    .per_kg_grams
                    .and_then(|g| s.priced.price.for_grams(g))
                    .unwrap_or(s.priced.price)
            });
        let line_total = unit_price.checked_mul(l.quantity).unwrap_or(Money::ZERO);
        subtotal = subtotal.checked_add(line_total).unwrap_or(subtotal);
        let available = stock
            .get(&s.id)
            .map(|o| {
                o.iter()
                    .filter(|o| o.cold || !s.storage.needs_cold_chain())
                    .map(|o| o.available)
                    .sum()
            })
            .unwrap_or(0);
        items.push(CartLine {
            sku_id: s.id,
            sku_code: s.code.clone(),
            product_name: s.product_name.clone(),
            sku_name: s.name.clone(),
            quantity: l.quantity,
            unit_price,
            line_total,
            available,
            for_sale: s.for_sale,
        });
    }
    Ok(CartView {
        items,
        subtotal,
        currency: "CNY",
    })
}

#[utoipa::path(get, path = "/api/v1/cart", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 401, body = Problem)))]
pub async fn get(pool: web::Data<DbPool>, user: AuthUser) -> ApiResult<HttpResponse> {
    let v = blocking::run(&pool, move |conn| view(conn, user.id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[utoipa::path(put, path = "/api/v1/cart/items/{sku_id}", tag = "orders", request_body = SetQuantity,
    security(("bearer" = [])),
    responses((status = 200, body = CartView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    pool: web::Data<DbPool>,
    user: AuthUser,
    sku: web::Path<SkuId>,
    body: ApiJson<SetQuantity>,
) -> ApiResult<HttpResponse> {
    let quantity = body.0.quantity;
    let sku = sku.into_inner();
    let v = blocking::run(&pool, move |conn| {
        set_quantity(conn, user.id, sku, Change::To(quantity))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// How a cart line's quantity changes.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Exactly this many (the API's PUT, the cart page).
    To(i64),
    /// This many more than the line has (the product page's 加入购物车).
    Add(i64),
}

/// Sets a cart line (creating it): the SKU must be for sale and the result within
/// 1..=MAX_QUANTITY (else 422 naming `quantity`).
pub fn set_quantity(
    conn: &mut DbConn,
    user_id: UserId,
    sku: SkuId,
    change: Change,
) -> Result<CartView, ApiError> {
    let too_many = || ApiError::field("quantity", format!("must be between 1 and {MAX_QUANTITY}"));
    let asked = match change {
        Change::To(q) | Change::Add(q) => q,
    };
    if !(1..=MAX_QUANTITY).contains(&asked) {
        return Err(too_many());
    }
    db::write_tx(conn, |conn| {
        let for_sale = for_sale::load(conn, &[sku], false)?
            .get(&sku)
            .is_some_and(|s| s.for_sale);
        if !for_sale {
            return Err(ApiError::NotFound);
        }
        let quantity = match change {
            Change::To(q) => q,
            Change::Add(q) => {
                let had: Option<i64> = cart_items::table
                    .find((user_id, sku))
                    .select(cart_items::quantity)
                    .first(conn)
                    .optional()?;
                had.unwrap_or(0)
                    .checked_add(q)
                    .filter(|q| *q <= MAX_QUANTITY)
                    .ok_or_else(too_many)?
            }
        };
        diesel::delete(cart_items::table.find((user_id, sku))).execute(conn)?;
        diesel::insert_into(cart_items::table)
            .values((
                cart_items::user_id.eq(user_id),
                cart_items::sku_id.eq(sku),
                cart_items::quantity.eq(quantity),
                cart_items::updated_at.eq(db::now()),
            ))
            .execute(conn)?;
        view(conn, user_id)
    })
}

#[utoipa::path(delete, path = "/api/v1/cart/items/{sku_id}", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = CartView)))]
pub async fn delete(
    pool: web::Data<DbPool>,
    user: AuthUser,
    sku: web::Path<SkuId>,
) -> ApiResult<HttpResponse> {
    let sku = sku.into_inner();
    let v = blocking::run(&pool, move |conn| remove_line(conn, user.id, sku)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Takes a line out of the cart (nothing to take out is fine).
pub fn remove_line(conn: &mut DbConn, user_id: UserId, sku: SkuId) -> Result<CartView, ApiError> {
    db::write_tx(conn, |conn| {
        diesel::delete(cart_items::table.find((user_id, sku))).execute(conn)?;
        view(conn, user_id)
    })
}
