//! What an order looks like to each reader: the buyer (and their organization and admins) see
//! all of it; a co-op sees only its own fulfilments and items.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::domain::{Address, FulfilmentStatus, OrderStatus, PaymentStatus, RefundKind};
use super::repo::{self, FulfilmentRow, ItemRow, OrderRow};
use crate::auth::AuthUser;
use crate::catalogue::{Pricing, Storage};
use crate::cooperatives;
use crate::db::schema::fulfilments;
use crate::db::{self, DbConn};
use crate::fulfilment::domain::ShipmentStatus;
use crate::http::error::ApiError;
use crate::ids::{
    CooperativeId, FulfilmentId, LotId, OrderId, OrderItemId, OrganizationId, RefundId,
    ShipmentEventId, ShipmentId, SkuId, UserId, WarehouseId,
};
use crate::inventory;
use crate::money::Money;
use crate::organizations::organization_role;

/// Units of one lot an item holds (or a parcel carried).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemLot {
    pub lot_id: LotId,
    pub code: String,
    #[schema(format = Date)]
    pub best_before: String,
    pub quantity: i64,
}

/// The lots each order item reserved, earliest first (empty for untracked SKUs).
pub type ItemLots = HashMap<OrderItemId, Vec<ItemLot>>;

/// The lots of these items, in one statement.
pub fn item_lots(conn: &mut DbConn, items: &[ItemRow]) -> Result<ItemLots, ApiError> {
    let ids: Vec<OrderItemId> = items.iter().map(|i| i.id).collect();
    let mut map = ItemLots::new();
    for (item, lot_id, code, best_before, quantity) in
        inventory::lots::repo::lots_of_items(conn, &ids)?
    {
        map.entry(item).or_default().push(ItemLot {
            lot_id,
            code,
            best_before,
            quantity,
        });
    }
    Ok(map)
}

