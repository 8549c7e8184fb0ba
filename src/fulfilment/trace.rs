//! Where a lot went: the parcels that carried it (buyer, dates, the cold chain's readings)
//! and the orders still holding it, and the recall that stops it and names every order it
//! reached. Joins orders' and inventory's tables read-only, in one statement each.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit;
use crate::auth::AuthUser;
use crate::config::PublicUrl;
use crate::cooperatives::require_cooperative_member;
use crate::db::schema::{lot_allocations, orders, shipment_events, shipment_lots, shipments};
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::OptionalJson;
use crate::ids::{LotId, OrderId, OrganizationId, ShipmentId, UserId};
use crate::inventory::lots::domain::{self as lot_rules, LotHold, LotReason};
use crate::inventory::lots::repo as lots;
use crate::inventory::lots::routes::{visible_lot, LotView};

#[derive(Debug, Serialize, ToSchema)]
pub struct Temperature {
    pub min_celsius: Option<f64>,
    pub max_celsius: Option<f64>,
    /// Readings outside the storage class's range.
    pub excursions: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TracedShipment {
    pub shipment_id: ShipmentId,
    pub order_id: OrderId,
    pub order_number: String,
    pub buyer_id: UserId,
    pub organization_id: Option<OrganizationId>,
    /// Units of this lot in the parcel.
    pub quantity: i64,
    pub shipped_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub temperature: Temperature,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TracedReservation {
    pub order_id: OrderId,
    pub order_number: String,
    /// Units of this lot the order holds and has not shipped yet.
    pub quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LotTrace {
    pub lot: LotView,
    pub shipments: Vec<TracedShipment>,
    pub reservations: Vec<TracedReservation>,
}

type ShippedRow = (
    ShipmentId,
    OrderId,
    String,
    UserId,
    Option<OrganizationId>,
    i64,
    NaiveDateTime,
    Option<NaiveDateTime>,
    i32,
);

fn shipments_of(conn: &mut DbConn, lot: LotId) -> ApiResult<Vec<TracedShipment>> {
    let rows: Vec<ShippedRow> = shipment_lots::table
        .inner_join(shipments::table)
        .inner_join(orders::table.on(orders::id.eq(shipments::order_id)))
        .filter(shipment_lots::lot_id.eq(lot))
        .select((
            shipments::id,
            orders::id,
            orders::number,
            orders::buyer_id,
            orders::organization_id,
            shipment_lots::quantity,
            shipments::created_at,
            shipments::delivered_at,
            shipments::excursions,
        ))
        .order((shipments::created_at.asc(), shipments::id.asc()))
        .load(conn)?;
    let ids: Vec<ShipmentId> = rows.iter().map(|r| r.0).collect();
    let readings: Vec<(ShipmentId, Option<f64>)> = shipment_events::table
        .filter(shipment_events::shipment_id.eq_any(&ids))
        .filter(shipment_events::temperature_celsius.is_not_null())
        .select((
            shipment_events::shipment_id,
            shipment_events::temperature_celsius,
        ))
        .load(conn)?;
    // one parcel may carry the lot for several items: one line per parcel
    let mut by_parcel: BTreeMap<(NaiveDateTime, ShipmentId), TracedShipment> = BTreeMap::new();
    for (sid, oid, number, buyer, org, q, at, delivered, excursions) in rows {
        by_parcel
            .entry((at, sid))
            .and_modify(|t| t.quantity += q)
            .or_insert_with(|| TracedShipment {
                shipment_id: sid,
                order_id: oid,
                order_number: number,
                buyer_id: buyer,
                organization_id: org,
                quantity: q,
                shipped_at: db::utc(at),
                delivered_at: delivered.map(db::utc),
                temperature: Temperature {
                    min_celsius: None,
                    max_celsius: None,
                    excursions,
                },
            });
    }
    let mut out: Vec<TracedShipment> = by_parcel.into_values().collect();
    for (sid, t) in readings {
        let (Some(t), Some(s)) = (t, out.iter_mut().find(|s| s.shipment_id == sid)) else {
            continue;
        };
        let temp = &mut s.temperature;
        temp.min_celsius = Some(temp.min_celsius.map_or(t, |m| m.min(t)));
        temp.max_celsius = Some(temp.max_celsius.map_or(t, |m| m.max(t)));
    }
    Ok(out)
}

/// Orders holding units of the lot they have not shipped (cancelled ones released theirs).
fn reservations_of(conn: &mut DbConn, lot: LotId) -> ApiResult<Vec<TracedReservation>> {
    let rows: Vec<(OrderId, String, i64)> = lot_allocations::table
        .inner_join(orders::table)
        .filter(lot_allocations::lot_id.eq(lot))
        .filter(
            (lot_allocations::shipped_quantity + lot_allocations::released_quantity)
                .lt(lot_allocations::quantity),
        )
        .select((
            orders::id,
            orders::number,
            lot_allocations::quantity
                - lot_allocations::shipped_quantity
                - lot_allocations::released_quantity,
        ))
        .order(orders::number.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(order_id, order_number, quantity)| TracedReservation {
            order_id,
            order_number,
            quantity,
        })
        .collect())
}

#[utoipa::path(get, path = "/api/v1/lots/{id}/trace", tag = "lots", security(("bearer" = [])),
    responses((status = 200, body = LotTrace), (status = 404, body = Problem)))]
