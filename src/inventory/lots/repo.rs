//! Lot queries and the conditional updates every lot change goes through. A lot's counts move
//! together with its stock row's (the row stays the sum of its lots), inside the caller's
//! transaction, and always after the stock row: the stock row's lock orders every writer of
//! one SKU's lots, so no two transactions wait on each other's lots.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{date_text, LotHold, LotOption, LotStatus};
use crate::db::schema::{lot_allocations, lots, products, shipment_lots, skus, warehouses};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::http::pagination::{Page, Paginated};
use crate::ids::{CooperativeId, LotId, OrderId, OrderItemId, ShipmentId, SkuId, WarehouseId};
use crate::inventory::domain::MAX_ON_HAND;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lots)]
pub struct LotRow {
    pub id: LotId,
    pub cooperative_id: CooperativeId,
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub code: String,
    pub harvested_on: Option<String>,
    pub packed_on: String,
    pub best_before: String,
    pub origin: Option<String>,
    pub certificate_no: Option<String>,
    pub received_quantity: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub status: LotHold,
    pub hold_reason: Option<String>,
    pub trace_code: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What receiving a lot needs to know about its SKU.
#[derive(Debug, Clone, Queryable)]
pub struct SkuFacts {
    pub cooperative_id: CooperativeId,
    pub lot_tracked: bool,
    pub shelf_life_days: Option<i32>,
}

pub fn sku_facts(conn: &mut DbConn, sku_id: SkuId) -> Result<Option<SkuFacts>, ApiError> {
    Ok(skus::table
        .inner_join(products::table)
        .filter(skus::id.eq(sku_id))
        .select((
            skus::cooperative_id,
            skus::lot_tracked,
            products::shelf_life_days,
        ))
        .first(conn)
        .optional()?)
}

/// Which of these SKUs keep their stock in lots.
pub fn lot_tracked(conn: &mut DbConn, sku_ids: &[SkuId]) -> Result<Vec<SkuId>, ApiError> {
    Ok(skus::table
        .filter(skus::id.eq_any(sku_ids))
        .filter(skus::lot_tracked.eq(true))
        .select(skus::id)
        .load(conn)?)
}

pub struct NewLot<'a> {
    pub id: LotId,
    pub cooperative_id: CooperativeId,
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub code: &'a str,
    pub harvested_on: Option<String>,
    pub packed_on: String,
    pub best_before: String,
    pub origin: Option<&'a str>,
    pub certificate_no: Option<&'a str>,
    pub quantity: i64,
    pub trace_code: String,
}

/// Inserts a received lot; a code already used for the SKU is 409.
pub fn insert(conn: &mut DbConn, l: &NewLot<'_>) -> Result<(), ApiError> {
    let now = db::now();
    diesel::insert_into(lots::table)
        .values((
            lots::id.eq(l.id),
            lots::cooperative_id.eq(l.cooperative_id),
            lots::sku_id.eq(l.sku_id),
            lots::warehouse_id.eq(l.warehouse_id),
            lots::code.eq(l.code),
            lots::harvested_on.eq(&l.harvested_on),
            lots::packed_on.eq(&l.packed_on),
            lots::best_before.eq(&l.best_before),
            lots::origin.eq(l.origin),
            lots::certificate_no.eq(l.certificate_no),
            lots::received_quantity.eq(l.quantity),
            lots::on_hand.eq(l.quantity),
            lots::reserved.eq(0_i64),
            lots::status.eq(LotHold::Active),
            lots::trace_code.eq(&l.trace_code),
            lots::version.eq(1_i64),
            lots::created_at.eq(now),
            lots::updated_at.eq(now),
        ))
        .execute(conn)
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => ApiError::ConflictWith {
                detail: "This SKU already has a lot with this code.".into(),
                errors: vec![crate::http::error::FieldError::new(
                    "code",
                    "is already used for this SKU",
                )],
            },
            other => other,
        })?;
    Ok(())
}

