//! Parcels as order and fulfilment views show them: fulfilment owns the shipment tables and
//! reads them here, in three statements for any number of fulfilments.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::ShipmentStatus;
use crate::catalogue::Storage;
use crate::db::schema::{shipment_events, shipment_items, shipments};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{FulfilmentId, OrderId, OrderItemId, ShipmentEventId, ShipmentId};
use crate::orders::views::{EventView, ItemLot, Parcels, ShipmentItemView, ShipmentView};

/// What the app wiring plugs into the order views' parcel port.
pub const PARCELS: Parcels = Parcels {
    shipments: shipments_of,
    refunds: crate::payments::refunds::views_of,
};

/// Shipments (with items and events in time order) of the given fulfilments.
pub fn shipments_of(
    conn: &mut DbConn,
    fulfilment_ids: &[FulfilmentId],
) -> Result<Vec<ShipmentView>, ApiError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        ShipmentId,
        FulfilmentId,
        OrderId,
        String,
        String,
        bool,
        Storage,
        ShipmentStatus,
        i32,
        NaiveDateTime,
    )> = shipments::table
        .filter(shipments::fulfilment_id.eq_any(fulfilment_ids))
        .order((shipments::created_at.asc(), shipments::id.asc()))
        .select((
            shipments::id,
            shipments::fulfilment_id,
            shipments::order_id,
            shipments::carrier,
            shipments::tracking_number,
            shipments::cold_chain,
            shipments::storage,
            shipments::status,
            shipments::excursions,
            shipments::created_at,
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<ShipmentId> = rows.iter().map(|r| r.0).collect();
    let items: Vec<(ShipmentId, OrderItemId, i64, Option<i64>)> = shipment_items::table
        .filter(shipment_items::shipment_id.eq_any(&ids))
        .select((
            shipment_items::shipment_id,
            shipment_items::order_item_id,
            shipment_items::quantity,
            shipment_items::actual_weight_grams,
        ))
        .order((
            shipment_items::shipment_id.asc(),
            shipment_items::order_item_id.asc(),
        ))
        .load(conn)?;
    let lots = crate::inventory::lots::repo::lots_of_shipments(conn, &ids)?;
    #[allow(clippy::type_complexity)]
    let events: Vec<(
        ShipmentEventId,
        ShipmentId,
        ShipmentStatus,
        NaiveDateTime,
        Option<String>,
        Option<String>,
        Option<f64>,
        bool,
    )> = shipment_events::table
        .filter(shipment_events::shipment_id.eq_any(&ids))
        .order((
            shipment_events::occurred_at.asc(),
            shipment_events::id.asc(),
        ))
        .select((
            shipment_events::id,
            shipment_events::shipment_id,
            shipment_events::status,
            shipment_events::occurred_at,
            shipment_events::location,
            shipment_events::note,
            shipment_events::temperature_celsius,
            shipment_events::excursion,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, fid, oid, carrier, tracking, cold, storage, status, excursions, created)| {
                ShipmentView {
                    items: items
                        .iter()
                        .filter(|(s, _, _, _)| *s == id)
                        .map(|(_, item, q, grams)| ShipmentItemView {
                            order_item_id: *item,
                            quantity: *q,
                            actual_weight_grams: *grams,
                            lots: lots
                                .iter()
                                .filter(|l| l.0 == id && l.1 == *item)
                                .map(|l| ItemLot {
                                    lot_id: l.2,
                                    code: l.3.clone(),
                                    best_before: l.4.clone(),
                                    quantity: l.5,
                                })
                                .collect(),
                        })
                        .collect(),
                    events: events
                        .iter()
                        .filter(|e| e.1 == id)
                        .map(|e| EventView {
                            id: e.0,
                            status: e.2,
                            occurred_at: db::utc(e.3),
                            location: e.4.clone(),
                            note: e.5.clone(),
                            temperature_celsius: e.6,
                            excursion: e.7,
                        })
                        .collect(),
                    id,
                    fulfilment_id: fid,
                    order_id: oid,
                    carrier,
                    tracking_number: tracking,
                    cold_chain: cold,
                    storage,
                    status,
                    excursions,
                    created_at: db::utc(created),
                }
            },
        )
        .collect())
}
