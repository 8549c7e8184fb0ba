//! The sandbox provider's own payment page: a shopper who confirms there is paid exactly as
//! the provider's signed webhook would record it (the same `webhook::apply`). Only served
//! while `SHANHE_PAYMENT_SANDBOX` is on.

use super::domain::PaymentState;
use super::repo::{self, PaymentRow};
use super::webhook::{self, Notification, Outcome};
use crate::auth::AuthUser;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, ApiResult};
use crate::ids::PaymentId;
use crate::money::Money;
use crate::orders::repo as orders;
use crate::orders::repo::OrderRow;
use crate::orders::views::{self, Scope};

/// A payment and its order, when `user` is the one paying (404 for anyone else: a co-op
/// member who can see part of the order does not pay for it).
pub fn payment_of(
    conn: &mut DbConn,
    user: &AuthUser,
    id: PaymentId,
) -> ApiResult<(PaymentRow, OrderRow)> {
    let payment = repo::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let order = orders::find(conn, payment.order_id)?.ok_or(ApiError::NotFound)?;
    match views::scope_for(conn, user, &order)? {
        Scope::Whole => Ok((payment, order)),
        Scope::Cooperatives(_) => Err(ApiError::NotFound),
    }
}

/// Confirms a pending sandbox payment as the provider's webhook would; a second confirm is
/// a no-op. Returns what the webhook would have answered.
pub fn confirm(conn: &mut DbConn, user: &AuthUser, id: PaymentId) -> ApiResult<&'static str> {
    db::write_tx(conn, |conn| {
        let (payment, _) = payment_of(conn, user, id)?;
        if payment.status == PaymentState::Refunded {
            return Ok("already recorded");
        }
        let notification = Notification {
            payment_id: payment.id,
            status: Outcome::Succeeded,
            provider_reference: Some(format!("sandbox-{}", payment.id)),
            amount: Money::from_fen(payment.amount),
        };
        webhook::apply(conn, &notification)
    })
}

/// The payment a shopper's 去支付 leads to: the order's pending one, else a new one (so
/// pressing it twice does not open two).
pub fn pay(
    conn: &mut DbConn,
    user: &AuthUser,
    order_id: crate::ids::OrderId,
) -> ApiResult<PaymentId> {
    db::write_tx(conn, |conn| {
        if let Some(p) = repo::pending_of(conn, order_id)? {
            let (_, order) = payment_of(conn, user, p.id)?;
            if order.status == crate::orders::OrderStatus::PendingPayment {
                return Ok(p.id);
            }
        }
        Ok(super::routes::create_payment(conn, user, order_id)?.id)
    })
}
