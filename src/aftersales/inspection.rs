//! Receiving inspection: a business buyer counts a parcel at the door, accepts some units and
//! rejects the rest. The parcel is delivered (if it was not), and the rejected units open a
//! claim of origin `inspection` for the co-op to decide.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::{ClaimKind, ClaimLine, ClaimOrigin, ClaimReason};
use super::routes::on_buyer_side;
use super::{ClaimView, Opening};
use crate::auth::AuthUser;
use crate::db::{self, DbConn, DbPool};
use crate::fulfilment::domain::{NewEvent, ShipmentStatus};
use crate::fulfilment::repo as parcels;
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::extract::ApiJson;
use crate::http::text::Prose;
use crate::ids::{OrderItemId, ShipmentId};
use crate::orders::repo as orders;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct InspectionLine {
    pub order_item_id: OrderItemId,
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub accepted_quantity: i64,
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub rejected_quantity: i64,
    pub reason: Option<Prose<200>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Inspection {
    #[schema(min_items = 1, max_items = 200)]
    pub items: Vec<InspectionLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionView {
    pub shipment_id: ShipmentId,
    pub status: ShipmentStatus,
    pub items: Vec<InspectionLine>,
    /// The claim the rejected units opened (none when everything was accepted).
    pub claim: Option<ClaimView>,
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/inspection", tag = "after-sales", request_body = Inspection,
    security(("bearer" = [])),
    responses((status = 201, body = InspectionView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn inspect(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<ShipmentId>,
    body: ApiJson<Inspection>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let lines = body.0.items;
    let view = blocking::run(&pool, move |conn| inspect_parcel(conn, &user, id, lines)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Records a buyer's count of a parcel at the door: every line's accepted + rejected must be
/// what the parcel carried; rejected units open one `inspection` claim; the parcel is then
/// delivered.
pub fn inspect_parcel(
    conn: &mut DbConn,
    user: &AuthUser,
    id: ShipmentId,
    lines: Vec<InspectionLine>,
) -> ApiResult<InspectionView> {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    if lines.is_empty() || lines.len() > 200 {
        errors.push(FieldError::new(
            "items",
            "an inspection names 1 to 200 items",
        ));
    }
    for (i, l) in lines.iter().enumerate() {
        for (field, q) in [
            ("accepted_quantity", l.accepted_quantity),
            ("rejected_quantity", l.rejected_quantity),
        ] {
            if !(0..=10_000_000).contains(&q) {
                errors.push(FieldError::new(
                    format!("items[{i}].{field}"),
                    "must be between 0 and 10,000,000",
                ));
            }
        }
        match Prose::parse_opt(&l.reason) {
            Ok(Some(r)) => notes.push(r),
            Ok(None) => {}
            Err(m) => errors.push(FieldError::new(format!("items[{i}].reason"), m)),
        }
        if lines[..i]
            .iter()
            .any(|o| o.order_item_id == l.order_item_id)
        {
            errors.push(FieldError::new(
                format!("items[{i}].order_item_id"),
                "appears twice",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    db::write_tx(conn, |conn| {
        let parcel = parcels::find_shipment(conn, id)?.ok_or(ApiError::NotFound)?;
        let order = orders::find(conn, parcel.order_id)?.ok_or(ApiError::NotFound)?;
        if !on_buyer_side(conn, user, &order)? {
            return Err(ApiError::NotFound);
        }
        let (carried, _) = parcels::parcel_contents(conn, id)?;
        let mut errors = Vec::new();
        let mut rejected = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            match carried.iter().find(|(item, _)| *item == l.order_item_id) {
                None => errors.push(FieldError::new(
                    format!("items[{i}].order_item_id"),
                    "not an item of this parcel",
                )),
                Some((_, q)) if l.accepted_quantity + l.rejected_quantity != *q => {
                    errors.push(FieldError::new(
                        format!("items[{i}]"),
                        format!("the parcel carried {q}: accepted and rejected must add up to it"),
                    ))
                }
                Some(_) if l.rejected_quantity > 0 => rejected.push(ClaimLine {
                    order_item_id: l.order_item_id,
                    quantity: l.rejected_quantity,
                }),
                Some(_) => {}
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        // the rejected units are claimed first, so the cold chain cannot take them too
        let note = (!notes.is_empty()).then(|| notes.join("；"));
        let claim = if rejected.is_empty() {
            None
        } else {
            Some(super::open(
                conn,
                &order,
                &rejected,
                &Opening {
                    opened_by: Some(user.id),
                    kind: ClaimKind::RefundOnly,
                    reason: ClaimReason::Quality,
                    origin: ClaimOrigin::Inspection,
                    note: note.as_deref(),
                    evidence: &[],
                    readings: Vec::new(),
                    shipment_id: Some(id),
                },
            )?)
        };
        if parcel.status != ShipmentStatus::Delivered {
            let arrived = NewEvent {
                status: ShipmentStatus::Delivered,
                occurred_at: db::now(),
                location: None,
                note: Some("收货验收".into()),
                temperature_celsius: None,
            };
            parcels::record_event(conn, &parcel, &arrived)?;
            super::cold_chain_on_delivery(conn, id)?;
        }
        let claim = match claim {
            Some(c) => super::views(conn, vec![c])?.pop(),
            None => None,
        };
        Ok(InspectionView {
            shipment_id: id,
            status: ShipmentStatus::Delivered,
            items: lines.clone(),
            claim,
        })
    })
}
