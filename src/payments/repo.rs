//! Queries for payments: every status write is conditional on the status it starts from, so
//! racing webhooks and cancellations leave one winner.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::PaymentState;
use crate::db::schema::payments;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{OrderId, PaymentId};

/// The one payment provider wired up today.
pub const PROVIDER: &str = "sandbox";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub provider: String,
    pub amount: i64,
    pub status: PaymentState,
    pub created_at: NaiveDateTime,
}

/// Records a new pending payment of `amount` fen for an order.
pub fn insert(conn: &mut DbConn, order_id: OrderId, amount: i64) -> Result<PaymentRow, ApiError> {
    let now = db::now();
    let row = PaymentRow {
        id: PaymentId::generate(),
        order_id,
        provider: PROVIDER.into(),
        amount,
        status: PaymentState::Pending,
        created_at: now,
    };
    diesel::insert_into(payments::table)
        .values((
            payments::id.eq(row.id),
            payments::order_id.eq(row.order_id),
            payments::provider.eq(&row.provider),
            payments::amount.eq(row.amount),
            payments::status.eq(row.status),
            payments::created_at.eq(now),
            payments::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(row)
}

pub fn find(conn: &mut DbConn, id: PaymentId) -> Result<Option<PaymentRow>, ApiError> {
    Ok(payments::table
        .find(id)
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()?)
}

/// The payments of an order that took money and have not been refunded.
pub fn succeeded_of(conn: &mut DbConn, order_id: OrderId) -> Result<Vec<PaymentRow>, ApiError> {
    Ok(payments::table
        .filter(payments::order_id.eq(order_id))
        .filter(payments::status.eq(PaymentState::Succeeded))
        .select(PaymentRow::as_select())
        .load(conn)?)
}

/// Moves a payment from `from` to `to` (checked by the transition rule) only while it is
/// still `from`; false when another request changed it first. `reference` is kept when given.
pub fn change_status(
    conn: &mut DbConn,
    id: PaymentId,
    from: PaymentState,
    to: PaymentState,
    reference: Option<&str>,
) -> Result<bool, ApiError> {
    from.transition(to)?;
    let target = payments::table
        .filter(payments::id.eq(id))
        .filter(payments::status.eq(from));
    let now = db::now();
    let n = match reference {
        Some(r) => diesel::update(target)
            .set((
                payments::status.eq(to),
                payments::provider_reference.eq(r),
                payments::updated_at.eq(now),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((payments::status.eq(to), payments::updated_at.eq(now)))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// The newest payment of an order still waiting for the provider, if any.
pub fn pending_of(conn: &mut DbConn, order_id: OrderId) -> Result<Option<PaymentRow>, ApiError> {
    Ok(payments::table
        .filter(payments::order_id.eq(order_id))
        .filter(payments::status.eq(PaymentState::Pending))
        .order(payments::created_at.desc())
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()?)
}
