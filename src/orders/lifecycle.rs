//! Order state changes shared by handlers and background work: confirm on payment, cancel
//! (releasing stock and recording refunds), time out unpaid orders, complete delivered ones.
//! Every change is conditional on the state it starts from, so several API instances sweeping
//! the same database never release stock twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{FulfilmentStatus, OrderStatus, PaymentStatus};
use super::repo;
use crate::db::schema::{payments, refunds};
use crate::db::{self, DbConn, DbPool};
use crate::http::error::ApiError;
use crate::inventory;

/// A paid (or on-terms) order is confirmed and its fulfilments join the co-ops' queues.
pub fn confirm_paid(conn: &mut DbConn, order_id: &str) -> Result<bool, ApiError> {
    if !repo::set_status(
        conn,
        order_id,
        OrderStatus::PendingPayment,
        OrderStatus::Confirmed,
    )? {
        return Ok(false);
    }
    repo::set_payment_status(conn, order_id, PaymentStatus::Paid)?;
    repo::set_fulfilments(
        conn,
        order_id,
        &[FulfilmentStatus::AwaitingPayment],
        FulfilmentStatus::AwaitingShipment,
    )?;
    Ok(true)
}

/// Records a refund of a succeeded payment (once per payment).
pub fn refund_payment(
    conn: &mut DbConn,
    order_id: &str,
    payment_id: &str,
    amount: i64,
    reason: &str,
) -> Result<(), ApiError> {
    let n = diesel::update(
        payments::table
            .filter(payments::id.eq(payment_id))
            .filter(payments::status.eq("succeeded")),
    )
    .set((
        payments::status.eq("refunded"),
        payments::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    if n == 1 {
        diesel::insert_into(refunds::table)
            .values((
                refunds::id.eq(db::new_id()),
                refunds::order_id.eq(order_id),
                refunds::payment_id.eq(payment_id),
                refunds::amount.eq(amount),
                refunds::reason.eq(reason),
                refunds::created_at.eq(db::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Cancels an order that has not shipped: releases every reservation, cancels the
/// fulfilments and refunds what was paid. `Ok(false)` when another request got there first.
pub fn cancel(conn: &mut DbConn, order_id: &str, reason: Option<&str>) -> Result<bool, ApiError> {
    let order = repo::find(conn, order_id)?.ok_or(ApiError::NotFound)?;
    let from = order.status();
    from.transition(OrderStatus::Cancelled)?;
    if !repo::set_status(conn, order_id, from, OrderStatus::Cancelled)? {
        return Ok(false);
    }
    if let Some(r) = reason {
        diesel::update(crate::db::schema::orders::table.find(order_id))
            .set(crate::db::schema::orders::cancel_reason.eq(Some(r)))
            .execute(conn)?;
    }
    let mut items = repo::items_of(conn, order_id)?;
    items.sort_by(|a, b| (&a.sku_id, &a.warehouse_id).cmp(&(&b.sku_id, &b.warehouse_id)));
    for item in items {
        let open = item.quantity - item.shipped_quantity;
        if open > 0 {
            inventory::release(conn, &item.sku_id, &item.warehouse_id, open)?;
        }
    }
    repo::set_fulfilments(
        conn,
        order_id,
        &[
            FulfilmentStatus::AwaitingPayment,
            FulfilmentStatus::AwaitingShipment,
        ],
        FulfilmentStatus::Cancelled,
    )?;
    match order.payment_status() {
        PaymentStatus::Paid => {
            let paid: Vec<(String, i64)> = payments::table
                .filter(payments::order_id.eq(order_id))
                .filter(payments::status.eq("succeeded"))
                .select((payments::id, payments::amount))
                .load(conn)?;
            for (pid, amount) in paid {
                refund_payment(
                    conn,
                    order_id,
                    &pid,
                    amount,
                    reason.unwrap_or("order cancelled"),
                )?;
            }
            repo::set_payment_status(conn, order_id, PaymentStatus::Refunded)?;
        }
        PaymentStatus::OnTerms => {
            if let Some(org) = &order.organization_id {
                crate::organizations::credit::release(conn, org, order.total)?;
            }
        }
        _ => {}
    }
    metrics::counter!("orders_cancelled_total").increment(1);
    Ok(true)
}

/// Cancels orders left unpaid past their deadline; returns how many.
pub fn cancel_overdue(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, ApiError> {
    let mut done = 0;
    for id in repo::overdue(conn, now, 100)? {
        let cancelled = db::write_tx(conn, |conn| {
            // re-checked inside the transaction: a payment may have landed meanwhile
            match repo::find(conn, &id)? {
                Some(o) if o.status() == OrderStatus::PendingPayment => {
                    cancel(conn, &id, Some("payment not received in time"))
                }
                _ => Ok(false),
            }
        })?;
        done += usize::from(cancelled);
    }
    Ok(done)
}

/// Completes delivered orders not confirmed within `days`; returns how many.
pub fn complete_delivered(
    conn: &mut DbConn,
    now: NaiveDateTime,
    days: u32,
) -> Result<usize, ApiError> {
    let before = now - chrono::Duration::days(i64::from(days));
    let mut done = 0;
    for id in repo::due_for_completion(conn, before, 100)? {
        let ok = db::write_tx(conn, |conn| {
            repo::set_status(conn, &id, OrderStatus::Delivered, OrderStatus::Completed)
        })?;
        done += usize::from(ok);
    }
    Ok(done)
}

/// The background sweep each instance runs; safe to run on several at once.
pub async fn sweep(pool: &DbPool, auto_complete_days: u32) -> Result<(usize, usize), ApiError> {
    db::run(pool, move |conn| {
        let now = db::now();
        let cancelled = cancel_overdue(conn, now)?;
        let completed = complete_delivered(conn, now, auto_complete_days)?;
        crate::http::idempotency::prune(conn, chrono::Duration::hours(48))?;
        Ok((cancelled, completed))
    })
    .await
}
