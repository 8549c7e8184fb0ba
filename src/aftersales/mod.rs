//! Owns `claims`, `claim_items`. After-sales (售后): claims opened by buyers, by the cold chain
//! when a parcel with an out-of-range reading is delivered, and by a business buyer's
//! receiving inspection; decided by the co-op (or, escalated, an admin); settled by a refund of
//! kind `claim` through payments. Units under claim are counted on their order item
//! (orders' `claim_units`), so racing claims never claim more than was shipped.

pub(crate) mod domain;
pub(crate) mod inspection;
pub(crate) mod repo;
pub(crate) mod routes;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use domain::{
    units_worth, ClaimAction, ClaimActor, ClaimKind, ClaimLine, ClaimOrigin, ClaimReason,
    ClaimStatus,
};
use repo::{ClaimRow, Decision, NewClaim};

use crate::audit;
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, FieldError};
use crate::ids::{ClaimId, CooperativeId, OrderId, OrderItemId, ShipmentId, UserId};
use crate::money::Money;
use crate::orders::domain::RefundKind;
use crate::orders::repo::{self as orders, OrderRow};

/// Claims may be opened this long after the goods arrived (or left, if never delivered).
pub const WINDOW_DAYS: i64 = 7;

/// A cold-chain reading outside its storage class's range.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Reading {
    pub shipment_id: ShipmentId,
    pub occurred_at: DateTime<Utc>,
    pub temperature_celsius: Option<f64>,
    pub location: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimItemView {
    pub order_item_id: OrderItemId,
    pub quantity: i64,
    /// What these units are worth at the line's final (weight-adjusted) price.
    pub amount: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimView {
    pub id: ClaimId,
    pub order_id: OrderId,
    pub cooperative_id: CooperativeId,
    pub kind: ClaimKind,
    pub reason: ClaimReason,
    pub origin: ClaimOrigin,
    pub status: ClaimStatus,
    pub items: Vec<ClaimItemView>,
    pub requested_amount: Money,
    pub approved_amount: Option<Money>,
    pub evidence: Vec<String>,
    pub readings: Vec<Reading>,
    pub note: Option<String>,
    pub rejection_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Views of these claims, items read in one statement.
pub fn views(conn: &mut DbConn, rows: Vec<ClaimRow>) -> Result<Vec<ClaimView>, ApiError> {
    let ids: Vec<ClaimId> = rows.iter().map(|r| r.id).collect();
    let items = repo::items_of(conn, &ids)?;
    rows.into_iter()
        .map(|r| {
            let readings: Vec<Reading> = serde_json::from_str(&r.readings).map_err(|e| {
                ApiError::internal(format!("stored readings of claim {}: {e}", r.id))
            })?;
            Ok(ClaimView {
                items: items
                    .iter()
                    .filter(|i| i.0 == r.id)
                    .map(|i| ClaimItemView {
                        order_item_id: i.1,
                        quantity: i.2,
                        amount: Money::from_fen(i.3),
                    })
                    .collect(),
                requested_amount: Money::from_fen(r.requested_amount),
                approved_amount: r.approved_amount.map(Money::from_fen),
                evidence: r.evidence.0,
                readings,
                created_at: db::utc(r.created_at),
                resolved_at: r.resolved_at.map(db::utc),
                id: r.id,
                order_id: r.order_id,
                cooperative_id: r.cooperative_id,
                kind: r.kind,
                reason: r.reason,
                origin: r.origin,
                status: r.status,
                note: r.note,
                rejection_reason: r.rejection_reason,
            })
        })
        .collect()
}

/// What opening a claim needs besides the lines.
pub struct Opening<'a> {
    pub opened_by: Option<UserId>,
    pub kind: ClaimKind,
    pub reason: ClaimReason,
    pub origin: ClaimOrigin,
    pub note: Option<&'a str>,
    pub evidence: &'a [String],
    pub readings: Vec<Reading>,
    pub shipment_id: Option<ShipmentId>,
}

/// Opens a claim on `order`'s shipped units: every line must be an item of the order with that
/// many shipped units not already under claim (422 naming `items[i]` otherwise), all of one
/// co-op. The units are counted under claim in the same transaction.
pub fn open(
    conn: &mut DbConn,
    order: &OrderRow,
    lines: &[ClaimLine],
    o: &Opening<'_>,
) -> Result<ClaimRow, ApiError> {
    let items = orders::items_of(conn, order.id)?;
    let mut errors = Vec::new();
    let mut claimed = Vec::new();
    let mut coops = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(item) = items.iter().find(|it| it.id == l.order_item_id) else {
            errors.push(FieldError::new(
                format!("items[{i}].order_item_id"),
                "not an item of this order",
            ));
            continue;
        };
        if !coops.contains(&item.cooperative_id) {
            coops.push(item.cooperative_id);
        }
        let free = item.shipped_quantity - item.claimed_quantity;
        if l.quantity > free {
            errors.push(FieldError::new(
                format!("items[{i}]"),
                format!("only {free} shipped unit(s) of this item are not under claim"),
            ));
            continue;
        }
        claimed.push((
            item.id,
            l.quantity,
            units_worth(item.final_total, item.quantity, l.quantity),
        ));
    }
    if coops.len() > 1 {
        errors.push(FieldError::new(
            "items",
            "a claim is about one co-op's goods: open one claim per co-op",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let cooperative_id = *coops
        .first()
        .ok_or_else(|| ApiError::field("items", "a claim names at least one item"))?;
    // counted under claim first: of two racing claims on the last units one fails here
    for (i, (item, q, _)) in claimed.iter().enumerate() {
        if !orders::claim_units(conn, *item, *q)? {
            return Err(ApiError::Validation(vec![FieldError::new(
                format!("items[{i}]"),
                "more units than were shipped and are not under claim",
            )]));
        }
    }
    let id = ClaimId::generate();
    let readings = serde_json::to_string(&o.readings)
        .map_err(|e| ApiError::internal(format!("readings: {e}")))?;
    repo::insert(
        conn,
        &NewClaim {
            id,
            order_id: order.id,
            cooperative_id,
            opened_by: o.opened_by,
            kind: o.kind,
            reason: o.reason,
            origin: o.origin,
            requested_amount: claimed.iter().map(|c| c.2).sum(),
            evidence: o.evidence,
            readings,
            note: o.note,
            shipment_id: o.shipment_id,
            items: &claimed,
        },
    )?;
    repo::find(conn, id)?.ok_or(ApiError::NotFound)
}

/// Whether claims on `order` may still be opened now.
pub fn within_window(conn: &mut DbConn, order: &OrderRow) -> Result<bool, ApiError> {
    let Some(start) = crate::fulfilment::repo::last_arrival_or_dispatch(conn, order.id)? else {
        return Ok(false);
    };
    Ok(db::now() <= start + chrono::Duration::days(WINDOW_DAYS))
}

/// Applies `action` by `actor` to a claim: one transition function, one conditional UPDATE
/// (so of racing decisions one wins and the rest get 409), units freed on rejection and taken
/// again on escalation, and on approval one refund of kind `claim` (the ledger refuses a
/// second for the same claim). Audited.
pub fn decide(
    conn: &mut DbConn,
    claim: &ClaimRow,
    action: ClaimAction,
    actor: ClaimActor,
    by: UserId,
    amount: Option<Money>,
    reason: Option<&str>,
) -> Result<ClaimRow, ApiError> {
    let to = claim.status.transition(action, claim.kind, actor)?;
    // the admin's word on an escalated claim is final: a claim escalates once
    if action == ClaimAction::Escalate
        && audit::happened(conn, "claim.escalated", "claim", claim.id)?
    {
        return Err(ApiError::InvalidState(
            "this claim was escalated before; the platform's decision stands".into(),
        ));
    }
    let approved_amount = match action {
        ClaimAction::Approve => {
            let a = amount.map_or(claim.requested_amount, Money::fen);
            if a > claim.requested_amount {
                return Err(ApiError::field(
                    "amount",
                    format!(
                        "may be at most the requested {}",
                        Money::from_fen(claim.requested_amount)
                    ),
                ));
            }
            Some(a)
        }
        _ => None,
    };
    let resolved = matches!(to, ClaimStatus::Approved | ClaimStatus::Rejected);
    let decision = Decision {
        approved_amount,
        rejection_reason: reason.filter(|_| to == ClaimStatus::Rejected),
        resolved,
    };
    if !repo::set_status(conn, claim.id, claim.status, to, &decision)? {
        return Err(ApiError::InvalidState(
            "the claim changed meanwhile; read it again".into(),
        ));
    }
    let items = repo::items_of(conn, &[claim.id])?;
    match to {
        ClaimStatus::Rejected => {
            for (_, item, q, _) in &items {
                orders::unclaim_units(conn, *item, *q)?;
            }
        }
        ClaimStatus::Escalated => {
            for (_, item, q, _) in &items {
                if !orders::claim_units(conn, *item, *q)? {
                    return Err(ApiError::Conflict(
                        "these units are under another claim now".into(),
                    ));
                }
            }
        }
        _ => {}
    }
    if to == ClaimStatus::Approved {
        let amount = approved_amount.or(claim.approved_amount).unwrap_or(0);
        let order = orders::find(conn, claim.order_id)?.ok_or(ApiError::NotFound)?;
        crate::payments::refunds::refund_goods(
            conn,
            &order,
            RefundKind::Claim,
            amount,
            claim.cooperative_id,
            Some(claim.id),
            "售后申请已同意，退款",
        )?;
    }
    let action_name = match action {
        ClaimAction::Approve => "claim.approved",
        ClaimAction::Reject => "claim.rejected",
        ClaimAction::Escalate => "claim.escalated",
        ClaimAction::ReceiveReturn => "claim.return_received",
    };
    audit::record(
        conn,
        Some(by),
        action_name,
        "claim",
        claim.id,
        serde_json::json!({"order_id": claim.order_id, "to": to.as_str(),
                           "amount": approved_amount.map(Money::from_fen), "reason": reason}),
    )?;
    repo::find(conn, claim.id)?.ok_or(ApiError::NotFound)
}

/// After a parcel is delivered, in the delivery's transaction: when it carried a reading out
/// of its storage class's range, a refund-only temperature claim covering its items opens by
/// itself, with those readings (at most one per parcel).
pub fn cold_chain_on_delivery(conn: &mut DbConn, shipment: ShipmentId) -> Result<(), ApiError> {
    let (items, readings) = crate::fulfilment::repo::parcel_contents(conn, shipment)?;
    if readings.is_empty() {
        return Ok(());
    }
    let Some(parcel) = crate::fulfilment::repo::find_shipment(conn, shipment)? else {
        return Ok(());
    };
    let order = orders::find(conn, parcel.order_id)?.ok_or(ApiError::NotFound)?;
    let unclaimed = orders::items_of(conn, order.id)?;
    // what a buyer already claimed stays theirs: the cold chain claims what is left
    let lines: Vec<ClaimLine> = items
        .iter()
        .filter_map(|(item, q)| {
            let it = unclaimed.iter().find(|i| i.id == *item)?;
            let free = (it.shipped_quantity - it.claimed_quantity).min(*q);
            (free > 0).then_some(ClaimLine {
                order_item_id: *item,
                quantity: free,
            })
        })
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let readings = readings
        .into_iter()
        .map(|(at, t, location)| Reading {
            shipment_id: shipment,
            occurred_at: db::utc(at),
            temperature_celsius: t,
            location,
        })
        .collect();
    open(
        conn,
        &order,
        &lines,
        &Opening {
            opened_by: None,
            kind: ClaimKind::RefundOnly,
            reason: ClaimReason::Temperature,
            origin: ClaimOrigin::ColdChain,
            note: Some("冷链温度超出范围，系统自动发起售后"),
            evidence: &[],
            readings,
            shipment_id: Some(shipment),
        },
    )?;
    Ok(())
}
