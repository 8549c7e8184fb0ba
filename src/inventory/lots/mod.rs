//! Lots: stock of a lot-tracked SKU held per batch with its dates, reserved
//! first-expired-first-out, shipped from the lots each item reserved, traced to the buyers
//! who received it. The SKU's stock row stays the sum of its lots, so everything that reads
//! stock keeps working; every lot change moves the stock row first, then the lot.

pub(crate) mod domain;
pub(crate) mod label;
pub(crate) mod public;
pub(crate) mod repo;
pub(crate) mod routes;

use domain::{pick, LotOption, Receipt};
use repo::{LotRow, NewLot, OpenAllocation};

use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::ids::{
    CooperativeId, LotId, OrderId, OrderItemId, ShipmentId, SkuId, UserId, WarehouseId,
};
use crate::inventory::domain::MovementKind;
use crate::inventory::repo::{self as stock, Movement};

/// Receives a lot into a warehouse of the SKU's co-op: the lot, the stock row's `on_hand`,
/// and a `receipt` movement carrying the lot.
pub fn receive(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    receipt: &Receipt,
    actor: Option<UserId>,
) -> Result<LotRow, ApiError> {
    let today = domain::today();
    let facts = repo::sku_facts(conn, receipt.sku_id)?
        .filter(|f| f.cooperative_id == cooperative_id)
        .ok_or(ApiError::NotFound)?;
    if stock::warehouse_cooperative(conn, receipt.warehouse_id)? != Some(cooperative_id) {
        return Err(ApiError::NotFound);
    }
    if !facts.lot_tracked {
        return Err(ApiError::Conflict(
            "this SKU is not lot-tracked: receive its stock with a stock adjustment".into(),
        ));
    }
    let best_before = receipt.best_before(facts.shelf_life_days, today)?;
    stock::ensure_row(conn, receipt.sku_id, receipt.warehouse_id, cooperative_id)?;
    if !stock::move_on_hand(conn, receipt.sku_id, receipt.warehouse_id, receipt.quantity)? {
        return Err(ApiError::Conflict(
            "the warehouse would hold more of this SKU than 1,000,000,000 units".into(),
        ));
    }
    let id = LotId::generate();
    repo::insert(
        conn,
        &NewLot {
            id,
            cooperative_id,
            sku_id: receipt.sku_id,
            warehouse_id: receipt.warehouse_id,
            code: &receipt.code,
            harvested_on: receipt.harvested_on.map(domain::date_text),
            packed_on: domain::date_text(receipt.packed_on),
            best_before: domain::date_text(best_before),
            origin: receipt.origin.as_deref(),
            certificate_no: receipt.certificate_no.as_deref(),
            quantity: receipt.quantity,
            trace_code: domain::new_trace_code(),
        },
    )?;
    stock::record_movement(
        conn,
        &Movement {
            sku_id: receipt.sku_id,
            warehouse_id: receipt.warehouse_id,
            delta: receipt.quantity,
            kind: MovementKind::Receipt,
            reason: None,
            order_id: None,
            actor_id: actor,
            lot_id: Some(id),
        },
    )?;
    repo::get(conn, id)?.ok_or(ApiError::NotFound)
}

/// Adds or removes units of a lot (damage, a recount): the stock row, then the lot, then the
/// ledger. 409 when it would leave less than the lot has reserved.
pub fn adjust(
    conn: &mut DbConn,
    lot: &LotRow,
    delta: i64,
    reason: Option<&str>,
    actor: UserId,
) -> Result<LotRow, ApiError> {
    let conflict = || {
        ApiError::Conflict(
            "this would leave the lot less on hand than it has reserved for orders".into(),
        )
    };
    if !stock::move_on_hand(conn, lot.sku_id, lot.warehouse_id, delta)? {
        return Err(conflict());
    }
    if !repo::apply_delta(conn, lot.id, delta)? {
        return Err(conflict());
    }
    stock::record_movement(
        conn,
        &Movement {
            sku_id: lot.sku_id,
            warehouse_id: lot.warehouse_id,
            delta,
            kind: MovementKind::Adjustment,
            reason,
            order_id: None,
            actor_id: Some(actor),
            lot_id: Some(lot.id),
        },
    )?;
    repo::get(conn, lot.id)?.ok_or(ApiError::NotFound)
}

