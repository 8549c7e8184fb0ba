//! Stock rules: movement kinds and what an adjustment or a stocktake may say.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::http::text::Prose;
use crate::http::validate::Fields;
use crate::ids::{SkuId, WarehouseId};
use crate::vocabulary;

vocabulary! {
    /// Why `on_hand` (or, for reservations, `reserved`) moved.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum MovementKind as "stock movement kind (stock_movements.kind)" {
        Receipt = "receipt",
        Adjustment = "adjustment",
        Stocktake = "stocktake",
        Reservation = "reservation",
        Release = "release",
        Shipment = "shipment",
        Return = "return",
    }
}

/// Sellable units of a SKU in one warehouse, as checkout weighs where to ship from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockOption {
    pub warehouse_id: WarehouseId,
    /// The warehouse keeps chilled and frozen goods.
    pub cold: bool,
    pub available: i64,
}

const MAX_QUANTITY: i64 = 10_000_000;
/// The most one stock row may hold: no receipt takes a row past it.
pub const MAX_ON_HAND: i64 = 1_000_000_000;
const MAX_LINES: usize = 200;

/// -10,000,000 to -1 or 1 to 10,000,000.
pub(crate) fn delta_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let range = |min: i64, max: i64| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min))
            .maximum(Some(max))
    };
    OneOfBuilder::new()
        .item(range(-MAX_QUANTITY, -1))
        .item(range(1, MAX_QUANTITY))
        .into()
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AdjustmentLine {
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    /// Units added (received, returned) or removed (damaged, lost); never zero.
    #[schema(schema_with = delta_schema)]
    pub delta: i64,
    pub reason: Option<Prose<200>>,
    /// `receipt`, `adjustment` or `return`; by default `receipt` for a positive delta and
    /// `adjustment` for a negative one.
    pub kind: Option<MovementKind>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AdjustmentBatch {
    #[schema(min_items = 1, max_items = 200)]
    pub adjustments: Vec<AdjustmentLine>,
}

/// A checked adjustment line, with its position in the request for error messages.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub index: usize,
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub delta: i64,
    pub reason: Option<String>,
    pub kind: MovementKind,
}

impl TryFrom<AdjustmentBatch> for Vec<Adjustment> {
    type Error = ApiError;
    fn try_from(b: AdjustmentBatch) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        if b.adjustments.is_empty() {
            f.push("adjustments", "at least one adjustment");
        }
        if b.adjustments.len() > MAX_LINES {
            f.push(
                "adjustments",
                format!("at most {MAX_LINES} adjustments in one batch"),
            );
        }
        let mut out = Vec::new();
        for (i, line) in b.adjustments.into_iter().enumerate() {
            let at = format!("adjustments[{i}]");
            if line.delta == 0 || line.delta.unsigned_abs() > MAX_QUANTITY.unsigned_abs() {
                f.push(
                    format!("{at}.delta"),
                    "must be a non-zero whole number of units up to 10,000,000",
                );
            }
            let kind = line.kind.unwrap_or(if line.delta > 0 {
                MovementKind::Receipt
            } else {
                MovementKind::Adjustment
            });
            match kind {
                MovementKind::Adjustment => {}
                MovementKind::Receipt | MovementKind::Return if line.delta > 0 => {}
                MovementKind::Receipt | MovementKind::Return => f.push(
                    format!("{at}.kind"),
                    "receipts and returns add stock: use a positive delta",
                ),
                _ => f.push(
                    format!("{at}.kind"),
                    "must be receipt, adjustment or return",
                ),
            }
            let reason = f.check(&format!("{at}.reason"), Prose::parse_opt(&line.reason));
            if let Some(reason) = reason {
                out.push(Adjustment {
                    index: i,
                    sku_id: line.sku_id,
                    warehouse_id: line.warehouse_id,
                    delta: line.delta,
                    reason,
                    kind,
                });
            }
        }
        f.finish(Some(out))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct StocktakeRequest {
    /// The counted units on hand.
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub on_hand: i64,
    pub reason: Option<Prose<200>>,
}

pub struct Stocktake {
    pub on_hand: i64,
    pub reason: Option<String>,
}

impl TryFrom<StocktakeRequest> for Stocktake {
    type Error = ApiError;
    fn try_from(r: StocktakeRequest) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        if !(0..=MAX_QUANTITY).contains(&r.on_hand) {
            f.push("on_hand", "must be between 0 and 10,000,000");
        }
        let reason = f.check("reason", Prose::parse_opt(&r.reason));
        let value = reason.map(|reason| Stocktake {
            on_hand: r.on_hand,
            reason,
        });
        f.finish(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(delta: i64, kind: Option<MovementKind>) -> AdjustmentLine {
        AdjustmentLine {
            sku_id: SkuId::generate(),
            warehouse_id: WarehouseId::generate(),
            delta,
            reason: Some("到货".into()),
            kind,
        }
    }

    #[test]
    fn the_most_negative_delta_is_refused() {
        let r: Result<Vec<Adjustment>, _> = AdjustmentBatch {
            adjustments: vec![line(i64::MIN, None), line(i64::MAX, None)],
        }
        .try_into();
        let Err(ApiError::Validation(e)) = r else {
            panic!("expected both deltas refused")
        };
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["adjustments[0].delta", "adjustments[1].delta"]);
    }

    #[test]
    fn kinds_default_by_sign() {
        let v: Vec<Adjustment> = AdjustmentBatch {
            adjustments: vec![line(5, None), line(-2, None)],
        }
        .try_into()
        .unwrap();
        assert_eq!(v[0].kind, MovementKind::Receipt);
        assert_eq!(v[1].kind, MovementKind::Adjustment);
    }

    #[test]
    fn bad_lines_are_named() {
        let err = Vec::<Adjustment>::try_from(AdjustmentBatch {
            adjustments: vec![
                line(0, None),
                line(-1, Some(MovementKind::Receipt)),
                line(1, Some(MovementKind::Shipment)),
            ],
        })
        .unwrap_err();
        let ApiError::Validation(e) = err else {
            panic!()
        };
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "adjustments[0].delta",
                "adjustments[1].kind",
                "adjustments[2].kind"
            ]
        );
    }
}
