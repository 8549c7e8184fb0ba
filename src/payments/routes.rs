//! `POST /orders/{id}/payments`: a sandbox payment for an unpaid order.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::domain::PaymentState;
use super::repo;
use crate::auth::AuthUser;
use crate::db::{self, DbConn, DbPool};
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::idempotency_key;
use crate::http::idempotency::{self, Stored};
use crate::ids::{OrderId, PaymentId};
use crate::money::Money;
use crate::orders::repo as orders;
use crate::orders::views::{self, Scope};
use crate::orders::{OrderStatus, PaymentStatus};

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub provider: String,
    pub amount: Money,
    pub status: PaymentState,
    pub pay_url: String,
    pub created_at: DateTime<Utc>,
}

pub fn create_payment(
    conn: &mut DbConn,
    user: &AuthUser,
    order_id: OrderId,
) -> ApiResult<PaymentView> {
    let order = orders::find(conn, order_id)?.ok_or(ApiError::NotFound)?;
    match views::scope_for(conn, user, &order)? {
        Scope::Whole => {}
        Scope::Cooperatives(_) => {
            return Err(ApiError::forbidden("only the buyer pays for an order"))
        }
    }
    if order.status != OrderStatus::PendingPayment || order.payment_status != PaymentStatus::Unpaid
    {
        return Err(ApiError::InvalidState(format!(
            "the order is {} and {}; only unpaid orders awaiting payment take a payment",
            order.status, order.payment_status
        )));
    }
    let p = repo::insert(conn, order_id, order.total)?;
    Ok(PaymentView {
        pay_url: format!("https://sandbox.pay.shanhe.example/pay/{}", p.id),
        id: p.id,
        order_id: p.order_id,
        provider: p.provider,
        amount: Money::from_fen(p.amount),
        status: p.status,
        created_at: db::utc(p.created_at),
    })
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/payments", tag = "payments", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 201, body = PaymentView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let order_id = id.into_inner();
    let key = idempotency_key(&req)?;
    let hash = idempotency::fingerprint("POST", req.path(), &());
    let stored = idempotency::execute(&pool, user.id, key, hash, move |conn| {
        Stored::new(StatusCode::CREATED, create_payment(conn, &user, order_id)?)
    })
    .await?;
    Ok(stored.into_response())
}
