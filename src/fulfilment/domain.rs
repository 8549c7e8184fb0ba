//! Shipping rules: what a shipment and a tracking event may say, and when a cold chain broke.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::Storage;
use crate::http::error::{ApiError, FieldError};
use crate::http::text::{Carrier, Prose, TrackingNumber};
use crate::http::validate::Fields;
use crate::ids::{FulfilmentId, OrderItemId};
use crate::orders::repo::{FulfilmentRow, ItemRow};
use crate::orders::{FulfilmentStatus, OrderStatus};
use crate::vocabulary;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ShipmentLine {
    pub order_item_id: OrderItemId,
    #[schema(minimum = 1)]
    pub quantity: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CreateShipment {
    pub carrier: Carrier,
    pub tracking_number: TrackingNumber,
    #[schema(min_items = 1)]
    pub items: Vec<ShipmentLine>,
}

/// A checked shipment request.
#[derive(Debug, Clone)]
pub struct NewShipment {
    pub carrier: String,
    pub tracking_number: String,
    pub items: Vec<ShipmentLine>,
}

impl TryFrom<CreateShipment> for NewShipment {
    type Error = ApiError;
    fn try_from(r: CreateShipment) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let carrier = f.check("carrier", r.carrier.parse());
        let tracking = f.check("tracking_number", r.tracking_number.parse());
        if r.items.is_empty() {
            f.push("items", "a shipment carries at least one item");
        }
        for (i, l) in r.items.iter().enumerate() {
            if l.quantity < 1 {
                f.push(format!("items[{i}].quantity"), "must be at least 1");
            }
            if r.items[..i]
                .iter()
                .any(|o| o.order_item_id == l.order_item_id)
            {
                f.push(format!("items[{i}].order_item_id"), "appears twice");
            }
        }
        let value = (|| {
            Some(NewShipment {
                carrier: carrier?,
                tracking_number: tracking?,
                items: r.items,
            })
        })();
        f.finish(value)
    }
}

vocabulary! {
    #[derive(Deserialize, Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ShipmentStatus as "shipment status" {
        InTransit = "in_transit",
        OutForDelivery = "out_for_delivery",
        Delivered = "delivered",
        Exception = "exception",
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CreateEvent {
    pub status: ShipmentStatus,
    pub occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    pub location: Option<Prose<200>>,
    pub note: Option<Prose<500>>,
    #[schema(minimum = -80, maximum = 80)]
    pub temperature_celsius: Option<f64>,
}

pub struct NewEvent {
    pub status: ShipmentStatus,
    pub occurred_at: chrono::NaiveDateTime,
    pub location: Option<String>,
    pub note: Option<String>,
    pub temperature_celsius: Option<f64>,
}

/// How far in the future an event's time may be (clocks in a packing shed drift).
pub const MAX_SKEW_SECS: i64 = 300;

impl NewEvent {
    pub fn parse(r: CreateEvent, now: chrono::NaiveDateTime) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let location = f.check("location", Prose::parse_opt(&r.location));
        let note = f.check("note", Prose::parse_opt(&r.note));
        let occurred_at = r.occurred_at.map(|t| t.naive_utc()).unwrap_or(now);
        if occurred_at > now + chrono::Duration::seconds(MAX_SKEW_SECS) {
            f.push("occurred_at", "is in the future");
        }
        if let Some(t) = r.temperature_celsius {
            if !t.is_finite() || !(-80.0..=80.0).contains(&t) {
                f.push("temperature_celsius", "must be between -80 and 80");
            }
        }
        let value = (|| {
            Some(NewEvent {
                status: r.status,
                occurred_at,
                location: location?,
                note: note?,
                temperature_celsius: r.temperature_celsius,
            })
        })();
        f.finish(value)
    }
}

