//! Claim queries and the conditional status update every claim change goes through.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{ClaimKind, ClaimOrigin, ClaimReason, ClaimStatus};
use crate::catalogue::TextList;
use crate::db::schema::{claim_items, claims};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::http::pagination::{time_key, Page, Paginated};
use crate::ids::{ClaimId, CooperativeId, OrderId, OrderItemId, ShipmentId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = claims)]
pub struct ClaimRow {
    pub id: ClaimId,
    pub order_id: OrderId,
    pub cooperative_id: CooperativeId,
    pub opened_by: Option<UserId>,
    pub kind: ClaimKind,
    pub reason: ClaimReason,
    pub origin: ClaimOrigin,
    pub status: ClaimStatus,
    pub requested_amount: i64,
    pub approved_amount: Option<i64>,
    pub evidence: TextList,
    /// JSON list of the readings that opened a cold-chain claim.
    pub readings: String,
    pub note: Option<String>,
    pub rejection_reason: Option<String>,
    pub shipment_id: Option<ShipmentId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
}

pub struct NewClaim<'a> {
    pub id: ClaimId,
    pub order_id: OrderId,
    pub cooperative_id: CooperativeId,
    pub opened_by: Option<UserId>,
    pub kind: ClaimKind,
    pub reason: ClaimReason,
    pub origin: ClaimOrigin,
    pub requested_amount: i64,
    pub evidence: &'a [String],
    pub readings: String,
    pub note: Option<&'a str>,
    pub shipment_id: Option<ShipmentId>,
    /// (item, quantity, amount)
    pub items: &'a [(OrderItemId, i64, i64)],
}

/// Writes a claim and its items; a second cold-chain claim for one parcel is a conflict.
pub fn insert(conn: &mut DbConn, c: &NewClaim<'_>) -> Result<(), ApiError> {
    let now = db::now();
    diesel::insert_into(claims::table)
        .values((
            claims::id.eq(c.id),
            claims::order_id.eq(c.order_id),
            claims::cooperative_id.eq(c.cooperative_id),
            claims::opened_by.eq(c.opened_by),
            claims::kind.eq(c.kind),
            claims::reason.eq(c.reason),
            claims::origin.eq(c.origin),
            claims::status.eq(ClaimStatus::Open),
            claims::requested_amount.eq(c.requested_amount),
            claims::evidence.eq(TextList(c.evidence.to_vec())),
            claims::readings.eq(&c.readings),
            claims::note.eq(c.note),
            claims::shipment_id.eq(c.shipment_id),
            claims::created_at.eq(now),
            claims::updated_at.eq(now),
        ))
        .execute(conn)?;
    let rows: Vec<_> = c
        .items
        .iter()
        .map(|(item, q, amount)| {
            (
                claim_items::claim_id.eq(c.id),
                claim_items::order_item_id.eq(*item),
                claim_items::quantity.eq(*q),
                claim_items::amount.eq(*amount),
            )
        })
        .collect();
    crate::insert_rows!(conn, claim_items::table, rows)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: ClaimId) -> Result<Option<ClaimRow>, ApiError> {
    Ok(claims::table
        .find(id)
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()?)
}

/// (claim, item, quantity, amount) of these claims.
pub fn items_of(
    conn: &mut DbConn,
    ids: &[ClaimId],
) -> Result<Vec<(ClaimId, OrderItemId, i64, i64)>, ApiError> {
    Ok(claim_items::table
        .filter(claim_items::claim_id.eq_any(ids))
        .select((
            claim_items::claim_id,
            claim_items::order_item_id,
            claim_items::quantity,
            claim_items::amount,
        ))
        .order((
            claim_items::claim_id.asc(),
            claim_items::order_item_id.asc(),
        ))
        .load(conn)?)
}

/// An order's claims (only these co-ops' when given), oldest first.
pub fn of_order(
    conn: &mut DbConn,
    order: OrderId,
    only: Option<&[CooperativeId]>,
) -> Result<Vec<ClaimRow>, ApiError> {
    let mut q = claims::table
        .filter(claims::order_id.eq(order))
        .select(ClaimRow::as_select())
        .order((claims::created_at.asc(), claims::id.asc()))
        .into_boxed();
    if let Some(coops) = only {
        q = q.filter(claims::cooperative_id.eq_any(coops.to_vec()));
    }
    Ok(q.load(conn)?)
}

/// A co-op's claims, newest first: its after-sales to-do list with `status=open`.
pub fn of_cooperative(
    conn: &mut DbConn,
    coop: CooperativeId,
    status: Option<ClaimStatus>,
    page: &Page,
) -> Result<Paginated<ClaimRow>, ApiError> {
    let mut q = claims::table
        .filter(claims::cooperative_id.eq(coop))
        .select(ClaimRow::as_select())
        .order((claims::created_at.desc(), claims::id.desc()))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(claims::status.eq(s));
    }
    if let Some((t, id)) = page.after_time()? {
        q = q.filter(
            claims::created_at
                .lt(t)
                .or(claims::created_at.eq(t).and(claims::id.lt(id))),
        );
    }
    let rows = crate::db::prepared::load_limited(conn, q, page.fetch_limit(), false)?;
    Ok(page.finish(rows, |r| time_key(r.created_at, r.id)))
}

/// What a decision writes besides the status.
pub struct Decision<'a> {
    pub approved_amount: Option<i64>,
    pub rejection_reason: Option<&'a str>,
    pub resolved: bool,
}

/// Moves a claim from `from` to `to` if it is still `from`; false when another request moved
/// it first.
pub fn set_status(
    conn: &mut DbConn,
    id: ClaimId,
    from: ClaimStatus,
    to: ClaimStatus,
    d: &Decision<'_>,
) -> Result<bool, ApiError> {
    let now = db::now();
    let target = claims::table
        .filter(claims::id.eq(id))
        .filter(claims::status.eq(from));
    let n = diesel::update(target)
        .set((
            claims::status.eq(to),
            claims::updated_at.eq(now),
            claims::resolved_at.eq(d.resolved.then_some(now)),
        ))
        .execute(conn)?;
    if n == 1 {
        if let Some(a) = d.approved_amount {
            diesel::update(claims::table.find(id))
                .set(claims::approved_amount.eq(Some(a)))
                .execute(conn)?;
        }
        if let Some(r) = d.rejection_reason {
            diesel::update(claims::table.find(id))
                .set(claims::rejection_reason.eq(Some(r)))
                .execute(conn)?;
        }
    }
    Ok(n == 1)
}
