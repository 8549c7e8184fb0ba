//! Shipping rules: what a shipment and a tracking event may say, and when a cold chain broke.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::{Pricing, Storage};
use crate::http::error::{ApiError, FieldError};
use crate::http::text::{Carrier, Prose, TrackingNumber};
use crate::http::validate::Fields;
use crate::ids::{FulfilmentId, OrderItemId};
use crate::money::Money;
use crate::orders::repo::{FulfilmentRow, ItemRow};
use crate::orders::{FulfilmentStatus, OrderStatus};
use crate::vocabulary;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ShipmentLine {
    pub order_item_id: OrderItemId,
    #[schema(minimum = 1)]
    pub quantity: i64,
    /// The packed weight of the units shipped; required for goods sold by weight, within
    /// 20 % of their nominal weight.
    #[schema(minimum = 1, maximum = 2_000_000_000)]
    pub actual_weight_grams: Option<i64>,
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
            if l.actual_weight_grams
                .is_some_and(|g| !(1..=2_000_000_000).contains(&g))
            {
                f.push(
                    format!("items[{i}].actual_weight_grams"),
                    "must be between 1 and 2,000,000,000 grams",
                );
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

/// One item's share of a parcel, with its packed weight and what a lighter parcel gives back.
#[derive(Debug, Clone)]
pub struct ParcelLine<'a> {
    pub item: &'a ItemRow,
    pub quantity: i64,
    pub actual_weight_grams: Option<i64>,
    /// Fen to refund: what was charged for these units less their packed weight's price.
    pub refund: i64,
}

/// 多退少补, buyer-friendly: `quantity` pieces of a weighed item packed at `actual` grams
/// refund what they were charged less actual kg × the rate (half up to the fen) when that is
/// less; a heavier parcel costs nothing more. Packed more than 20 % away from the pieces'
/// nominal weight is refused with the message to show.
pub fn weight_refund(item: &ItemRow, quantity: i64, actual: i64) -> Result<i64, String> {
    let nominal = item.net_weight_grams.saturating_mul(quantity);
    // |actual − nominal| ≤ 20 % of nominal, in integers
    if (i128::from(actual) - i128::from(nominal)).abs() * 5 > i128::from(nominal) {
        return Err(format!(
            "{actual} g is more than 20 % away from the nominal {nominal} g of {quantity} piece(s)"
        ));
    }
    let rate = Money::from_fen(item.kg_price.unwrap_or(0));
    let charged = item.unit_price.saturating_mul(quantity);
    let worth = rate.for_grams(actual).map_or(i64::MAX, Money::fen);
    Ok((charged - worth).max(0))
}

/// The items a parcel takes, checked against the fulfilment's own: each must belong to it, not
/// ship more than is left, and, sold by weight, say its packed weight. Every bad line is named.
pub fn parcel_lines<'a>(
    new: &NewShipment,
    items: &'a [ItemRow],
    fulfilment: FulfilmentId,
) -> Result<Vec<ParcelLine<'a>>, ApiError> {
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
            Some(it) => {
                let refund = match (it.pricing, line.actual_weight_grams) {
                    (Pricing::PerUnit, _) => 0,
                    (Pricing::PerKg, None) => {
                        errors.push(FieldError::new(
                            format!("items[{i}].actual_weight_grams"),
                            "is required for goods sold by weight",
                        ));
                        continue;
                    }
                    (Pricing::PerKg, Some(g)) => match weight_refund(it, line.quantity, g) {
                        Ok(r) => r,
                        Err(message) => {
                            errors.push(FieldError::new(format!("items[{i}]"), message));
                            continue;
                        }
                    },
                };
                lines.push(ParcelLine {
                    item: it,
                    quantity: line.quantity,
                    actual_weight_grams: line.actual_weight_grams,
                    refund,
                });
            }
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
    safe_band(storage).is_some_and(|(lo, hi)| !(lo..=hi).contains(&celsius))
}

/// The temperatures, in °C, goods of a storage class may travel at (lowest, highest);
/// frozen goods have no lower bound, ambient goods no range at all.
pub fn safe_band(storage: Storage) -> Option<(f64, f64)> {
    match storage {
        Storage::Ambient => None,
        Storage::Chilled => Some((0.0, 8.0)),
        Storage::Frozen => Some((f64::NEG_INFINITY, -18.0)),
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

    fn pears(unit_price: i64, kg_price: i64, grams: i64) -> ItemRow {
        ItemRow {
            id: OrderItemId::generate(),
            order_id: crate::ids::OrderId::generate(),
            fulfilment_id: FulfilmentId::generate(),
            sku_id: crate::ids::SkuId::generate(),
            sku_code: "PEAR".into(),
            product_name: "冻梨".into(),
            sku_name: "5 kg".into(),
            cooperative_id: crate::ids::CooperativeId::generate(),
            warehouse_id: crate::ids::WarehouseId::generate(),
            quantity: 10,
            unit_price,
            line_total: unit_price * 10,
            net_weight_grams: grams,
            shipped_quantity: 0,
            position: 0,
            pricing: Pricing::PerKg,
            kg_price: Some(kg_price),
            final_total: unit_price * 10,
            claimed_quantity: 0,
        }
    }

    #[test]
    fn lighter_parcels_refund_the_difference_and_heavier_ones_nothing() {
        // 12.35 a kilo, 5 kg boxes: 61.75 a box
        let item = pears(6175, 1235, 5000);
        // two boxes packed 8 % light: 9.2 kg × 12.35 = 113.62; charged 123.50
        assert_eq!(weight_refund(&item, 2, 9200), Ok(988));
        assert_eq!(weight_refund(&item, 2, 10_000), Ok(0));
        assert_eq!(weight_refund(&item, 2, 11_500), Ok(0));
        // 20 % either way is the limit
        assert_eq!(weight_refund(&item, 2, 8000), Ok(2470));
        assert!(weight_refund(&item, 2, 7999).is_err());
        assert!(weight_refund(&item, 2, 12_001).is_err());
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
