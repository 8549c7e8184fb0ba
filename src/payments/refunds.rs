//! Refunds: money going back on a payment that took it, recorded once per payment in the same
//! transaction as the change that causes it (a cancellation, a late payment).

use diesel::prelude::*;

use super::domain::PaymentState;
use super::repo::{self, PaymentRow};
use crate::db::schema::refunds;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use chrono::NaiveDateTime;

use crate::ids::{ClaimId, CooperativeId, OrderId, PaymentId, RefundId};
use crate::money::Money;
use crate::orders::domain::RefundKind;
use crate::orders::repo::{self as orders, OrderRow};
use crate::orders::views::RefundView;
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
    // the order's goods are refunded once; a second payment for the same order (both went
    // through) goes back as a payment reversal without counting against the goods again
    orders::add_refunded(conn, payment.order_id, payment.amount)?;
    insert(
        conn,
        &NewRefund {
            order_id: payment.order_id,
            payment_id: Some(payment.id),
            kind: RefundKind::Cancellation,
            amount: payment.amount,
            reason,
            cooperative_id: None,
            claim_id: None,
        },
    )?;
    Ok(())
}

/// One row of the refunds ledger.
pub struct NewRefund<'a> {
    pub order_id: OrderId,
    /// The payment the money goes back on; none on payment terms.
    pub payment_id: Option<PaymentId>,
    pub kind: RefundKind,
    pub amount: i64,
    pub reason: &'a str,
    /// Whose goods it refunds.
    pub cooperative_id: Option<CooperativeId>,
    /// The claim it settles.
    pub claim_id: Option<ClaimId>,
}

fn insert(conn: &mut DbConn, r: &NewRefund<'_>) -> Result<RefundId, ApiError> {
    let id = RefundId::generate();
    diesel::insert_into(refunds::table)
        .values((
            refunds::id.eq(id),
            refunds::order_id.eq(r.order_id),
            refunds::payment_id.eq(r.payment_id),
            refunds::kind.eq(r.kind),
            refunds::amount.eq(r.amount),
            refunds::reason.eq(r.reason),
            refunds::cooperative_id.eq(r.cooperative_id),
            refunds::claim_id.eq(r.claim_id),
            refunds::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Refunds part of an order's goods (a lighter parcel, an approved claim): the order's
/// `refunded_total` rises only if it stays within what the order came to — one conditional
/// UPDATE, so two racing refunds cannot both pass it — then the ledger row, on the order's
/// payment when it was paid. On payment terms nothing was paid: what is owed drops, and the
/// organization's used credit with it. 409 when the refund would pass the order's total.
pub fn refund_goods(
    conn: &mut DbConn,
    order: &OrderRow,
    kind: RefundKind,
    amount: i64,
    cooperative_id: CooperativeId,
    claim_id: Option<ClaimId>,
    reason: &str,
) -> Result<Option<RefundId>, ApiError> {
    if amount <= 0 {
        return Ok(None);
    }
    if !orders::add_refunded(conn, order.id, amount)? {
        return Err(ApiError::Conflict(
            "this refund would give back more than the order came to".into(),
        ));
    }
    // read again now that this transaction holds the order's row: a racing mark-paid has
    // either finished (the refund goes back on the payment) or waits
    let order = orders::find(conn, order.id)?.ok_or(ApiError::NotFound)?;
    let payment_id = match order.payment_status {
        PaymentStatus::OnTerms => {
            if let Some(org) = order.organization_id {
                crate::organizations::credit::release(conn, org, amount)?;
            }
            None
        }
        _ => repo::succeeded_of(conn, order.id)?.first().map(|p| p.id),
    };
    insert(
        conn,
        &NewRefund {
            order_id: order.id,
            payment_id,
            kind,
            amount,
            reason,
            cooperative_id: Some(cooperative_id),
            claim_id,
        },
    )
    .map(Some)
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

/// Refunds of these orders, oldest first, as order views show them.
pub fn views_of(conn: &mut DbConn, orders: &[OrderId]) -> Result<Vec<RefundView>, ApiError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        RefundId,
        OrderId,
        RefundKind,
        i64,
        String,
        Option<CooperativeId>,
        NaiveDateTime,
    )> = refunds::table
        .filter(refunds::order_id.eq_any(orders))
        .order((refunds::created_at.asc(), refunds::id.asc()))
        .select((
            refunds::id,
            refunds::order_id,
            refunds::kind,
            refunds::amount,
            refunds::reason,
            refunds::cooperative_id,
            refunds::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, order_id, kind, amount, reason, cooperative_id, at)| RefundView {
                id,
                order_id,
                kind,
                amount: Money::from_fen(amount),
                reason,
                cooperative_id,
                created_at: db::utc(at),
            },
        )
        .collect())
}
