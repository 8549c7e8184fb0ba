//! What happens to a placed order: confirm receipt, mark an on-terms order paid (cancelling,
//! which refunds, is payments' `cancel.rs`).

use actix_web::{web, HttpResponse};

use super::domain::{OrderStatus, PaymentStatus};
use super::repo;
use super::views::{self, OrderView, Parcels, Scope};
use crate::auth::{AdminUser, AuthUser};
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::ids::OrderId;
use crate::organizations::credit;

/// Loads an order the caller may act on as its buyer (or the buyer's organization, or an
/// admin); co-ops and strangers get 404.
pub fn own_order(conn: &mut DbConn, user: &AuthUser, id: OrderId) -> ApiResult<repo::OrderRow> {
    let order = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    match views::scope_for(conn, user, &order)? {
        Scope::Whole => Ok(order),
        Scope::Cooperatives(_) => Err(ApiError::forbidden("only the buyer may do this")),
    }
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/confirm-receipt", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn confirm_receipt(
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let parcels = **parcels;
    let id = id.into_inner();
    let view = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let order = own_order(conn, &user, id)?;
            if !repo::set_status(conn, id, order.status, OrderStatus::Completed)? {
                return Err(ApiError::InvalidState(
                    "the order changed meanwhile; reload it".into(),
                ));
            }
            let row = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
            views::order_view(conn, parcels, row, &Scope::Whole)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/mark-paid", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn mark_paid(
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    _admin: AdminUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let parcels = **parcels;
    let id = id.into_inner();
    let view = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let order = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
            if order.payment_status != PaymentStatus::OnTerms
                || order.status == OrderStatus::Cancelled
            {
                return Err(ApiError::InvalidState(
                    "only open on-terms orders are marked paid".into(),
                ));
            }
            // conditional: of two racing mark-paids one wins, so credit is given back once
            if !repo::set_payment_status(conn, id, PaymentStatus::OnTerms, PaymentStatus::Paid)? {
                return Err(ApiError::InvalidState(
                    "the order's payment changed meanwhile; reload it".into(),
                ));
            }
            // read after the update, which holds the row: what is owed is the total less what
            // weight adjustments and claims gave back (their credit went back with them)
            let row = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
            if let Some(org) = order.organization_id {
                credit::release(conn, org, row.total - row.refunded_total)?;
            }
            views::order_view(conn, parcels, row, &Scope::Whole)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