pub fn get(conn: &mut DbConn, id: LotId) -> Result<Option<LotRow>, ApiError> {
    Ok(lots::table
        .find(id)
        .select(LotRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_trace_code(conn: &mut DbConn, code: &str) -> Result<Option<LotRow>, ApiError> {
    Ok(lots::table
        .filter(lots::trace_code.eq(code))
        .select(LotRow::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Debug, Clone, Default)]
pub struct LotFilter {
    pub sku_id: Option<SkuId>,
    pub warehouse_id: Option<WarehouseId>,
    pub status: Option<LotStatus>,
    /// Lots with units left whose last day is between today and today + n.
    pub expiring_within_days: Option<i64>,
}

/// A co-op's lots, earliest `best_before` first.
pub fn list(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    filter: &LotFilter,
    today: chrono::NaiveDate,
    page: &Page,
) -> Result<Paginated<LotRow>, ApiError> {
    let today_text = date_text(today);
    let mut q = lots::table
        .filter(lots::cooperative_id.eq(cooperative_id))
        .select(LotRow::as_select())
        .order((lots::best_before.asc(), lots::id.asc()))
        .into_boxed();
    if let Some(s) = filter.sku_id {
        q = q.filter(lots::sku_id.eq(s));
    }
    if let Some(w) = filter.warehouse_id {
        q = q.filter(lots::warehouse_id.eq(w));
    }
    // the same precedence as `LotStatus::of`: held, then depleted, then expired
    q = match filter.status {
        None => q,
        Some(LotStatus::Held) => q.filter(lots::status.eq(LotHold::Held)),
        Some(LotStatus::Depleted) => q
            .filter(lots::status.eq(LotHold::Active))
            .filter(lots::on_hand.le(0_i64)),
        Some(LotStatus::Expired) => q
            .filter(lots::status.eq(LotHold::Active))
            .filter(lots::on_hand.gt(0_i64))
            .filter(lots::best_before.lt(today_text.clone())),
        Some(LotStatus::Active) => q
            .filter(lots::status.eq(LotHold::Active))
            .filter(lots::on_hand.gt(0_i64))
            .filter(lots::best_before.ge(today_text.clone())),
    };
    if let Some(days) = filter.expiring_within_days {
        let last = date_text(today + chrono::Duration::days(days));
        q = q
            .filter(lots::on_hand.gt(0_i64))
            .filter(lots::best_before.ge(today_text))
            .filter(lots::best_before.le(last));
    }
    if let Some(after) = &page.after {
        let [bb, id] = <[String; 2]>::try_from(after.clone())
            .map_err(|_| ApiError::field("cursor", "is not a valid cursor"))?;
        q = q.filter(
            lots::best_before
                .gt(bb.clone())
                .or(lots::best_before.eq(bb).and(lots::id.gt(id))),
        );
    }
    let rows = crate::db::prepared::load_limited(conn, q, page.fetch_limit(), false)?;
    Ok(page.finish(rows, |r| vec![r.best_before.clone(), r.id.to_string()]))
}

/// Adds `delta` to a lot's `on_hand` unless that leaves less than it has reserved (or more
/// than a stock row may hold); false when it would.
pub fn apply_delta(conn: &mut DbConn, id: LotId, delta: i64) -> Result<bool, ApiError> {
    let n = diesel::update(
        lots::table
            .filter(lots::id.eq(id))
            .filter((lots::on_hand + delta).ge(lots::reserved))
            .filter((lots::on_hand + delta).le(MAX_ON_HAND)),
    )
    .set((
        lots::on_hand.eq(lots::on_hand + delta),
        lots::version.eq(lots::version + 1),
        lots::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Holds or releases a lot if it is still `from`; false when it is not.
pub fn set_hold(
    conn: &mut DbConn,
    id: LotId,
    from: LotHold,
    to: LotHold,
    reason: Option<&str>,
) -> Result<bool, ApiError> {
    let n = diesel::update(
        lots::table
            .filter(lots::id.eq(id))
            .filter(lots::status.eq(from)),
    )
    .set((
        lots::status.eq(to),
        lots::hold_reason.eq(reason),
        lots::version.eq(lots::version + 1),
        lots::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Lots of these SKUs an order could draw from: active, units left, last day on or after
/// `not_before`; FEFO order within each (SKU, warehouse), with each warehouse's cold flag.
pub fn sellable(
    conn: &mut DbConn,
    sku_ids: &[SkuId],
    not_before: &str,
) -> Result<Vec<(LotOption, bool)>, ApiError> {
    let query = lots::table
        .inner_join(warehouses::table)
        .filter(lots::status.eq(LotHold::Active))
        .filter(lots::best_before.ge(not_before))
        .filter(lots::on_hand.gt(lots::reserved))
        .select((
            lots::id,
            lots::sku_id,
            lots::warehouse_id,
            lots::code,
            lots::best_before,
            lots::on_hand,
            lots::reserved,
            warehouses::cold_storage,
        ))
        .order((
            lots::sku_id.asc(),
            lots::warehouse_id.asc(),
            lots::best_before.asc(),
            lots::id.asc(),
        ))
        .into_boxed();
    let query = crate::filter_ids!(query, lots::sku_id, sku_ids);
    #[allow(clippy::type_complexity)]
    let rows: Vec<(LotId, SkuId, WarehouseId, String, String, i64, i64, bool)> =
        crate::db::prepared::load_listed(conn, query, sku_ids.len())?;
    Ok(rows
        .into_iter()
        .map(
            |(id, sku_id, warehouse_id, code, best_before, on_hand, reserved, cold)| {
                (
                    LotOption {
                        id,
                        sku_id,
                        warehouse_id,
                        code,
                        best_before,
                        available: on_hand - reserved,
                    },
                    cold,
                )
            },
        )
        .collect())
}

/// Reserves `quantity` of a lot if it is still sellable to this order and has them.
pub fn reserve(
    conn: &mut DbConn,
    id: LotId,
    quantity: i64,
    not_before: &str,
) -> Result<bool, ApiError> {
    let n = diesel::update(
        lots::table
            .filter(lots::id.eq(id))
            .filter(lots::status.eq(LotHold::Active))
            .filter(lots::best_before.ge(not_before))
            .filter((lots::on_hand - lots::reserved).ge(quantity)),
    )
    .set((
        lots::reserved.eq(lots::reserved + quantity),
        lots::version.eq(lots::version + 1),
        lots::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// One order item's hold on one lot.
#[derive(Debug, Clone, Copy)]
pub struct Allocation {
    pub order_item_id: OrderItemId,
    pub lot_id: LotId,
    pub order_id: OrderId,
    pub quantity: i64,
}

pub fn insert_allocations(conn: &mut DbConn, rows: &[Allocation]) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<_> = rows
        .iter()
        .map(|a| {
            (
                lot_allocations::order_item_id.eq(a.order_item_id),
                lot_allocations::lot_id.eq(a.lot_id),
                lot_allocations::order_id.eq(a.order_id),
                lot_allocations::quantity.eq(a.quantity),
                lot_allocations::shipped_quantity.eq(0_i64),
                lot_allocations::released_quantity.eq(0_i64),
            )
        })
        .collect();
    crate::insert_rows!(conn, lot_allocations::table, values)?;
    Ok(())
}

/// Replaces what an order item records as reserved in lots (placement, when another order
/// took a lot the plan counted on).
pub fn replace_allocations(
    conn: &mut DbConn,
    item: OrderItemId,
    rows: &[Allocation],
) -> Result<(), ApiError> {
    diesel::delete(lot_allocations::table.filter(lot_allocations::order_item_id.eq(item)))
        .execute(conn)?;
    insert_allocations(conn, rows)
}

/// An allocation with units still held (neither shipped nor released), with its lot's
/// identity for lock order and views.
#[derive(Debug, Clone, Queryable)]
pub struct OpenAllocation {
    pub order_item_id: OrderItemId,
    pub lot_id: LotId,
    pub open: i64,
}

/// Open allocations of an order (or of one item), in the lock order placement uses.
pub fn open_allocations(
    conn: &mut DbConn,
    order_id: OrderId,
    item: Option<OrderItemId>,
) -> Result<Vec<OpenAllocation>, ApiError> {
    let mut q = lot_allocations::table
        .inner_join(lots::table)
        .filter(lot_allocations::order_id.eq(order_id))
        .filter(
            (lot_allocations::shipped_quantity + lot_allocations::released_quantity)
                .lt(lot_allocations::quantity),
        )
        .select((
            lot_allocations::order_item_id,
            lot_allocations::lot_id,
            lot_allocations::quantity
                - lot_allocations::shipped_quantity
                - lot_allocations::released_quantity,
        ))
        .order((
            lots::sku_id.asc(),
            lots::warehouse_id.asc(),
            lots::best_before.asc(),
            lots::id.asc(),
        ))
        .into_boxed();
    if let Some(i) = item {
        q = q.filter(lot_allocations::order_item_id.eq(i));
    }
    Ok(q.load(conn)?)
}

/// What becomes of units an allocation held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Released,
    Shipped,
}

/// Ends `quantity` of an allocation's open units: the lot's `reserved` drops (and `on_hand`
/// too when they ship), and the allocation counts them released or shipped. Either update
/// finding less than it needs is a bug, not a user error.
fn settle(
    conn: &mut DbConn,
    a: &OpenAllocation,
    quantity: i64,
    outcome: Outcome,
) -> Result<(), ApiError> {
    let leaving = if outcome == Outcome::Shipped {
        quantity
    } else {
        0
    };
    let n = diesel::update(
        lots::table
            .filter(lots::id.eq(a.lot_id))
            .filter(lots::reserved.ge(quantity)),
    )
    .set((
        lots::on_hand.eq(lots::on_hand - leaving),
        lots::reserved.eq(lots::reserved - quantity),
        lots::version.eq(lots::version + 1),
        lots::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    let this = lot_allocations::table
        .filter(lot_allocations::order_item_id.eq(a.order_item_id))
        .filter(lot_allocations::lot_id.eq(a.lot_id))
        .filter(
            (lot_allocations::shipped_quantity + lot_allocations::released_quantity + quantity)
                .le(lot_allocations::quantity),
        );
    let m = match outcome {
        Outcome::Released => diesel::update(this)
            .set(
                lot_allocations::released_quantity
                    .eq(lot_allocations::released_quantity + quantity),
            )
            .execute(conn)?,
        Outcome::Shipped => diesel::update(this)
            .set(lot_allocations::shipped_quantity.eq(lot_allocations::shipped_quantity + quantity))
            .execute(conn)?,
    };
    if n == 1 && m == 1 {
        Ok(())
    } else {
        Err(ApiError::internal(format!(
            "{outcome:?} {quantity} of lot {} exceeds what it holds for the item",
            a.lot_id
        )))
    }
}

/// Gives back `quantity` of an allocation's open units to its lot.
pub fn release(conn: &mut DbConn, a: &OpenAllocation, quantity: i64) -> Result<(), ApiError> {
    settle(conn, a, quantity, Outcome::Released)
}

/// Ships `quantity` of an allocation's open units and records which lot the parcel carried
/// them from.
pub fn ship(
    conn: &mut DbConn,
    a: &OpenAllocation,
    quantity: i64,
    shipment_id: ShipmentId,
) -> Result<(), ApiError> {
    settle(conn, a, quantity, Outcome::Shipped)?;
    diesel::insert_into(shipment_lots::table)
        .values((
            shipment_lots::shipment_id.eq(shipment_id),
            shipment_lots::order_item_id.eq(a.order_item_id),
            shipment_lots::lot_id.eq(a.lot_id),
            shipment_lots::quantity.eq(quantity),
        ))
        .execute(conn)?;
    Ok(())
}

/// The lots each of these order items reserved: (item, lot, code, best_before, quantity).
pub type ItemLotRow = (OrderItemId, LotId, String, String, i64);

pub fn lots_of_items(
    conn: &mut DbConn,
    items: &[OrderItemId],
) -> Result<Vec<ItemLotRow>, ApiError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    Ok(lot_allocations::table
        .inner_join(lots::table)
        .filter(lot_allocations::order_item_id.eq_any(items))
        .select((
            lot_allocations::order_item_id,
            lots::id,
            lots::code,
            lots::best_before,
            lot_allocations::quantity,
        ))
        .order((lots::best_before.asc(), lots::id.asc()))
        .load(conn)?)
}

/// The lots each parcel carried: (shipment, item, lot, code, best_before, quantity).
pub type ShipmentLotRow = (ShipmentId, OrderItemId, LotId, String, String, i64);

pub fn lots_of_shipments(
    conn: &mut DbConn,
    shipments: &[ShipmentId],
) -> Result<Vec<ShipmentLotRow>, ApiError> {
    if shipments.is_empty() {
        return Ok(Vec::new());
    }
    Ok(shipment_lots::table
        .inner_join(lots::table)
        .filter(shipment_lots::shipment_id.eq_any(shipments))
        .select((
            shipment_lots::shipment_id,
            shipment_lots::order_item_id,
            lots::id,
            lots::code,
            lots::best_before,
            shipment_lots::quantity,
        ))
        .order((lots::best_before.asc(), lots::id.asc()))
        .load(conn)?)
}

/// Sellable units now of lot-tracked SKUs (active lots whose last day is today or later).
pub fn available_now(
    conn: &mut DbConn,
    sku_ids: &[SkuId],
    today: &str,
) -> Result<Vec<(SkuId, i64)>, ApiError> {
    let rows: Vec<(SkuId, i64, i64)> = lots::table
        .filter(lots::sku_id.eq_any(sku_ids))
        .filter(lots::status.eq(LotHold::Active))
        .filter(lots::best_before.ge(today))
        .filter(lots::on_hand.gt(lots::reserved))
        .select((lots::sku_id, lots::on_hand, lots::reserved))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(s, on_hand, reserved)| (s, on_hand - reserved))
        .collect())
}

/// Per SKU, the dates of the lot first-expired-first-out sells next: the earliest
/// `best_before` among active lots still in date on `today` with units available.
pub fn next_to_sell(
    conn: &mut DbConn,
    sku_ids: &[SkuId],
    today: &str,
) -> Result<std::collections::HashMap<SkuId, (String, Option<String>)>, ApiError> {
    let rows: Vec<(SkuId, String, Option<String>)> = lots::table
        .filter(lots::sku_id.eq_any(sku_ids))
        .filter(lots::status.eq(LotHold::Active))
        .filter(lots::best_before.ge(today))
        .filter(lots::on_hand.gt(lots::reserved))
        .order((lots::sku_id.asc(), lots::best_before.asc()))
        .select((lots::sku_id, lots::best_before, lots::harvested_on))
        .load(conn)?;
    let mut out = std::collections::HashMap::new();
    for (sku, best_before, harvested_on) in rows {
        out.entry(sku).or_insert((best_before, harvested_on));
    }
    Ok(out)
}
