//! Parcels: shipping items of a fulfilment, tracking events, delivery. Owns the tables
//! `shipments`, `shipment_items` and `shipment_events`; the order, its items and fulfilments
//! change only through orders' functions, and stock through inventory's.

use diesel::prelude::*;

use super::domain::{
    fulfilment_after_parcel, is_excursion, order_after_parcel, order_delivered, parcel_lines,
    NewEvent, NewShipment, ShipmentStatus,
};
use crate::catalogue::{self, Storage};
use crate::db::schema::{shipment_events, shipment_items, shipments};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{
    CooperativeId, FulfilmentId, OrderId, OrderItemId, ShipmentEventId, ShipmentId, UserId,
};
use crate::inventory;
use crate::orders::repo::{self as orders, FulfilmentRow};
use crate::orders::{FulfilmentStatus, OrderStatus};

/// Ships items of a fulfilment as one parcel: the shipment, its items, stock leaving the
/// warehouse, and the fulfilment's and order's new status. Returns the shipment id.
pub fn ship(
    conn: &mut DbConn,
    fulfilment: &FulfilmentRow,
    new: &NewShipment,
    actor_id: UserId,
) -> Result<ShipmentId, ApiError> {
    let from = fulfilment.status;
    if !matches!(
        from,
        FulfilmentStatus::AwaitingShipment | FulfilmentStatus::PartiallyShipped
    ) {
        return Err(ApiError::InvalidState(format!(
            "a fulfilment that is {from} cannot ship"
        )));
    }
    if !orders::hold_for_shipping(conn, fulfilment.order_id)? {
        return Err(ApiError::InvalidState(
            "the order is no longer awaiting shipment".into(),
        ));
    }
    let items = orders::items_of(conn, fulfilment.order_id)?;
    let shipped = parcel_lines(new, &items, fulfilment.id)?;
    let sku_ids: Vec<_> = shipped.iter().map(|l| l.item.sku_id).collect();
    let storage = Storage::coldest(catalogue::repo::storage_of(conn, &sku_ids)?);
    let id = insert_shipment(conn, fulfilment, new, storage)?;
    let rows: Vec<_> = shipped
        .iter()
        .map(|l| {
            (
                shipment_items::shipment_id.eq(id),
                shipment_items::order_item_id.eq(l.item.id),
                shipment_items::quantity.eq(l.quantity),
                shipment_items::actual_weight_grams.eq(l.actual_weight_grams),
            )
        })
        .collect();
    crate::insert_rows!(conn, shipment_items::table, rows)?;
    let mut by_stock = shipped.clone();
    // the lock order placement and cancellation use
    by_stock.sort_by_key(|l| (l.item.sku_id, l.item.warehouse_id));
    for l in &by_stock {
        let (it, q) = (l.item, l.quantity);
        if !orders::record_shipped(conn, it.id, q)? {
            return Err(ApiError::field("items", "more than remains to ship"));
        }
        inventory::ship(
            conn,
            &inventory::ShipLine {
                sku_id: it.sku_id,
                warehouse_id: it.warehouse_id,
                quantity: q,
                order_id: it.order_id,
                order_item_id: it.id,
                shipment_id: id,
                actor_id: Some(actor_id),
            },
        )?;
    }
    // 多退少补: weighed goods packed lighter than charged give the difference back now, once,
    // in this transaction (the parcel's lines together, as one refund)
    let mut refund = 0;
    for l in shipped.iter().filter(|l| l.refund > 0) {
        if !orders::lower_final_total(conn, l.item.id, l.refund)? {
            return Err(ApiError::internal("a weight refund above the line's total"));
        }
        refund += l.refund;
    }
    if refund > 0 {
        let order = orders::find(conn, fulfilment.order_id)?.ok_or(ApiError::NotFound)?;
        crate::payments::refunds::refund_goods(
            conn,
            &order,
            crate::orders::domain::RefundKind::WeightAdjustment,
            refund,
            fulfilment.cooperative_id,
            None,
            &format!("运单 {} 实重低于标称重量，退差价", new.tracking_number),
        )?;
    }
    // the fulfilment and the order follow what is left to ship
    let items = orders::items_of(conn, fulfilment.order_id)?;
    let to = fulfilment_after_parcel(&items, fulfilment.id);
    if !orders::move_fulfilment(conn, fulfilment.id, from, to)? {
        return Err(changed_meanwhile());
    }
    let all = orders::fulfilments_of(conn, fulfilment.order_id)?;
    let target = order_after_parcel(&all);
    let order = orders::find(conn, fulfilment.order_id)?.ok_or(ApiError::NotFound)?;
    let moved = order.status == target && target == OrderStatus::Shipped
        || orders::set_status(conn, order.id, order.status, target)?;
    if !moved {
        return Err(changed_meanwhile());
    }
    Ok(id)
}

fn changed_meanwhile() -> ApiError {
    ApiError::InvalidState("the order changed meanwhile; read it again".into())
}