pub async fn trace(
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<LotId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (lot, shipments, reservations) = blocking::run(&pool, move |conn| {
        let lot = visible_lot(conn, &user, id)?;
        let shipments = shipments_of(conn, id)?;
        let reservations = reservations_of(conn, id)?;
        Ok((lot, shipments, reservations))
    })
    .await?;
    Ok(HttpResponse::Ok().json(LotTrace {
        lot: LotView::new(lot, &public, lot_rules::today()),
        shipments,
        reservations,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedOrder {
    pub order_id: OrderId,
    pub order_number: String,
    pub buyer_id: UserId,
    pub organization_id: Option<OrganizationId>,
    /// Units of the lot the order received or holds.
    pub quantity: i64,
    /// Whether any of them has left the warehouse.
    pub shipped: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecallView {
    pub lot: LotView,
    pub affected_orders: Vec<AffectedOrder>,
}

/// (order, number, buyer, organization, units shipped or still held, units shipped)
type ReachedRow = (OrderId, String, UserId, Option<OrganizationId>, i64, i64);

/// Every order the lot reached or is about to reach: units shipped or still held
/// (what a cancellation released does not count).
fn affected_orders(conn: &mut DbConn, lot: LotId) -> ApiResult<Vec<AffectedOrder>> {
    let rows: Vec<ReachedRow> = lot_allocations::table
        .inner_join(orders::table)
        .filter(lot_allocations::lot_id.eq(lot))
        .select((
            orders::id,
            orders::number,
            orders::buyer_id,
            orders::organization_id,
            lot_allocations::quantity - lot_allocations::released_quantity,
            lot_allocations::shipped_quantity,
        ))
        .order(orders::number.asc())
        .load(conn)?;
    let mut out: Vec<AffectedOrder> = Vec::new();
    for (order_id, number, buyer, org, reached, shipped) in rows {
        if reached <= 0 {
            continue;
        }
        match out.iter_mut().find(|a| a.order_id == order_id) {
            Some(a) => {
                a.quantity += reached;
                a.shipped |= shipped > 0;
            }
            None => out.push(AffectedOrder {
                order_id,
                order_number: number,
                buyer_id: buyer,
                organization_id: org,
                quantity: reached,
                shipped: shipped > 0,
            }),
        }
    }
    Ok(out)
}

#[utoipa::path(post, path = "/api/v1/lots/{id}/recall", tag = "lots", request_body = LotReason,
    security(("bearer" = [])),
    responses((status = 200, body = RecallView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn recall(
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<LotId>,
    body: OptionalJson<LotReason>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let reason = body.0.check()?;
    let (lot, affected) = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let lot = visible_lot(conn, &user, id)?;
            require_cooperative_member(conn, &user, lot.cooperative_id, true)?;
            crate::inventory::lots::move_hold(conn, &lot, LotHold::Held, reason.as_deref())?;
            let affected = affected_orders(conn, id)?;
            // a second recall changes nothing and is not recorded twice
            if !audit::happened(conn, "lot.recalled", "lot", id)? {
                let orders: Vec<String> = affected.iter().map(|a| a.order_number.clone()).collect();
                audit::record(
                    conn,
                    Some(user.id),
                    "lot.recalled",
                    "lot",
                    id,
                    serde_json::json!({"code": lot.code, "reason": reason, "affected_orders": orders}),
                )?;
            }
            let lot = lots::get(conn, id)?.ok_or(ApiError::NotFound)?;
            Ok((lot, affected))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(RecallView {
        lot: LotView::new(lot, &public, lot_rules::today()),
        affected_orders: affected,
    }))
}