fn lots_for(lots: &ItemLots, item: OrderItemId) -> Vec<ItemLot> {
    lots.get(&item).cloned().unwrap_or_default()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub id: OrderItemId,
    pub sku_id: SkuId,
    pub sku_code: String,
    pub product_name: String,
    pub sku_name: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    pub cooperative_id: CooperativeId,
    pub warehouse_id: WarehouseId,
    pub fulfilment_id: FulfilmentId,
    pub shipped_quantity: i64,
    /// The lots reserved for this item, first-expired-first-out (lot-tracked SKUs).
    pub lots: Vec<ItemLot>,
    /// `per_kg`: charged at the nominal weight, settled on the packed weight.
    pub pricing: Pricing,
    /// One piece's nominal weight.
    pub nominal_weight_grams: i64,
    /// The rate per kilogram a weighed line was sold at.
    pub kg_price: Option<Money>,
    /// What the line comes to after weight adjustments (the lower of what was charged and
    /// the packed weight's price).
    pub final_total: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FulfilmentItemView {
    pub order_item_id: OrderItemId,
    pub sku_id: SkuId,
    pub sku_code: String,
    pub product_name: String,
    pub quantity: i64,
    pub shipped_quantity: i64,
    /// The lots reserved for this item, first-expired-first-out (lot-tracked SKUs).
    pub lots: Vec<ItemLot>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentItemView {
    pub order_item_id: OrderItemId,
    pub quantity: i64,
    /// The packed weight of these units, when the co-op weighed them.
    pub actual_weight_grams: Option<i64>,
    /// The lots the units came from (lot-tracked SKUs).
    pub lots: Vec<ItemLot>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: ShipmentEventId,
    pub status: ShipmentStatus,
    pub occurred_at: DateTime<Utc>,
    pub location: Option<String>,
    pub note: Option<String>,
    pub temperature_celsius: Option<f64>,
    /// A cold-chain reading outside the storage class's range.
    pub excursion: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    pub id: ShipmentId,
    pub fulfilment_id: FulfilmentId,
    pub order_id: OrderId,
    pub carrier: String,
    pub tracking_number: String,
    pub cold_chain: bool,
    pub storage: Storage,
    pub status: ShipmentStatus,
    /// Readings outside the storage class's range so far.
    pub excursions: i32,
    pub items: Vec<ShipmentItemView>,
    pub events: Vec<EventView>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FulfilmentView {
    pub id: FulfilmentId,
    pub order_id: OrderId,
    pub order_number: String,
    pub cooperative_id: CooperativeId,
    pub warehouse_id: WarehouseId,
    pub status: FulfilmentStatus,
    pub storage: Storage,
    pub shipping_fee: Money,
    pub items: Vec<FulfilmentItemView>,
    pub shipments: Vec<ShipmentView>,
    pub shipping_address: Address,
    pub created_at: DateTime<Utc>,
    /// Net weight of the goods, in grams
    pub weight_grams: i64,
    /// The date the co-op's truck takes the goods, `YYYY-MM-DD` (China time)
    #[schema(format = Date)]
    pub ship_by: Option<String>,
    /// `ship_by` plus the shipping rate's transit days
    #[schema(format = Date)]
    pub estimated_delivery: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: OrderId,
    pub number: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub buyer_id: UserId,
    pub organization_id: Option<OrganizationId>,
    pub items: Vec<ItemView>,
    pub subtotal: Money,
    pub shipping_fee: Money,
    pub total: Money,
    pub currency: &'static str,
    pub shipping_address: Address,
    pub buyer_note: Option<String>,
    pub purchase_order_number: Option<String>,
    pub cancel_reason: Option<String>,
    pub fulfilments: Vec<FulfilmentView>,
    pub refunds: Vec<RefundView>,
    /// Given back so far; `subtotal` and `total` stay what was charged.
    pub refunded_total: Money,
    pub payment_due_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How much of an order a reader may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Whole,
    /// Only these co-ops' fulfilments and items.
    Cooperatives(Vec<CooperativeId>),
}

/// The reader's scope, or 404 when the order is none of their business.
pub fn scope_for(conn: &mut DbConn, user: &AuthUser, order: &OrderRow) -> Result<Scope, ApiError> {
    if user.is_admin() || order.buyer_id == user.id {
        return Ok(Scope::Whole);
    }
    if let Some(org) = order.organization_id {
        if organization_role(conn, user, org)?.is_some() {
            return Ok(Scope::Whole);
        }
    }
    let mut coops: Vec<CooperativeId> = fulfilments::table
        .filter(fulfilments::order_id.eq(order.id))
        .select(fulfilments::cooperative_id)
        .load(conn)?;
    coops.sort();
    coops.dedup();
    let involved = cooperatives::access::member_of(conn, user.id, &coops)?;
    if involved.is_empty() {
        Err(ApiError::NotFound)
    } else {
        Ok(Scope::Cooperatives(involved))
    }
}

fn utc_opt(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(db::utc)
}

/// Parcels are fulfilment's and refunds payments': order views carry them in the shapes
/// above but never read those tables. The app wiring hands every handler the later domains'
/// queries through this port.
#[derive(Clone, Copy)]
pub struct Parcels {
    pub shipments: fn(&mut DbConn, &[FulfilmentId]) -> Result<Vec<ShipmentView>, ApiError>,
    pub refunds: fn(&mut DbConn, &[OrderId]) -> Result<Vec<RefundView>, ApiError>,
}

impl Parcels {
    pub fn of(
        self,
        conn: &mut DbConn,
        fulfilments: &[FulfilmentId],
    ) -> Result<Vec<ShipmentView>, ApiError> {
        (self.shipments)(conn, fulfilments)
    }

    pub fn refunds_of(
        self,
        conn: &mut DbConn,
        orders: &[OrderId],
    ) -> Result<Vec<RefundView>, ApiError> {
        (self.refunds)(conn, orders)
    }
}

/// Money given back on an order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefundView {
    pub id: RefundId,
    #[serde(skip)]
    pub order_id: OrderId,
    pub kind: RefundKind,
    pub amount: Money,
    pub reason: String,
    /// Whose goods it refunds (none for a whole-order cancellation).
    pub cooperative_id: Option<CooperativeId>,
    pub created_at: DateTime<Utc>,
}

pub fn address_of(order: &OrderRow) -> Result<Address, ApiError> {
    serde_json::from_str(&order.shipping_address)
        .map_err(|e| ApiError::internal(format!("stored address: {e}")))
}

/// Fulfilment views from rows already in hand (no queries).
pub fn assemble_fulfilments(
    order: &OrderRow,
    fulfilments: Vec<FulfilmentRow>,
    items: &[ItemRow],
    mut shipments: Vec<ShipmentView>,
    lots: &ItemLots,
) -> Result<Vec<FulfilmentView>, ApiError> {
    let address = address_of(order)?;
    Ok(fulfilments
        .into_iter()
        .map(|f| {
            let mine: Vec<ShipmentView>;
            (mine, shipments) = shipments.drain(..).partition(|s| s.fulfilment_id == f.id);
            FulfilmentView {
                status: f.status,
                storage: f.storage,
                items: items
                    .iter()
                    .filter(|i| i.fulfilment_id == f.id)
                    .map(|i| FulfilmentItemView {
                        order_item_id: i.id,
                        sku_id: i.sku_id,
                        sku_code: i.sku_code.clone(),
                        product_name: i.product_name.clone(),
                        quantity: i.quantity,
                        shipped_quantity: i.shipped_quantity,
                        lots: lots_for(lots, i.id),
                    })
                    .collect(),
                shipments: mine,
                shipping_address: address.clone(),
                shipping_fee: Money::from_fen(f.shipping_fee),
                created_at: db::utc(f.created_at),
                weight_grams: f.weight_grams,
                ship_by: f.ship_by,
                estimated_delivery: f.estimated_delivery,
                order_number: order.number.clone(),
                id: f.id,
                order_id: f.order_id,
                cooperative_id: f.cooperative_id,
                warehouse_id: f.warehouse_id,
            }
        })
        .collect())
}

/// The order as `scope` may see it.
pub fn order_view(
    conn: &mut DbConn,
    parcels: Parcels,
    order: OrderRow,
    scope: &Scope,
) -> Result<OrderView, ApiError> {
    let mut order = order;
    let mut items = repo::items_of(conn, order.id)?;
    let mut fulfilments = repo::fulfilments_of(conn, order.id)?;
    if let Scope::Cooperatives(coops) = scope {
        items.retain(|i| coops.contains(&i.cooperative_id));
        fulfilments.retain(|f| coops.contains(&f.cooperative_id));
        // a co-op sees the money of its own part only: its goods, its parcels' fees
        order.subtotal = items.iter().map(|i| i.line_total).sum();
        order.shipping_fee = fulfilments.iter().map(|f| f.shipping_fee).sum();
        order.total = order.subtotal + order.shipping_fee;
    }
    let ids: Vec<FulfilmentId> = fulfilments.iter().map(|f| f.id).collect();
    let shipments = parcels.of(conn, &ids)?;
    let lots = item_lots(conn, &items)?;
    let mut refunds = parcels.refunds_of(conn, &[order.id])?;
    if let Scope::Cooperatives(coops) = scope {
        refunds.retain(|r| r.cooperative_id.is_some_and(|c| coops.contains(&c)));
        order.refunded_total = refunds.iter().map(|r| r.amount.fen()).sum();
    }
    let fulfilment_views = assemble_fulfilments(&order, fulfilments, &items, shipments, &lots)?;
    assemble_order(order, items, fulfilment_views, &lots, refunds)
}

/// Whole views of a page of orders in a fixed number of statements (items, fulfilments and
/// the parcels' three), not a handful per order.
pub fn order_views(
    conn: &mut DbConn,
    parcels: Parcels,
    orders: Vec<OrderRow>,
) -> Result<Vec<OrderView>, ApiError> {
    let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
    let items = repo::items_of_orders(conn, &ids)?;
    let fulfilments = repo::fulfilments_of_orders(conn, &ids)?;
    let fids: Vec<FulfilmentId> = fulfilments.iter().map(|f| f.id).collect();
    let mut shipments = parcels.of(conn, &fids)?;
    let lots = item_lots(conn, &items)?;
    let mut refunds = parcels.refunds_of(conn, &ids)?;
    let mut out = Vec::with_capacity(orders.len());
    for order in orders {
        let mine: Vec<ItemRow> = items
            .iter()
            .filter(|i| i.order_id == order.id)
            .cloned()
            .collect();
        let fs: Vec<FulfilmentRow> = fulfilments
            .iter()
            .filter(|f| f.order_id == order.id)
            .cloned()
            .collect();
        let parcels: Vec<ShipmentView>;
        (parcels, shipments) = shipments.drain(..).partition(|s| s.order_id == order.id);
        let views = assemble_fulfilments(&order, fs, &mine, parcels, &lots)?;
        let theirs: Vec<RefundView>;
        (theirs, refunds) = refunds.drain(..).partition(|r| r.order_id == order.id);
        out.push(assemble_order(order, mine, views, &lots, theirs)?);
    }
    Ok(out)
}

/// Views of a page of fulfilments (a co-op's queue) in a fixed number of statements.
pub fn fulfilment_page(
    conn: &mut DbConn,
    parcels: Parcels,
    page: Vec<FulfilmentRow>,
) -> Result<Vec<FulfilmentView>, ApiError> {
    let mut order_ids: Vec<OrderId> = page.iter().map(|f| f.order_id).collect();
    order_ids.sort();
    order_ids.dedup();
    let orders = repo::find_many(conn, &order_ids)?;
    let items = repo::items_of_orders(conn, &order_ids)?;
    let fids: Vec<FulfilmentId> = page.iter().map(|f| f.id).collect();
    let mut shipments = parcels.of(conn, &fids)?;
    let lots = item_lots(conn, &items)?;
    let mut out = Vec::with_capacity(page.len());
    for f in page {
        let order = orders
            .iter()
            .find(|o| o.id == f.order_id)
            .ok_or_else(|| ApiError::internal("fulfilment without its order"))?;
        let mine: Vec<ItemRow> = items
            .iter()
            .filter(|i| i.order_id == order.id)
            .cloned()
            .collect();
        let parcels: Vec<ShipmentView>;
        (parcels, shipments) = shipments.drain(..).partition(|s| s.fulfilment_id == f.id);
        out.extend(assemble_fulfilments(order, vec![f], &mine, parcels, &lots)?);
    }
    Ok(out)
}

/// The view of an order just written, from the rows in hand: a new order has no parcels yet,
/// so placing one costs no read-back queries.
pub fn new_order_view(
    order: OrderRow,
    items: Vec<ItemRow>,
    fulfilments: Vec<FulfilmentRow>,
    lots: &ItemLots,
) -> Result<OrderView, ApiError> {
    let views = assemble_fulfilments(&order, fulfilments, &items, Vec::new(), lots)?;
    assemble_order(order, items, views, lots, Vec::new())
}

fn assemble_order(
    order: OrderRow,
    items: Vec<ItemRow>,
    fulfilment_views: Vec<FulfilmentView>,
    lots: &ItemLots,
    refunds: Vec<RefundView>,
) -> Result<OrderView, ApiError> {
    Ok(OrderView {
        status: order.status,
        payment_status: order.payment_status,
        shipping_address: address_of(&order)?,
        items: items
            .into_iter()
            .map(|i| ItemView {
                id: i.id,
                sku_id: i.sku_id,
                sku_code: i.sku_code,
                product_name: i.product_name,
                sku_name: i.sku_name,
                quantity: i.quantity,
                unit_price: Money::from_fen(i.unit_price),
                line_total: Money::from_fen(i.line_total),
                cooperative_id: i.cooperative_id,
                warehouse_id: i.warehouse_id,
                fulfilment_id: i.fulfilment_id,
                shipped_quantity: i.shipped_quantity,
                lots: lots_for(lots, i.id),
                pricing: i.pricing,
                nominal_weight_grams: i.net_weight_grams,
                kg_price: i.kg_price.map(Money::from_fen),
                final_total: Money::from_fen(i.final_total),
            })
            .collect(),
        refunds,
        refunded_total: Money::from_fen(order.refunded_total),
        subtotal: Money::from_fen(order.subtotal),
        shipping_fee: Money::from_fen(order.shipping_fee),
        total: Money::from_fen(order.total),
        currency: "CNY",
        fulfilments: fulfilment_views,
        payment_due_at: utc_opt(order.payment_due_at),
        paid_at: utc_opt(order.paid_at),
        created_at: db::utc(order.created_at),
        updated_at: db::utc(order.updated_at),
        id: order.id,
        number: order.number,
        buyer_id: order.buyer_id,
        organization_id: order.organization_id,
        buyer_note: order.buyer_note,
        purchase_order_number: order.purchase_order_number,
        cancel_reason: order.cancel_reason,
    })
}