fn insert_shipment(
    conn: &mut DbConn,
    fulfilment: &FulfilmentRow,
    new: &NewShipment,
    storage: Storage,
) -> Result<ShipmentId, ApiError> {
    let id = ShipmentId::generate();
    let now = db::now();
    diesel::insert_into(shipments::table)
        .values((
            shipments::id.eq(id),
            shipments::fulfilment_id.eq(fulfilment.id),
            shipments::order_id.eq(fulfilment.order_id),
            shipments::cooperative_id.eq(fulfilment.cooperative_id),
            shipments::carrier.eq(&new.carrier),
            shipments::tracking_number.eq(&new.tracking_number),
            shipments::cold_chain.eq(storage.needs_cold_chain()),
            shipments::storage.eq(storage),
            shipments::status.eq(ShipmentStatus::InTransit),
            shipments::excursions.eq(0),
            shipments::created_at.eq(now),
            shipments::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

#[derive(Debug, Clone, Queryable)]
pub struct ShipmentRow {
    pub id: ShipmentId,
    pub fulfilment_id: FulfilmentId,
    pub order_id: OrderId,
    pub cooperative_id: CooperativeId,
    pub storage: Storage,
    pub status: ShipmentStatus,
}

pub fn find_shipment(conn: &mut DbConn, id: ShipmentId) -> Result<Option<ShipmentRow>, ApiError> {
    Ok(shipments::table
        .find(id)
        .select((
            shipments::id,
            shipments::fulfilment_id,
            shipments::order_id,
            shipments::cooperative_id,
            shipments::storage,
            shipments::status,
        ))
        .first(conn)
        .optional()?)
}

/// Records a tracking event; a delivery may deliver the fulfilment and the whole order.
/// Returns the event id.
pub fn record_event(
    conn: &mut DbConn,
    shipment: &ShipmentRow,
    e: &NewEvent,
) -> Result<ShipmentEventId, ApiError> {
    let to = shipment.status.transition(e.status)?;
    let excursion = e
        .temperature_celsius
        .is_some_and(|t| is_excursion(shipment.storage, t));
    let now = db::now();
    let delivered = to == ShipmentStatus::Delivered;
    // conditional on the status read: a racing event (say, a second delivery) loses
    let n = diesel::update(
        shipments::table
            .filter(shipments::id.eq(shipment.id))
            .filter(shipments::status.eq(shipment.status)),
    )
    .set((
        shipments::status.eq(to),
        shipments::excursions.eq(shipments::excursions + i32::from(excursion)),
        shipments::delivered_at.eq(delivered.then_some(e.occurred_at)),
        shipments::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(ApiError::InvalidState(
            "the parcel changed meanwhile; read it again".into(),
        ));
    }
    let id = ShipmentEventId::generate();
    diesel::insert_into(shipment_events::table)
        .values((
            shipment_events::id.eq(id),
            shipment_events::shipment_id.eq(shipment.id),
            shipment_events::status.eq(to),
            shipment_events::occurred_at.eq(e.occurred_at),
            shipment_events::location.eq(&e.location),
            shipment_events::note.eq(&e.note),
            shipment_events::temperature_celsius.eq(e.temperature_celsius),
            shipment_events::excursion.eq(excursion),
            shipment_events::created_at.eq(now),
        ))
        .execute(conn)?;
    if delivered {
        deliver_if_complete(conn, shipment.order_id)?;
    }
    Ok(id)
}

/// A fulfilment is delivered once all of it shipped and every parcel arrived; the order once
/// every fulfilment is.
fn deliver_if_complete(conn: &mut DbConn, order_id: OrderId) -> Result<(), ApiError> {
    let parcels: Vec<(FulfilmentId, ShipmentStatus)> = shipments::table
        .filter(shipments::order_id.eq(order_id))
        .select((shipments::fulfilment_id, shipments::status))
        .load(conn)?;
    for f in orders::fulfilments_of(conn, order_id)? {
        let arrived = parcels
            .iter()
            .filter(|(fid, _)| *fid == f.id)
            .all(|(_, s)| *s == ShipmentStatus::Delivered);
        if f.status == FulfilmentStatus::Shipped && arrived {
            orders::move_fulfilment(
                conn,
                f.id,
                FulfilmentStatus::Shipped,
                FulfilmentStatus::Delivered,
            )?;
        }
    }
    let all = orders::fulfilments_of(conn, order_id)?;
    let order = orders::find(conn, order_id)?.ok_or(ApiError::NotFound)?;
    if order_delivered(&all) && order.status == OrderStatus::Shipped {
        orders::set_status(conn, order_id, OrderStatus::Shipped, OrderStatus::Delivered)?;
    }
    Ok(())
}

/// When the order's goods last arrived (its delivery), else when its last parcel left: the
/// start of the after-sales window.
pub fn last_arrival_or_dispatch(
    conn: &mut DbConn,
    order: OrderId,
) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    let delivered: Option<chrono::NaiveDateTime> = shipments::table
        .filter(shipments::order_id.eq(order))
        .select(diesel::dsl::max(shipments::delivered_at))
        .first(conn)?;
    if delivered.is_some() {
        return Ok(delivered);
    }
    Ok(shipments::table
        .filter(shipments::order_id.eq(order))
        .select(diesel::dsl::max(shipments::created_at))
        .first(conn)?)
}

/// A parcel's items (item, quantity) and its out-of-range readings (time, °C, place).
#[allow(clippy::type_complexity)]
pub fn parcel_contents(
    conn: &mut DbConn,
    shipment: ShipmentId,
) -> Result<
    (
        Vec<(OrderItemId, i64)>,
        Vec<(chrono::NaiveDateTime, Option<f64>, Option<String>)>,
    ),
    ApiError,
> {
    let items = shipment_items::table
        .filter(shipment_items::shipment_id.eq(shipment))
        .select((shipment_items::order_item_id, shipment_items::quantity))
        .load(conn)?;
    let readings = shipment_events::table
        .filter(shipment_events::shipment_id.eq(shipment))
        .filter(shipment_events::excursion.eq(true))
        .order((
            shipment_events::occurred_at.asc(),
            shipment_events::id.asc(),
        ))
        .select((
            shipment_events::occurred_at,
            shipment_events::temperature_celsius,
            shipment_events::location,
        ))
        .load(conn)?;
    Ok((items, readings))
}
