//! Order state changes shared by handlers and background work: confirm on payment, cancel
//! (releasing stock; payments refunds what was paid), time out unpaid orders, complete
//! delivered ones.
//! Every change is conditional on the state it starts from, so several API instances sweeping
//! the same database never release stock twice.

use chrono::NaiveDateTime;

use super::domain::{FulfilmentStatus, OrderStatus, PaymentStatus};
use super::repo::{self, OrderRow};
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::ApiError;
use crate::ids::OrderId;
use crate::inventory;

/// A paid (or on-terms) order is confirmed and its fulfilments join the co-ops' queues.
pub fn confirm_paid(conn: &mut DbConn, order_id: OrderId) -> Result<bool, ApiError> {
    if !repo::set_status(
        conn,
        order_id,
        OrderStatus::PendingPayment,
        OrderStatus::Confirmed,
    )? {
        return Ok(false);
    }
    // the order was awaiting payment, so it was unpaid
    repo::set_payment_status(conn, order_id, PaymentStatus::Unpaid, PaymentStatus::Paid)?;
    repo::set_fulfilments(
        conn,
        order_id,
        &[FulfilmentStatus::AwaitingPayment],
        FulfilmentStatus::AwaitingShipment,
    )?;
    Ok(true)
}

/// Cancels `order` (as the caller read it) if it has not shipped: releases every
/// reservation, cancels the fulfilments and gives back net-30 credit. Returns the order as it
/// was, for the caller to refund what was paid (payments does that); `None` when another
/// request or instance changed it since it was read.
pub fn cancel(
    conn: &mut DbConn,
    order: OrderRow,
    reason: Option<&str>,
) -> Result<Option<OrderRow>, ApiError> {
    let order_id = order.id;
    let from = order.status;
    from.transition(OrderStatus::Cancelled)?;
    if !repo::set_status(conn, order_id, from, OrderStatus::Cancelled)? {
        return Ok(None);
    }
    if let Some(r) = reason {
        repo::set_cancel_reason(conn, order_id, r)?;
    }
    let mut items = repo::items_of(conn, order_id)?;
    // the same lock order as placement, so a cancellation never deadlocks an order
    items.sort_by_key(|i| (i.sku_id, i.warehouse_id));
    for item in items {
        let open = item.quantity - item.shipped_quantity;
        if open > 0 {
            inventory::release(conn, item.sku_id, item.warehouse_id, open)?;
        }
    }
    // then the lots those units were held in (after the stock rows: the lock order)
    inventory::lots::release_order(conn, order_id)?;
    // the trucks get the weight back (nothing had shipped, or the cancel was refused)
    for f in repo::fulfilments_of(conn, order_id)? {
        if let (Some(day), Some(cutoff)) = (&f.ship_by, &f.departure_cutoff) {
            crate::delivery::departures::release(
                conn,
                f.cooperative_id,
                day,
                cutoff,
                f.weight_grams,
            )?;
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
    if order.payment_status == PaymentStatus::OnTerms {
        if let Some(org) = order.organization_id {
            crate::organizations::credit::release(conn, org, order.total)?;
        }
    }
    metrics::counter!("orders_cancelled_total").increment(1);
    Ok(Some(order))
}

/// Cancels orders left unpaid past their deadline; returns how many.
pub fn cancel_overdue(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, ApiError> {
    let mut done = 0;
    for id in repo::overdue(conn, now, 100)? {
        let cancelled = db::write_tx(conn, |conn| {
            // re-checked inside the transaction: a payment may have landed meanwhile
            match repo::find(conn, id)? {
                // an unpaid order took no money, so there is nothing to refund; one that
                // another instance (or its buyer) cancels meanwhile is skipped
                Some(o) if o.status == OrderStatus::PendingPayment => Ok::<_, ApiError>(
                    cancel(conn, o, Some("payment not received in time"))?.is_some(),
                ),
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
            repo::set_status(conn, id, OrderStatus::Delivered, OrderStatus::Completed)
        })?;
        done += usize::from(ok);
    }
    Ok(done)
}

/// The background sweep each instance runs; safe to run on several at once.
pub async fn sweep(pool: &DbPool, auto_complete_days: u32) -> Result<(usize, usize), ApiError> {
    blocking::run(pool, move |conn| {
        let now = db::now();
        let cancelled = cancel_overdue(conn, now)?;
        let completed = complete_delivered(conn, now, auto_complete_days)?;
        crate::http::idempotency::prune(conn, chrono::Duration::hours(48))?;
        crate::auth::limiter::prune(conn, &crate::auth::limiter::Limits::default())?;
        Ok((cancelled, completed))
    })
    .await
}
