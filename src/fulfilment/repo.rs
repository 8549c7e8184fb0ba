//! Queries and changes for fulfilments, shipments and tracking events.

use diesel::prelude::*;

use super::domain::{is_excursion, NewEvent, NewShipment, ShipmentStatus};
use crate::catalogue::Storage;
use crate::db::schema::{
    fulfilments, order_items, products, shipment_events, shipment_items, shipments, skus,
};
use crate::db::{self, DbConn};
use crate::http::error::{ApiError, FieldError};
use crate::http::pagination::{time_key, Page, Paginated};
use crate::inventory;
use crate::orders::repo::{self as orders, FulfilmentRow};
use crate::orders::{FulfilmentStatus, OrderStatus};

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<FulfilmentRow>, ApiError> {
    Ok(fulfilments::table
        .find(id)
        .select(FulfilmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// A co-op's fulfilments, oldest first.
pub fn queue(
    conn: &mut DbConn,
    cooperative_id: &str,
    status: Option<FulfilmentStatus>,
    page: &Page,
) -> Result<Paginated<FulfilmentRow>, ApiError> {
    let mut q = fulfilments::table
        .filter(fulfilments::cooperative_id.eq(cooperative_id))
        .select(FulfilmentRow::as_select())
        .order((fulfilments::created_at.asc(), fulfilments::id.asc()))
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(fulfilments::status.eq(s.as_str()));
    }
    if let Some((t, id)) = page.after_time()? {
        q = q.filter(
            fulfilments::created_at
                .gt(t)
                .or(fulfilments::created_at.eq(t).and(fulfilments::id.gt(id))),
        );
    }
    let rows = q.load(conn)?;
    Ok(page.finish(rows, |r| time_key(r.created_at, &r.id)))
}

fn coldest(storages: impl Iterator<Item = Storage>) -> Storage {
    storages
        .max_by_key(|s| match s {
            Storage::Ambient => 0,
            Storage::Chilled => 1,
            Storage::Frozen => 2,
        })
        .unwrap_or(Storage::Ambient)
}

/// Ships items of a fulfilment as one parcel: the shipment, its items, stock leaving the
/// warehouse, and the fulfilment's and order's new status. Returns the shipment id.
pub fn ship(
    conn: &mut DbConn,
    fulfilment: &FulfilmentRow,
    new: &NewShipment,
    actor_id: &str,
) -> Result<String, ApiError> {
    let from = fulfilment.status();
    if !matches!(
        from,
        FulfilmentStatus::AwaitingShipment | FulfilmentStatus::PartiallyShipped
    ) {
        return Err(ApiError::InvalidState(format!(
            "a fulfilment that is {} cannot ship",
            from.as_str()
        )));
    }
    // take the order's row first, as cancelling does: a cancellation racing this shipment
    // then waits for it and finds the order shipped, or this finds the order cancelled
    let guard = diesel::update(
        crate::db::schema::orders::table
            .filter(crate::db::schema::orders::id.eq(&fulfilment.order_id))
            .filter(crate::db::schema::orders::status.eq_any([
                OrderStatus::Confirmed.as_str(),
                OrderStatus::PartiallyShipped.as_str(),
            ])),
    )
    .set(crate::db::schema::orders::updated_at.eq(db::now()))
    .execute(conn)?;
    if guard == 0 {
        return Err(ApiError::InvalidState(
            "the order is no longer awaiting shipment".into(),
        ));
    }
    let items = orders::items_of(conn, &fulfilment.order_id)?;
    let mut errors = Vec::new();
    for (i, line) in new.items.iter().enumerate() {
        match items
            .iter()
            .find(|it| it.id == line.order_item_id && it.fulfilment_id == fulfilment.id)
        {
            None => errors.push(FieldError::new(
                format!("items[{i}].order_item_id"),
                "not an item of this fulfilment",
            )),
            Some(it) if line.quantity > it.quantity - it.shipped_quantity => {
                errors.push(FieldError::new(
                    format!("items[{i}].quantity"),
                    format!("only {} left to ship", it.quantity - it.shipped_quantity),
                ))
            }
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let shipped: Vec<_> = new
        .items
        .iter()
        .filter_map(|l| {
            items
                .iter()
                .find(|it| it.id == l.order_item_id)
                .map(|it| (it, l.quantity))
        })
        .collect();
    let sku_ids: Vec<String> = shipped.iter().map(|(it, _)| it.sku_id.clone()).collect();
    let storages: Vec<String> = skus::table
        .inner_join(products::table)
        .filter(skus::id.eq_any(&sku_ids))
        .select(products::storage)
        .load(conn)?;
    let storage = coldest(storages.iter().filter_map(|s| Storage::parse(s)));
    let id = db::new_id();
    let now = db::now();
    diesel::insert_into(shipments::table)
        .values((
            shipments::id.eq(&id),
            shipments::fulfilment_id.eq(&fulfilment.id),
            shipments::order_id.eq(&fulfilment.order_id),
            shipments::cooperative_id.eq(&fulfilment.cooperative_id),
            shipments::carrier.eq(&new.carrier),
            shipments::tracking_number.eq(&new.tracking_number),
            shipments::cold_chain.eq(storage.needs_cold_chain()),
            shipments::storage.eq(storage.as_str()),
            shipments::status.eq(ShipmentStatus::InTransit.as_str()),
            shipments::excursions.eq(0),
            shipments::created_at.eq(now),
            shipments::updated_at.eq(now),
        ))
        .execute(conn)?;
    let rows: Vec<_> = shipped
        .iter()
        .map(|(it, q)| {
            (
                shipment_items::shipment_id.eq(id.clone()),
                shipment_items::order_item_id.eq(it.id.clone()),
                shipment_items::quantity.eq(*q),
            )
        })
        .collect();
    crate::insert_rows!(conn, shipment_items::table, rows)?;
    let mut by_stock: Vec<_> = shipped.clone();
    by_stock
        .sort_by(|a, b| (&a.0.sku_id, &a.0.warehouse_id).cmp(&(&b.0.sku_id, &b.0.warehouse_id)));
    for (it, q) in by_stock {
        // conditional: two parcels racing for the same item cannot ship more than was ordered
        let n = diesel::update(
            order_items::table
                .filter(order_items::id.eq(&it.id))
                .filter((order_items::shipped_quantity + q).le(order_items::quantity)),
        )
        .set(order_items::shipped_quantity.eq(order_items::shipped_quantity + q))
        .execute(conn)?;
        if n == 0 {
            return Err(ApiError::field("items", "more than remains to ship"));
        }
        inventory::ship(
            conn,
            &it.sku_id,
            &it.warehouse_id,
            q,
            &it.order_id,
            Some(actor_id),
        )?;
    }
    // the fulfilment and the order follow what is left to ship
    let items = orders::items_of(conn, &fulfilment.order_id)?;
    let left_here = items
        .iter()
        .filter(|it| it.fulfilment_id == fulfilment.id)
        .any(|it| it.shipped_quantity < it.quantity);
    let to = if left_here {
        FulfilmentStatus::PartiallyShipped
    } else {
        FulfilmentStatus::Shipped
    };
    from.transition(to)?;
    diesel::update(fulfilments::table.find(&fulfilment.id))
        .set((
            fulfilments::status.eq(to.as_str()),
            fulfilments::updated_at.eq(now),
        ))
        .execute(conn)?;
    let all = orders::fulfilments_of(conn, &fulfilment.order_id)?;
    let open: Vec<_> = all
        .iter()
        .filter(|f| f.status() != FulfilmentStatus::Cancelled)
        .collect();
    let all_shipped = open.iter().all(|f| {
        matches!(
            f.status(),
            FulfilmentStatus::Shipped | FulfilmentStatus::Delivered
        )
    });
    let order = orders::find(conn, &fulfilment.order_id)?.ok_or(ApiError::NotFound)?;
    let target = if all_shipped {
        OrderStatus::Shipped
    } else {
        OrderStatus::PartiallyShipped
    };
    let moved = order.status() == target && target == OrderStatus::Shipped
        || orders::set_status(conn, &order.id, order.status(), target)?;
    if !moved {
        return Err(ApiError::Conflict(
            "the order changed meanwhile; try again".into(),
        ));
    }
    Ok(id)
}

#[derive(Debug, Clone, Queryable)]
pub struct ShipmentRow {
    pub id: String,
    pub fulfilment_id: String,
    pub order_id: String,
    pub cooperative_id: String,
    pub storage: String,
    pub status: String,
}

pub fn find_shipment(conn: &mut DbConn, id: &str) -> Result<Option<ShipmentRow>, ApiError> {
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
) -> Result<String, ApiError> {
    if shipment.status == ShipmentStatus::Delivered.as_str() {
        return Err(ApiError::InvalidState(
            "the parcel is already delivered".into(),
        ));
    }
    let storage = Storage::parse(&shipment.storage).unwrap_or(Storage::Ambient);
    let excursion = e
        .temperature_celsius
        .is_some_and(|t| is_excursion(storage, t));
    let id = db::new_id();
    let now = db::now();
    diesel::insert_into(shipment_events::table)
        .values((
            shipment_events::id.eq(&id),
            shipment_events::shipment_id.eq(&shipment.id),
            shipment_events::status.eq(e.status.as_str()),
            shipment_events::occurred_at.eq(e.occurred_at),
            shipment_events::location.eq(&e.location),
            shipment_events::note.eq(&e.note),
            shipment_events::temperature_celsius.eq(e.temperature_celsius),
            shipment_events::excursion.eq(excursion),
            shipment_events::created_at.eq(now),
        ))
        .execute(conn)?;
    let delivered = e.status == ShipmentStatus::Delivered;
    diesel::update(shipments::table.find(&shipment.id))
        .set((
            shipments::status.eq(e.status.as_str()),
            shipments::excursions.eq(shipments::excursions + i32::from(excursion)),
            shipments::delivered_at.eq(delivered.then_some(e.occurred_at)),
            shipments::updated_at.eq(now),
        ))
        .execute(conn)?;
    if delivered {
        deliver_if_complete(conn, &shipment.order_id)?;
    }
    Ok(id)
}

/// A fulfilment is delivered once all of it shipped and every parcel arrived; the order once
/// every fulfilment is.
fn deliver_if_complete(conn: &mut DbConn, order_id: &str) -> Result<(), ApiError> {
    let parcels: Vec<(String, String)> = shipments::table
        .filter(shipments::order_id.eq(order_id))
        .select((shipments::fulfilment_id, shipments::status))
        .load(conn)?;
    for f in orders::fulfilments_of(conn, order_id)? {
        let arrived = parcels
            .iter()
            .filter(|(fid, _)| *fid == f.id)
            .all(|(_, s)| s == ShipmentStatus::Delivered.as_str());
        if f.status() == FulfilmentStatus::Shipped && arrived {
            f.status().transition(FulfilmentStatus::Delivered)?;
            diesel::update(
                fulfilments::table
                    .find(&f.id)
                    .filter(fulfilments::status.eq(FulfilmentStatus::Shipped.as_str())),
            )
            .set((
                fulfilments::status.eq(FulfilmentStatus::Delivered.as_str()),
                fulfilments::updated_at.eq(db::now()),
            ))
            .execute(conn)?;
        }
    }
    let all = orders::fulfilments_of(conn, order_id)?;
    let done = all
        .iter()
        .filter(|f| f.status() != FulfilmentStatus::Cancelled)
        .all(|f| f.status() == FulfilmentStatus::Delivered);
    let order = orders::find(conn, order_id)?.ok_or(ApiError::NotFound)?;
    if done && order.status() == OrderStatus::Shipped {
        orders::set_status(conn, order_id, OrderStatus::Shipped, OrderStatus::Delivered)?;
    }
    Ok(())
}