/// Moves a lot to `to` (held or active) unless it is there already; true when it moved.
/// A lot changed by someone else since it was read is 409 `invalid_state`.
pub fn move_hold(
    conn: &mut DbConn,
    lot: &LotRow,
    to: domain::LotHold,
    reason: Option<&str>,
) -> Result<bool, ApiError> {
    if lot.status == to {
        return Ok(false);
    }
    if !repo::set_hold(conn, lot.id, lot.status, to, reason)? {
        return Err(ApiError::InvalidState(
            "the lot changed meanwhile; read it again".into(),
        ));
    }
    Ok(true)
}

/// Reserves `quantity` of one SKU in one warehouse from its lots, first-expired-first-out,
/// among lots whose last day is on or after `not_before`. `hint` holds the lots checkout
/// read; when another order took one meanwhile, the lots are read again (the caller already
/// holds the stock row, so no other order of this SKU and warehouse moves them now).
/// `Ok(Err(sellable units))` when they do not cover it.
pub fn reserve_fefo(
    conn: &mut DbConn,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
    quantity: i64,
    not_before: &str,
    hint: &[LotOption],
) -> Result<Result<Vec<(LotOption, i64)>, i64>, ApiError> {
    let mut taken: Vec<(LotOption, i64)> = Vec::new();
    let mut left = quantity;
    let mut options: Vec<LotOption> = hint
        .iter()
        .filter(|o| o.sku_id == sku_id && o.warehouse_id == warehouse_id)
        .cloned()
        .collect();
    for attempt in 0..3 {
        if attempt > 0 {
            // fresh figures, less what this order has already taken
            options = repo::sellable(conn, &[sku_id], not_before)?
                .into_iter()
                .map(|(o, _)| o)
                .filter(|o| o.warehouse_id == warehouse_id)
                .collect();
        }
        let plan = match pick(&options, left, not_before) {
            Ok(p) => p,
            Err(sellable) if attempt > 0 => return Ok(Err(sellable + (quantity - left))),
            Err(_) => continue,
        };
        let mut raced = false;
        for (lot, q) in plan {
            if !repo::reserve(conn, lot, q, not_before)? {
                raced = true;
                break;
            }
            left -= q;
            match taken.iter_mut().find(|(o, _)| o.id == lot) {
                Some(t) => t.1 += q,
                None => {
                    let option = options
                        .iter()
                        .find(|o| o.id == lot)
                        .cloned()
                        .ok_or_else(|| ApiError::internal("picked a lot it was not offered"))?;
                    taken.push((option, q));
                }
            }
        }
        if !raced && left == 0 {
            return Ok(Ok(taken));
        }
    }
    Ok(Err(quantity - left))
}

/// Gives back every unit an order still holds in lots (cancellation, payment timeout).
pub fn release_order(conn: &mut DbConn, order_id: OrderId) -> Result<(), ApiError> {
    for a in repo::open_allocations(conn, order_id, None)? {
        repo::release(conn, &a, a.open)?;
    }
    Ok(())
}

/// Takes a parcel's `quantity` of an item from the lots it reserved, earliest first; the
/// lots and units taken (empty for an item of an untracked SKU).
pub fn ship_item(
    conn: &mut DbConn,
    order_id: OrderId,
    item: OrderItemId,
    quantity: i64,
    shipment_id: ShipmentId,
) -> Result<Vec<(LotId, i64)>, ApiError> {
    let open: Vec<OpenAllocation> = repo::open_allocations(conn, order_id, Some(item))?;
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let mut left = quantity;
    let mut taken = Vec::new();
    for a in &open {
        if left == 0 {
            break;
        }
        let q = left.min(a.open);
        repo::ship(conn, a, q, shipment_id)?;
        taken.push((a.lot_id, q));
        left -= q;
    }
    if left > 0 {
        return Err(ApiError::internal(format!(
            "item {item} ships {quantity} units but its lots hold {} for it",
            quantity - left
        )));
    }
    Ok(taken)
}
