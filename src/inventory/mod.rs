//! Owns `stock`, `stock_movements`, `lots`, `lot_allocations`, `shipment_lots`. Stock per (SKU, warehouse), the
//! lots of lot-tracked SKUs, the append-only movements ledger, and the single-statement
//! primitives orders and fulfilment call inside their own transactions. Reads SKU codes,
//! products' names and shelf life and warehouses' cold flag by join.

pub(crate) mod domain;
pub(crate) mod lots;
pub(crate) mod repo;
pub(crate) mod routes;

pub use repo::{release, reserve};

use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::ids::{LotId, OrderId, OrderItemId, ShipmentId, SkuId, UserId, WarehouseId};
use domain::MovementKind;
use repo::Movement;

/// One order item's share of a parcel.
#[derive(Debug, Clone, Copy)]
pub struct ShipLine {
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub quantity: i64,
    pub order_id: OrderId,
    pub order_item_id: OrderItemId,
    pub shipment_id: ShipmentId,
    pub actor_id: Option<UserId>,
}

/// Ships an item's units: the stock row first (the lock order every stock change keeps),
/// then the lots the item reserved, earliest first, then a `shipment` movement per lot
/// (one without a lot for an untracked SKU). Returns the lots and units taken.
pub fn ship(conn: &mut DbConn, l: &ShipLine) -> Result<Vec<(LotId, i64)>, ApiError> {
    repo::take_shipped(conn, l.sku_id, l.warehouse_id, l.quantity)?;
    let lots = lots::ship_item(conn, l.order_id, l.order_item_id, l.quantity, l.shipment_id)?;
    let movement = |delta, lot_id| Movement {
        sku_id: l.sku_id,
        warehouse_id: l.warehouse_id,
        delta,
        kind: MovementKind::Shipment,
        reason: None,
        order_id: Some(l.order_id),
        actor_id: l.actor_id,
        lot_id,
    };
    let movements: Vec<Movement<'_>> = if lots.is_empty() {
        vec![movement(-l.quantity, None)]
    } else {
        lots.iter()
            .map(|&(lot, q)| movement(-q, Some(lot)))
            .collect()
    };
    repo::record_movements(conn, &movements)?;
    Ok(lots)
}
