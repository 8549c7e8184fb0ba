//! Refunds: money going back on a payment that took it, recorded once per payment in the same
//! transaction as the change that causes it (a cancellation, a late payment).

use diesel::prelude::*;

use super::domain::PaymentState;
use super::repo::{self, PaymentRow};
use crate::db::schema::refunds;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{OrderId, RefundId};
use crate::orders::repo::{self as orders, OrderRow};
use crate::orders::PaymentStatus;

/// Refunds one succeeded payment in full; a payment already refunded (by a racing request)
/// is left alone, so a refund is never recorded twice.
pub fn refund_payment(
    conn: &mut DbConn,
    payment: &PaymentRow,
    reason: &str,
) -> Result<(), ApiError> {
    if !repo::change_status(
        conn,
        payment.id,
        PaymentState::Succeeded,
        PaymentState::Refunded,
        None,
    )? {
        return Ok(());
    }
    diesel::insert_into(refunds::table)
        .values((
            refunds::id.eq(RefundId::generate()),
            refunds::order_id.eq(payment.order_id),
            refunds::payment_id.eq(payment.id),
            refunds::amount.eq(payment.amount),
            refunds::reason.eq(reason),
            refunds::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives back everything a cancelled order took: each succeeded payment is refunded and the
/// order's payment status says so. An order that took nothing is left as it is.
pub fn refund_cancelled_order(
    conn: &mut DbConn,
    order: &OrderRow,
    reason: &str,
) -> Result<(), ApiError> {
    if order.payment_status != PaymentStatus::Paid {
        return Ok(());
    }
    for payment in repo::succeeded_of(conn, order.id)? {
        refund_payment(conn, &payment, reason)?;
    }
    orders::set_payment_status(conn, order.id, PaymentStatus::Paid, PaymentStatus::Refunded)?;
    Ok(())
}

/// Refunds a payment that arrived for an order no longer waiting for it.
pub fn refund_late_payment(
    conn: &mut DbConn,
    order_id: OrderId,
    payment: &PaymentRow,
) -> Result<(), ApiError> {
    let order = orders::find(conn, order_id)?.ok_or(ApiError::NotFound)?;
    refund_payment(
        conn,
        payment,
        "payment arrived for an order no longer awaiting it",
    )?;
    if order.status == crate::orders::OrderStatus::Cancelled
        && order.payment_status != PaymentStatus::Refunded
    {
        orders::set_payment_status(
            conn,
            order_id,
            order.payment_status,
            PaymentStatus::Refunded,
        )?;
    }
    Ok(())
}
