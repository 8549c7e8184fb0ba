//! Lot rules: what a lot's status is on a given day, what receiving one may say, and
//! first-expired-first-out picking. No I/O, so each rule has a unit test.

use chrono::{Duration, NaiveDate};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::http::text::{DateText, Line, LotCode, Prose};
use crate::http::validate::Fields;
use crate::ids::{LotId, SkuId, WarehouseId};
use crate::vocabulary;

vocabulary! {
    /// What a co-op decided about a lot: sellable, or held back (inspection, recall).
    pub enum LotHold as "lot status (lots.status)" {
        Active = "active",
        Held = "held",
    }
}

/// A lot's status as readers see it: the co-op's decision, then what the count and the
/// date say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LotStatus {
    Active,
    Held,
    Expired,
    Depleted,
}

impl LotStatus {
    /// Held wins (the co-op's word), then an empty lot is depleted, then a lot past its date
    /// is expired. `best_before` is the day it may still be sold on.
    pub fn of(hold: LotHold, on_hand: i64, best_before: &str, today: NaiveDate) -> Self {
        if hold == LotHold::Held {
            LotStatus::Held
        } else if on_hand <= 0 {
            LotStatus::Depleted
        } else if best_before < date_text(today).as_str() {
            LotStatus::Expired
        } else {
            LotStatus::Active
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "held" => Some(Self::Held),
            "expired" => Some(Self::Expired),
            "depleted" => Some(Self::Depleted),
            _ => None,
        }
    }
}

/// How dates are stored and shown: `YYYY-MM-DD`, so text order is date order.
pub fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Today in China, the calendar every lot date is written in.
pub fn today() -> NaiveDate {
    crate::delivery::departures::china_time(crate::db::now()).date()
}

/// Characters of a trace code: no 0/o, 1/l/i, so it survives being read aloud or retyped.
const TRACE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// An unguessable public code for a lot's trace page: 16 characters, about 79 random bits.
pub fn new_trace_code() -> String {
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| TRACE_ALPHABET[rng.gen_range(0..TRACE_ALPHABET.len())] as char)
        .collect()
}

pub const MAX_LOT_QUANTITY: i64 = 10_000_000;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ReceiveLot {
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    /// The co-op's own batch code, unique per SKU.
    pub code: LotCode,
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub quantity: i64,
    pub harvested_on: Option<DateText>,
    /// Defaults to today.
    pub packed_on: Option<DateText>,
    /// Defaults to `packed_on` plus the product's `shelf_life_days`.
    pub best_before: Option<DateText>,
    pub origin: Option<Line<100>>,
    /// A certificate's number (organic, green food, …).
    pub certificate_no: Option<Line<64>>,
}

/// A checked receipt; `best_before` is settled by [`Receipt::best_before`] once the
/// product's shelf life is known.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub code: String,
    pub quantity: i64,
    pub harvested_on: Option<NaiveDate>,
    pub packed_on: NaiveDate,
    pub best_before: Option<NaiveDate>,
    pub origin: Option<String>,
    pub certificate_no: Option<String>,
}

fn date_field(f: &mut Fields, name: &str, d: &Option<DateText>) -> Option<Option<NaiveDate>> {
    match d {
        None => Some(None),
        Some(d) => f.check(name, d.date()).map(Some),
    }
}

impl Receipt {
    pub fn parse(r: ReceiveLot, today: NaiveDate) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let code = f.check("code", r.code.parse());
        if !(1..=MAX_LOT_QUANTITY).contains(&r.quantity) {
            f.push("quantity", "must be between 1 and 10,000,000");
        }
        let harvested_on = date_field(&mut f, "harvested_on", &r.harvested_on);
        let packed_on = date_field(&mut f, "packed_on", &r.packed_on);
        let best_before = date_field(&mut f, "best_before", &r.best_before);
        let origin = f.check("origin", r.origin.as_ref().map(Line::parse).transpose());
        let certificate_no = f.check(
            "certificate_no",
            r.certificate_no.as_ref().map(Line::parse).transpose(),
        );
        let packed_on = packed_on.map(|p| p.unwrap_or(today));
        if let (Some(Some(h)), Some(p)) = (harvested_on, packed_on) {
            if h > p {
                f.push("harvested_on", "must not be after packed_on");
            }
        }
        if let Some(p) = packed_on {
            if p > today {
                f.push("packed_on", "must not be in the future");
            }
        }
        if let Some(Some(b)) = best_before {
            if b < today {
                f.push("best_before", "is already past");
            } else if packed_on.is_some_and(|p| b < p) {
                f.push("best_before", "must not be before packed_on");
            }
        }
        let value = (|| {
            Some(Receipt {
                sku_id: r.sku_id,
                warehouse_id: r.warehouse_id,
                code: code?,
                quantity: r.quantity,
                harvested_on: harvested_on?,
                packed_on: packed_on?,
                best_before: best_before?,
                origin: origin?,
                certificate_no: certificate_no?,
            })
        })();
        f.finish(value)
    }

    /// The lot's last day: as given, else packed + the product's shelf life; 422 naming
    /// `best_before` when neither is known or the result is already past.
    pub fn best_before(
        &self,
        shelf_life_days: Option<i32>,
        today: NaiveDate,
    ) -> Result<NaiveDate, ApiError> {
        if let Some(b) = self.best_before {
            return Ok(b);
        }
        let Some(days) = shelf_life_days else {
            return Err(ApiError::field(
                "best_before",
                "is required: the product has no shelf_life_days to count from packed_on",
            ));
        };
        let b = self.packed_on + Duration::days(i64::from(days));
        if b < today {
            return Err(ApiError::field(
                "best_before",
                "packed_on plus the product's shelf life is already past",
            ));
        }
        Ok(b)
    }
}

