//! Fulfilment endpoints: the co-op's queue, shipping a parcel, tracking events, and the
//! buyer's tracking page.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::domain::{CreateEvent, CreateShipment, NewEvent, NewShipment};
use super::repo;
use super::views::{self as parcels, PARCELS};
use crate::auth::AuthUser;
use crate::cooperatives::can_see_cooperative;
use crate::cooperatives::repo as coops;
use crate::cooperatives::require_cooperative_member;
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::pagination::Page;
use crate::http::validate::optional_word;
use crate::ids::{CooperativeId, FulfilmentId, OrderId, ShipmentId};
use crate::orders::repo::{self as orders, FulfilmentRow};
use crate::orders::views::{self, EventView, FulfilmentView, Scope, ShipmentView};
use crate::orders::{FulfilmentStatus, OrderStatus};

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// e.g. `awaiting_shipment` (blank: any)
    #[param(schema_with = fulfilment_status_param)]
    pub status: Option<String>,
    /// Only what leaves on this day (`YYYY-MM-DD`, China time): one truck's load
    #[param(format = Date)]
    pub ship_by: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A page of a co-op's queue; with `ship_by`, the day's whole load too.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queue {
    pub items: Vec<FulfilmentView>,
    pub next_cursor: Option<String>,
    /// With `ship_by`: the net weight of every open fulfilment leaving that day, in grams
    pub total_weight_grams: Option<i64>,
}

fn fulfilment_status_param() -> utoipa::openapi::Object {
    crate::http::openapi::word_or_blank(FulfilmentStatus::ALL.iter().map(|s| s.as_str()))
}