impl ShipmentStatus {
    /// The one place that says how a parcel's status may change: any number of readings and
    /// updates on the way (an exception may clear), nothing after delivery.
    pub fn transition(self, to: ShipmentStatus) -> Result<ShipmentStatus, ApiError> {
        match self {
            ShipmentStatus::Delivered => Err(ApiError::InvalidState(
                "the parcel is already delivered".into(),
            )),
            _ => Ok(to),
        }
    }
}

/// The items a parcel takes, checked against the fulfilment's own: each must belong to it and
/// not ship more than is left. Every bad line is named.
pub fn parcel_lines<'a>(
    new: &NewShipment,
    items: &'a [ItemRow],
    fulfilment: FulfilmentId,
) -> Result<Vec<(&'a ItemRow, i64)>, ApiError> {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in new.items.iter().enumerate() {
        match items
            .iter()
            .find(|it| it.id == line.order_item_id && it.fulfilment_id == fulfilment)
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
            Some(it) => lines.push((it, line.quantity)),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A fulfilment is shipped once none of its items is left to ship, partly shipped before.
pub fn fulfilment_after_parcel(items: &[ItemRow], fulfilment: FulfilmentId) -> FulfilmentStatus {
    let left = items
        .iter()
        .filter(|it| it.fulfilment_id == fulfilment)
        .any(|it| it.shipped_quantity < it.quantity);
    if left {
        FulfilmentStatus::PartiallyShipped
    } else {
        FulfilmentStatus::Shipped
    }
}

/// An order is shipped once every fulfilment that was not cancelled has shipped (or arrived).
pub fn order_after_parcel(fulfilments: &[FulfilmentRow]) -> OrderStatus {
    let all_shipped = fulfilments
        .iter()
        .filter(|f| f.status != FulfilmentStatus::Cancelled)
        .all(|f| {
            matches!(
                f.status,
                FulfilmentStatus::Shipped | FulfilmentStatus::Delivered
            )
        });
    if all_shipped {
        OrderStatus::Shipped
    } else {
        OrderStatus::PartiallyShipped
    }
}

/// An order is delivered once every fulfilment that was not cancelled is.
pub fn order_delivered(fulfilments: &[FulfilmentRow]) -> bool {
    fulfilments
        .iter()
        .filter(|f| f.status != FulfilmentStatus::Cancelled)
        .all(|f| f.status == FulfilmentStatus::Delivered)
}

/// Whether a reading breaks the cold chain for goods kept at `storage`:
/// chilled 0–8 °C, frozen −18 °C or colder; ambient goods have no range.
pub fn is_excursion(storage: Storage, celsius: f64) -> bool {
    match storage {
        Storage::Ambient => false,
        Storage::Chilled => !(0.0..=8.0).contains(&celsius),
        Storage::Frozen => celsius > -18.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_chain_ranges() {
        assert!(is_excursion(Storage::Frozen, -5.0));
        assert!(!is_excursion(Storage::Frozen, -18.0));
        assert!(!is_excursion(Storage::Frozen, -22.5));
        assert!(is_excursion(Storage::Chilled, 9.0));
        assert!(is_excursion(Storage::Chilled, -1.0));
        assert!(!is_excursion(Storage::Chilled, 4.0));
        assert!(!is_excursion(Storage::Ambient, 35.0));
    }

    #[test]
    fn tracking_numbers_are_checked() {
        let r = CreateShipment {
            carrier: "顺丰冷运".into(),
            tracking_number: "SF 123".into(),
            items: vec![],
        };
        let ApiError::Validation(e) = NewShipment::try_from(r).unwrap_err() else {
            panic!()
        };
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["tracking_number", "items"]);
    }

    #[test]
    fn events_may_not_come_from_the_future() {
        let now = chrono::Utc::now().naive_utc();
        let e = CreateEvent {
            status: ShipmentStatus::InTransit,
            occurred_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            location: None,
            note: None,
            temperature_celsius: None,
        };
        assert!(NewEvent::parse(e, now).is_err());
    }
}