/// -10,000,000 to -1 or 1 to 10,000,000, as the stock batch's delta.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct LotAdjustment {
    #[schema(schema_with = crate::inventory::domain::delta_schema)]
    pub delta: i64,
    pub reason: Option<Prose<200>>,
}

impl LotAdjustment {
    pub fn check(&self) -> Result<(i64, Option<String>), ApiError> {
        let mut f = Fields::default();
        if self.delta == 0 || !(-MAX_LOT_QUANTITY..=MAX_LOT_QUANTITY).contains(&self.delta) {
            f.push(
                "delta",
                "must be between -10,000,000 and 10,000,000, and not 0",
            );
        }
        let reason = f.check("reason", Prose::parse_opt(&self.reason));
        f.finish(reason.map(|r| (self.delta, r)))
    }
}

/// Why a lot is held, released or recalled.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct LotReason {
    pub reason: Option<Prose<500>>,
}

impl LotReason {
    pub fn check(&self) -> Result<Option<String>, ApiError> {
        Prose::parse_opt(&self.reason).map_err(|m| ApiError::field("reason", m))
    }
}

/// A lot an order may draw from, in first-expired-first-out order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotOption {
    pub id: LotId,
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub code: String,
    pub best_before: String,
    pub available: i64,
}

/// Takes `quantity` from `options` (already in FEFO order) whose `best_before` is on or
/// after `not_before`: the earliest first, spanning lots when one is not enough. `Err` with
/// the sellable units there are when they do not cover it.
pub fn pick(
    options: &[LotOption],
    quantity: i64,
    not_before: &str,
) -> Result<Vec<(LotId, i64)>, i64> {
    let mut taken = Vec::new();
    let mut left = quantity;
    let mut sellable = 0;
    for o in options
        .iter()
        .filter(|o| o.best_before.as_str() >= not_before && o.available > 0)
    {
        sellable += o.available;
        if left > 0 {
            let take = left.min(o.available);
            taken.push((o.id, take));
            left -= take;
        }
    }
    if left > 0 {
        Err(sellable)
    } else {
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn lot(best_before: &str, available: i64) -> LotOption {
        LotOption {
            id: LotId::generate(),
            sku_id: SkuId::generate(),
            warehouse_id: WarehouseId::generate(),
            code: "L".into(),
            best_before: best_before.into(),
            available,
        }
    }

    #[test]
    fn status_follows_hold_then_count_then_date() {
        let today = d("2026-11-29");
        assert_eq!(
            LotStatus::of(LotHold::Active, 5, "2026-11-29", today),
            LotStatus::Active
        );
        assert_eq!(
            LotStatus::of(LotHold::Active, 5, "2026-11-28", today),
            LotStatus::Expired
        );
        assert_eq!(
            LotStatus::of(LotHold::Active, 0, "2026-11-28", today),
            LotStatus::Depleted
        );
        assert_eq!(
            LotStatus::of(LotHold::Held, 5, "2026-11-28", today),
            LotStatus::Held
        );
    }

    #[test]
    fn fefo_takes_the_earliest_and_spans_lots() {
        let lots = [
            lot("2026-12-01", 3),
            lot("2026-12-05", 10),
            lot("2027-01-01", 10),
        ];
        let got = pick(&lots, 5, "2026-11-30").unwrap();
        assert_eq!(got, vec![(lots[0].id, 3), (lots[1].id, 2)]);
        // a buyer who needs the goods to keep past 2026-12-03 skips the first lot
        let got = pick(&lots, 5, "2026-12-03").unwrap();
        assert_eq!(got, vec![(lots[1].id, 5)]);
        assert_eq!(pick(&lots, 30, "2026-12-03"), Err(20));
        assert_eq!(pick(&lots, 1, "2027-02-01"), Err(0));
    }

    #[test]
    fn receipts_default_and_refuse_dates() {
        let today = d("2026-11-29");
        let base = ReceiveLot {
            sku_id: SkuId::generate(),
            warehouse_id: WarehouseId::generate(),
            code: "L1".into(),
            quantity: 10,
            harvested_on: None,
            packed_on: None,
            best_before: None,
            origin: None,
            certificate_no: None,
        };
        let r = Receipt::parse(base.clone(), today).unwrap();
        assert_eq!(r.packed_on, today);
        assert_eq!(r.best_before(Some(30), today).unwrap(), d("2026-12-29"));
        assert!(r.best_before(None, today).is_err());
        let past = ReceiveLot {
            best_before: Some("2026-11-28".into()),
            ..base.clone()
        };
        assert!(Receipt::parse(past, today).is_err());
        let bad = ReceiveLot {
            harvested_on: Some("2026-13-01".into()),
            quantity: 0,
            ..base
        };
        let Err(ApiError::Validation(errors)) = Receipt::parse(bad, today) else {
            panic!("expected a 422");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["quantity", "harvested_on"]);
    }
}