fn fulfilment_view(conn: &mut DbConn, f: FulfilmentRow) -> ApiResult<FulfilmentView> {
    views::fulfilment_page(conn, PARCELS, vec![f])?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// The fulfilment, if the caller belongs to its co-op (or is an admin); 404 otherwise so
/// other co-ops learn nothing about it.
fn own_fulfilment(
    conn: &mut DbConn,
    user: &AuthUser,
    id: FulfilmentId,
) -> ApiResult<FulfilmentRow> {
    let f = orders::find_fulfilment(conn, id)?.ok_or(ApiError::NotFound)?;
    if !can_see_cooperative(conn, Some(user), f.cooperative_id)? {
        return Err(ApiError::NotFound);
    }
    Ok(f)
}

#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/fulfilments", tag = "fulfilment", params(QueueQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Queue), (status = 403, body = Problem)))]
pub async fn queue(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    q: web::Query<QueueQuery>,
) -> ApiResult<HttpResponse> {
    let coop = id.into_inner();
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let status = optional_word(
        "status",
        q.status.as_deref(),
        FulfilmentStatus::parse,
        "is not a fulfilment status",
    )?;
    let ship_by = match q.ship_by.as_deref() {
        None => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ApiError::field("ship_by", "must be a date YYYY-MM-DD"))?
                .to_string(),
        ),
    };
    let out = blocking::run(&pool, move |conn| {
        coop_queue(conn, &user, coop, status, ship_by.as_deref(), &page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A co-op's queue as its members (and admins) see it; with `ship_by`, that day's load.
pub fn coop_queue(
    conn: &mut DbConn,
    user: &AuthUser,
    coop: CooperativeId,
    status: Option<FulfilmentStatus>,
    ship_by: Option<&str>,
    page: &Page,
) -> ApiResult<Queue> {
    coops::get(conn, coop)?;
    require_cooperative_member(conn, user, coop, false)?;
    let rows = orders::fulfilment_queue(conn, coop, status, ship_by, page)?;
    let total_weight_grams = match ship_by {
        Some(day) => Some(orders::load_on(conn, coop, day)?),
        None => None,
    };
    Ok(Queue {
        items: views::fulfilment_page(conn, PARCELS, rows.items)?,
        next_cursor: rows.next_cursor,
        total_weight_grams,
    })
}

#[utoipa::path(get, path = "/api/v1/fulfilments/{id}", tag = "fulfilment", security(("bearer" = [])),
    responses((status = 200, body = FulfilmentView), (status = 404, body = Problem)))]
pub async fn get(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<FulfilmentId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = blocking::run(&pool, move |conn| fulfilment_for(conn, &user, id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

fn shipment_view(
    conn: &mut DbConn,
    fulfilment_id: FulfilmentId,
    shipment_id: ShipmentId,
) -> ApiResult<ShipmentView> {
    parcels::shipments_of(conn, &[fulfilment_id])?
        .into_iter()
        .find(|s| s.id == shipment_id)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/fulfilments/{id}/shipments", tag = "fulfilment", request_body = CreateShipment,
    security(("bearer" = [])),
    responses((status = 201, body = ShipmentView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn ship(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<FulfilmentId>,
    body: ApiJson<CreateShipment>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let new = NewShipment::try_from(body.0)?;
    let view = blocking::run(&pool, move |conn| ship_fulfilment(conn, &user, id, &new)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Ships (part of) a fulfilment of the caller's co-op as one parcel.
pub fn ship_fulfilment(
    conn: &mut DbConn,
    user: &AuthUser,
    id: FulfilmentId,
    new: &NewShipment,
) -> ApiResult<ShipmentView> {
    db::write_tx(conn, |conn| {
        let f = own_fulfilment(conn, user, id)?;
        let shipment = repo::ship(conn, &f, new, user.id)?;
        shipment_view(conn, f.id, shipment)
    })
}

/// One fulfilment of the caller's co-op (404 for anyone else).
pub fn fulfilment_for(
    conn: &mut DbConn,
    user: &AuthUser,
    id: FulfilmentId,
) -> ApiResult<FulfilmentView> {
    let f = own_fulfilment(conn, user, id)?;
    fulfilment_view(conn, f)
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/events", tag = "fulfilment", request_body = CreateEvent,
    security(("bearer" = [])),
    responses((status = 201, body = EventView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_event(
    pool: web::Data<DbPool>,
    after_delivery: web::Data<AfterDelivery>,
    user: AuthUser,
    id: web::Path<ShipmentId>,
    body: ApiJson<CreateEvent>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let after_delivery = **after_delivery;
    let event = NewEvent::parse(body.0, db::now())?;
    let view = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let shipment = repo::find_shipment(conn, id)?.ok_or(ApiError::NotFound)?;
            if !can_see_cooperative(conn, Some(&user), shipment.cooperative_id)? {
                return Err(ApiError::NotFound);
            }
            let event_id = repo::record_event(conn, &shipment, &event)?;
            if event.status == super::domain::ShipmentStatus::Delivered {
                // what later stages do on arrival (a cold-chain claim), in this transaction
                (after_delivery.0)(conn, shipment.id)?;
            }
            shipment_view(conn, shipment.fulfilment_id, shipment.id)?
                .events
                .into_iter()
                .find(|e| e.id == event_id)
                .ok_or(ApiError::NotFound)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// What happens when a parcel is delivered, beyond fulfilment (after-sales opens a cold-chain
/// claim): the app wiring plugs it in, so fulfilment never calls a later stage itself.
#[derive(Clone, Copy)]
pub struct AfterDelivery(pub fn(&mut DbConn, ShipmentId) -> Result<(), ApiError>);

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingView {
    pub order_id: OrderId,
    pub order_number: String,
    pub status: OrderStatus,
    /// When each co-op's part leaves and should arrive
    pub fulfilments: Vec<TrackedFulfilment>,
    pub shipments: Vec<ShipmentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedFulfilment {
    pub id: FulfilmentId,
    pub cooperative_id: crate::ids::CooperativeId,
    pub status: crate::orders::FulfilmentStatus,
    #[schema(format = Date)]
    pub ship_by: Option<String>,
    #[schema(format = Date)]
    pub estimated_delivery: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/tracking", tag = "fulfilment", security(("bearer" = [])),
    responses((status = 200, body = TrackingView), (status = 404, body = Problem)))]
pub async fn tracking(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<OrderId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = blocking::run(&pool, move |conn| {
        let order = orders::find(conn, id)?.ok_or(ApiError::NotFound)?;
        let scope = views::scope_for(conn, &user, &order)?;
        let visible: Vec<_> = orders::fulfilments_of(conn, id)?
            .into_iter()
            .filter(|f| match &scope {
                Scope::Whole => true,
                Scope::Cooperatives(c) => c.contains(&f.cooperative_id),
            })
            .collect();
        let ids: Vec<FulfilmentId> = visible.iter().map(|f| f.id).collect();
        Ok(TrackingView {
            status: order.status,
            order_id: order.id,
            order_number: order.number,
            shipments: parcels::shipments_of(conn, &ids)?,
            fulfilments: visible
                .into_iter()
                .map(|f| TrackedFulfilment {
                    id: f.id,
                    cooperative_id: f.cooperative_id,
                    status: f.status,
                    ship_by: f.ship_by,
                    estimated_delivery: f.estimated_delivery,
                })
                .collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
