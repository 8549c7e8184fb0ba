//! Reading orders: a buyer's (or an organization's, or every) order list, and one order.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::domain::OrderStatus;
use super::repo::{self, Lister, OrderFilter};
use super::views::{self, OrderView, Parcels};
use crate::auth::AuthUser;
use crate::db::{DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::pagination::{Page, Paginated};
use crate::ids::{OrderId, OrganizationId};
use crate::organizations::organization_role;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only orders in this status (blank: any)
    #[param(schema_with = order_status_param)]
    pub status: Option<String>,
    pub organization_id: Option<OrganizationId>,
    pub purchase_order_number: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn order_status_param() -> utoipa::openapi::Object {
    crate::http::openapi::word_or_blank(OrderStatus::ALL.iter().map(|s| s.as_str()))
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Paginated<OrderView>), (status = 403, body = Problem)))]
pub async fn list(
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let parcels = **parcels;
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            OrderStatus::parse(s)
                .ok_or_else(|| ApiError::field("status", "is not an order status"))?,
        ),
    };
    let filter = OrderFilter {
        status,
        purchase_order_number: q.purchase_order_number.filter(|s| !s.trim().is_empty()),
    };
    let org = q.organization_id;
    let page = blocking::run(&pool, move |conn| {
        list_orders(conn, parcels, &user, org, &filter, &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The orders `user` may list: their own, an organization's they belong to, or (admins) all.
pub fn list_orders(
    conn: &mut DbConn,
    parcels: Parcels,
    user: &AuthUser,
    org: Option<OrganizationId>,
    filter: &OrderFilter,
    page: &Page,
) -> ApiResult<Paginated<OrderView>> {
    let who = match (org, user.is_admin()) {
        (Some(o), true) => Lister::Organization(o),
        (None, true) => Lister::Admin,
        (Some(o), false) => {
            if organization_role(conn, user, o)?.is_none() {
                return Err(ApiError::forbidden(
                    "you are not a member of this organization",
                ));
            }
            Lister::Organization(o)
        }
        (None, false) => Lister::Buyer(user.id),
    };
    let rows = repo::list(conn, &who, filter, page)?;
    Ok(Paginated {
        items: views::order_views(conn, parcels, rows.items)?,
        next_cursor: rows.next_cursor,
    })
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = Problem)))]
pub async fn get(
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let parcels = **parcels;
    let id = id.into_inner();
    let view = blocking::run(&pool, move |conn| order_for(conn, parcels, &user, id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// One order as `user` may see it (404 when it is none of their business).
pub fn order_for(
    conn: &mut DbConn,
    parcels: Parcels,
    user: &AuthUser,
    id: OrderId,
) -> ApiResult<OrderView> {
    let order = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let scope = views::scope_for(conn, user, &order)?;
    views::order_view(conn, parcels, order, &scope)
}
