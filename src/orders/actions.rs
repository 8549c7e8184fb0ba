//! What happens to a placed order: cancel, confirm receipt, mark an on-terms order paid.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::domain::{OrderStatus, PaymentStatus};
use super::lifecycle;
use super::repo;
use super::views::{self, OrderView, Scope};
use crate::audit;
use crate::auth::{AdminUser, AuthUser};
use crate::db::{self, DbConn, DbPool};
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::OptionalJson;
use crate::http::validate::optional_text;
use crate::ids::OrderId;
use crate::organizations::credit;

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CancelRequest {
    pub reason: Option<String>,
}

/// Loads an order the caller may act on as its buyer (or the buyer's organization, or an
/// admin); co-ops and strangers get 404.
fn own_order(conn: &mut DbConn, user: &AuthUser, id: &str) -> ApiResult<repo::OrderRow> {
    let order = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    match views::scope_for(conn, user, &order)? {
        Scope::Whole => Ok(order),
        Scope::Cooperatives(_) => Err(ApiError::forbidden("only the buyer may do this")),
    }
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", request_body = CancelRequest,
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn cancel(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: OptionalJson<CancelRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner().db();
    let reason =
        optional_text(body.0.reason.as_deref(), 500).map_err(|m| ApiError::field("reason", m))?;
    let view = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let order = own_order(conn, &user, &id)?;
            let by_staff = user.is_admin() && order.buyer_id != user.id.db();
            let why = reason.as_deref().unwrap_or(if by_staff {
                "cancelled by the platform"
            } else {
                "cancelled by the buyer"
            });
            if !lifecycle::cancel(conn, &id, Some(why))? {
                return Err(ApiError::InvalidState(
                    "the order changed meanwhile; reload it".into(),
                ));
            }
            if by_staff {
                audit::record(
                    conn,
                    Some(&user.id.db()),
                    "order.cancelled_by_staff",
                    "order",
                    &id,
                    serde_json::json!({"number": order.number, "reason": why}),
                )?;
            }
            let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            views::order_view(conn, row, &Scope::Whole)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/confirm-receipt", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn confirm_receipt(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner().db();
    let view = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let order = own_order(conn, &user, &id)?;
            if !repo::set_status(conn, &id, order.status(), OrderStatus::Completed)? {
                return Err(ApiError::InvalidState(
                    "the order changed meanwhile; reload it".into(),
                ));
            }
            let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            views::order_view(conn, row, &Scope::Whole)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/mark-paid", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn mark_paid(
    pool: web::Data<DbPool>,
    _admin: AdminUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner().db();
    let view = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let order = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            if order.payment_status() != PaymentStatus::OnTerms
                || order.status() == OrderStatus::Cancelled
            {
                return Err(ApiError::InvalidState(
                    "only open on-terms orders are marked paid".into(),
                ));
            }
            repo::set_payment_status(conn, &id, PaymentStatus::Paid)?;
            if let Some(org) = &order.organization_id {
                credit::release(conn, org, order.total)?;
            }
            let row = repo::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            views::order_view(conn, row, &Scope::Whole)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
