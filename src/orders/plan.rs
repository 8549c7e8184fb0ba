//! The pure part of checkout: price each line, group the warehouses' shares into one
//! fulfilment per co-op and warehouse with its shipping fee, and the order stock is locked in.
//! No I/O, so every rule here has a unit test.

use std::collections::BTreeMap;

use super::allocation::{Allocation, Demand};
use super::domain::Address;
use super::shipping::{self, Rate};
use crate::catalogue::for_sale::SkuForSale;
use crate::catalogue::pricing::{rate_for, unit_price_for, Buyer, PriceRefusal};
use crate::catalogue::Storage;
use crate::delivery::departures::{self, Departure, Slot};
use crate::http::error::{ApiError, FieldError};
use crate::ids::{CooperativeId, SkuId, WarehouseId};
use crate::inventory::lots::domain::LotOption;
use crate::money::Money;

use super::lines::Lines;

/// A request line that passed the price rules.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub index: usize,
    pub sku: SkuForSale,
    pub quantity: i64,
    pub unit_price: Money,
    /// The rate per kilogram a weighed line was sold at.
    pub kg_price: Option<Money>,
}

impl PricedLine {
    /// What this line asks of the warehouses.
    pub fn demand(&self) -> Demand {
        Demand {
            index: self.index,
            sku_id: self.sku.id,
            cooperative_id: self.sku.cooperative_id,
            storage: self.sku.storage,
            quantity: self.quantity,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlannedItem {
    pub index: usize,
    pub sku: SkuForSale,
    pub warehouse_id: WarehouseId,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    pub kg_price: Option<Money>,
}

#[derive(Debug, Clone)]
pub struct PlannedFulfilment {
    pub cooperative_id: CooperativeId,
    pub warehouse_id: WarehouseId,
    pub storage: Storage,
    pub shipping_fee: Money,
    pub items: Vec<PlannedItem>,
    /// Σ net weight × quantity, in grams
    pub weight_grams: i64,
    /// From the rate row the fee came from
    pub transit_days: i32,
    /// The co-op's cold-truck timetable (empty: none)
    pub timetable: Vec<Departure>,
    /// The departure it rides, once scheduled
    pub slot: Option<Slot>,
}

impl PlannedFulfilment {
    /// `ship_by` + the rate's transit days.
    pub fn estimated_delivery(&self) -> Option<chrono::NaiveDate> {
        self.slot
            .as_ref()
            .map(|s| s.ship_by + chrono::Duration::days(i64::from(self.transit_days)))
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub fulfilments: Vec<PlannedFulfilment>,
    pub subtotal: Money,
    pub shipping_fee: Money,
    pub total: Money,
    /// Sellable lots of the lot-tracked SKUs, as checkout read them (FEFO order).
    pub lot_options: Vec<LotOption>,
    /// Days of shelf life the buyer needs left on arrival.
    pub min_shelf_life_days: i64,
}

/// One stock reservation an order makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reservation {
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub quantity: i64,
    /// The request line it serves.
    pub index: usize,
}

impl Plan {
    /// The fulfilment that ships a line's share from a warehouse.
    pub fn fulfilment_of(
        &self,
        index: usize,
        warehouse_id: WarehouseId,
    ) -> Option<&PlannedFulfilment> {
        self.fulfilments
            .iter()
            .find(|f| f.warehouse_id == warehouse_id && f.items.iter().any(|i| i.index == index))
    }

    /// The first day a lot must still be good on for a line's share: the fulfilment's
    /// delivery estimate (the next day before it is scheduled) plus the buyer's required
    /// shelf life.
    pub fn lots_good_until(
        &self,
        index: usize,
        warehouse_id: WarehouseId,
        today: chrono::NaiveDate,
    ) -> chrono::NaiveDate {
        let arrival = self
            .fulfilment_of(index, warehouse_id)
            .and_then(PlannedFulfilment::estimated_delivery)
            .unwrap_or(today + chrono::Duration::days(1));
        arrival + chrono::Duration::days(self.min_shelf_life_days)
    }

    /// Every allocation, in the order locks should be taken (SKU, then warehouse), so two
    /// orders never wait on each other's rows in opposite orders.
    pub fn reservations(&self) -> Vec<Reservation> {
        let mut r: Vec<Reservation> = self
            .fulfilments
            .iter()
            .flat_map(|f| {
                f.items.iter().map(|i| Reservation {
                    sku_id: i.sku.id,
                    warehouse_id: i.warehouse_id,
                    quantity: i.quantity,
                    index: i.index,
                })
            })
            .collect();
        r.sort();
        r
    }
}

/// Applies the price rules to each line; every refusal is reported, by line. SKUs missing
/// from `skus` or not for sale are refused as unknown.
pub fn price_lines(
    lines: &Lines,
    skus: &std::collections::HashMap<SkuId, SkuForSale>,
    buyer: Buyer,
) -> Result<Vec<PricedLine>, ApiError> {
    let mut invalid = Vec::new();
    let mut forbidden = Vec::new();
    let mut priced = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(sku) = skus.get(&l.sku_id).filter(|s| s.for_sale) else {
            invalid.push(FieldError::new(
                format!("items[{i}].sku_id"),
                "no such SKU is for sale",
            ));
            continue;
        };
        match unit_price_for(&sku.priced, buyer, l.quantity) {
            Ok(unit_price)
                if unit_price
                    .checked_mul(l.quantity)
                    .and_then(Money::within_ceiling)
                    .is_none() =>
            {
                invalid.push(FieldError::new(
                    format!("items[{i}]"),
                    format!("a line may come to at most {} yuan", Money::MAX),
                ))
            }
            Ok(unit_price) => priced.push(PricedLine {
                index: i,
                sku: sku.clone(),
                quantity: l.quantity,
                unit_price,
                kg_price: sku
                    .priced
                    .per_kg_grams
                    .and_then(|_| rate_for(&sku.priced, buyer, l.quantity).ok()),
            }),
            Err(PriceRefusal::TooExpensive) => invalid.push(FieldError::new(
                format!("items[{i}]"),
                format!("a piece may cost at most {} yuan", Money::MAX),
            )),
            Err(PriceRefusal::WholesaleOnly) => forbidden.push(format!("items[{i}]")),
            // the contract names the line itself, as it does for shortages
            Err(PriceRefusal::BelowMinimum(moq)) => invalid.push(FieldError::new(
                format!("items[{i}]"),
                format!(
                    "quantity {} is below this SKU's minimum order quantity of {moq}",
                    l.quantity
                ),
            )),
        }
    }
    if !invalid.is_empty() {
        return Err(ApiError::Validation(invalid));
    }
    if !forbidden.is_empty() {
        return Err(ApiError::forbidden(format!(
            "{} sell only to approved business buyers ordering for their organization",
            forbidden.join(", ")
        )));
    }
    Ok(priced)
}

/// Groups allocations into fulfilments and adds shipping fees and totals.
pub fn build_plan(
    lines: &[PricedLine],
    allocations: &[Allocation],
    rates: &[Rate],
    destination: &Address,
) -> Result<Plan, ApiError> {
    let overflow = || {
        ApiError::field(
            "items",
            format!("an order may come to at most {} yuan", Money::MAX),
        )
    };
    let mut groups: BTreeMap<(CooperativeId, WarehouseId), Vec<PlannedItem>> = BTreeMap::new();
    for a in allocations {
        let line = lines
            .iter()
            .find(|l| l.index == a.index)
            .ok_or_else(|| ApiError::internal("allocation without a line"))?;
        let line_total = line
            .unit_price
            .checked_mul(a.quantity)
            .ok_or_else(overflow)?;
        groups
            .entry((line.sku.cooperative_id, a.warehouse_id))
            .or_default()
            .push(PlannedItem {
                index: a.index,
                sku: line.sku.clone(),
                warehouse_id: a.warehouse_id,
                quantity: a.quantity,
                unit_price: line.unit_price,
                line_total,
                kg_price: line.kg_price,
            });
    }
    let mut fulfilments = Vec::new();
    let (mut subtotal, mut shipping_fee) = (Money::ZERO, Money::ZERO);
    for ((cooperative_id, warehouse_id), mut items) in groups {
        items.sort_by_key(|i| i.index);
        let storage = Storage::coldest(items.iter().map(|i| i.sku.storage));
        let weight: i64 = items
            .iter()
            .map(|i| i.quantity.saturating_mul(i.sku.net_weight_grams))
            .sum();
        let mut goods = Money::ZERO;
        for i in &items {
            goods = goods.checked_add(i.line_total).ok_or_else(overflow)?;
        }
        let rate = shipping::rate_for(rates, &destination.province, storage).ok_or_else(|| {
            ApiError::internal(format!("no shipping rate for {}", storage.as_str()))
        })?;
        let fee = shipping::fee(rate, weight, goods);
        subtotal = subtotal.checked_add(goods).ok_or_else(overflow)?;
        shipping_fee = shipping_fee.checked_add(fee).ok_or_else(overflow)?;
        let timetable = departures::from_stored(items[0].sku.departures.as_deref());
        fulfilments.push(PlannedFulfilment {
            cooperative_id,
            warehouse_id,
            storage,
            shipping_fee: fee,
            items,
            weight_grams: weight,
            transit_days: rate.transit_days,
            timetable,
            slot: None,
        });
    }
    let total = subtotal
        .checked_add(shipping_fee)
        .and_then(Money::within_ceiling)
        .ok_or_else(overflow)?;
    Ok(Plan {
        fulfilments,
        subtotal,
        shipping_fee,
        total,
        lot_options: Vec::new(),
        min_shelf_life_days: 0,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::catalogue::pricing::PricedSku;
    use crate::catalogue::product::Tier;
    use crate::catalogue::SalesChannel;
    use crate::orders::lines::LineInput;

    fn yuan(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn sku(coop: CooperativeId, storage: Storage, channel: SalesChannel) -> SkuForSale {
        SkuForSale {
            id: SkuId::generate(),
            code: "X".into(),
            name: "5kg".into(),
            product_name: "五常大米".into(),
            cooperative_id: coop,
            storage,
            net_weight_grams: 2500,
            departures: None,
            priced: PricedSku {
                price: yuan("10.00"),
                sales_channel: channel,
                min_order_quantity: Some(10),
                tiers: vec![Tier {
                    min_quantity: 20,
                    unit_price: yuan("8.00"),
                }],
                per_kg_grams: None,
            },
            for_sale: true,
            lot_tracked: false,
            pricing: crate::catalogue::Pricing::PerUnit,
        }
    }

    fn lines(pairs: &[(SkuId, i64)]) -> Lines {
        Lines::parse(
            pairs
                .iter()
                .map(|&(sku_id, quantity)| LineInput { sku_id, quantity })
                .collect(),
        )
        .unwrap()
    }

    fn rate(storage: Storage) -> Rate {
        Rate {
            province: shipping::ANY_PROVINCE.into(),
            storage,
            first_kg_fee: yuan("12.00"),
            additional_kg_fee: yuan("2.00"),
            free_over: Some(yuan("199.00")),
            transit_days: 3,
        }
    }

    fn shantou() -> Address {
        Address {
            recipient: "陈".into(),
            phone: "13800000000".into(),
            province: "广东省".into(),
            city: "汕头市".into(),
            district: "龙湖区".into(),
            district_code: Some("440507".into()),
            line1: "长平路 1 号".into(),
            postal_code: None,
        }
    }

    #[test]
    fn unknown_and_unlisted_skus_are_refused_by_line() {
        let mut listed = sku(
            CooperativeId::generate(),
            Storage::Ambient,
            SalesChannel::Both,
        );
        listed.for_sale = false;
        let skus = HashMap::from([(listed.id, listed.clone())]);
        let ApiError::Validation(e) = price_lines(
            &lines(&[(SkuId::generate(), 1), (listed.id, 1)]),
            &skus,
            Buyer::Retail,
        )
        .unwrap_err() else {
            panic!("expected a validation error")
        };
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["items[0].sku_id", "items[1].sku_id"]);
    }

    #[test]
    fn business_buyers_get_tiers_and_minimums_shoppers_pay_shelf_price() {
        let s = sku(
            CooperativeId::generate(),
            Storage::Ambient,
            SalesChannel::Both,
        );
        let skus = HashMap::from([(s.id, s.clone())]);
        let retail = price_lines(&lines(&[(s.id, 25)]), &skus, Buyer::Retail).unwrap();
        assert_eq!(retail[0].unit_price, yuan("10.00"));
        let tiered = price_lines(&lines(&[(s.id, 25)]), &skus, Buyer::Wholesale).unwrap();
        assert_eq!(tiered[0].unit_price, yuan("8.00"));
        let ApiError::Validation(e) =
            price_lines(&lines(&[(s.id, 5)]), &skus, Buyer::Wholesale).unwrap_err()
        else {
            panic!("expected the minimum to refuse")
        };
        assert_eq!(e[0].field, "items[0]");
    }

    #[test]
    fn wholesale_only_skus_are_forbidden_to_shoppers() {
        let s = sku(
            CooperativeId::generate(),
            Storage::Ambient,
            SalesChannel::Wholesale,
        );
        let skus = HashMap::from([(s.id, s.clone())]);
        let err = price_lines(&lines(&[(s.id, 30)]), &skus, Buyer::Retail).unwrap_err();
        assert!(matches!(err, ApiError::Forbidden(_)), "{err:?}");
    }

    #[test]
    fn one_fulfilment_per_coop_and_warehouse_travelling_at_the_coldest_storage() {
        let coop = CooperativeId::generate();
        let (rice, pears) = (
            sku(coop, Storage::Ambient, SalesChannel::Both),
            sku(coop, Storage::Frozen, SalesChannel::Both),
        );
        let skus = HashMap::from([(rice.id, rice.clone()), (pears.id, pears.clone())]);
        let priced =
            price_lines(&lines(&[(rice.id, 1), (pears.id, 2)]), &skus, Buyer::Retail).unwrap();
        let (cold, dry) = (WarehouseId::generate(), WarehouseId::generate());
        let allocations = vec![
            Allocation {
                index: 0,
                warehouse_id: cold,
                quantity: 1,
            },
            Allocation {
                index: 1,
                warehouse_id: cold,
                quantity: 2,
            },
        ];
        let rates = vec![rate(Storage::Ambient), rate(Storage::Frozen)];
        let plan = build_plan(&priced, &allocations, &rates, &shantou()).unwrap();
        assert_eq!(plan.fulfilments.len(), 1);
        let f = &plan.fulfilments[0];
        assert_eq!(f.storage, Storage::Frozen);
        // 3 × 2.5 kg = 7.5 kg → 8 started kg: 12 + 7 × 2
        assert_eq!(f.shipping_fee, yuan("26.00"));
        assert_eq!(plan.subtotal, yuan("30.00"));
        assert_eq!(plan.total, yuan("56.00"));
        assert_ne!(cold, dry);
    }

    #[test]
    fn a_missing_rate_is_an_internal_error_and_a_huge_total_a_validation_error() {
        let s = sku(
            CooperativeId::generate(),
            Storage::Chilled,
            SalesChannel::Both,
        );
        let skus = HashMap::from([(s.id, s.clone())]);
        let priced = price_lines(&lines(&[(s.id, 1)]), &skus, Buyer::Retail).unwrap();
        let one = vec![Allocation {
            index: 0,
            warehouse_id: WarehouseId::generate(),
            quantity: 1,
        }];
        let err = build_plan(&priced, &one, &[rate(Storage::Ambient)], &shantou()).unwrap_err();
        assert!(matches!(err, ApiError::Internal(_)), "{err:?}");
        let mut dear = priced.clone();
        dear[0].unit_price = Money::from_fen(i64::MAX / 2);
        let many = vec![Allocation {
            quantity: 3,
            ..one[0].clone()
        }];
        let err = build_plan(&dear, &many, &[rate(Storage::Chilled)], &shantou()).unwrap_err();
        assert!(matches!(err, ApiError::Validation(_)), "{err:?}");
    }

    #[test]
    fn lines_and_orders_keep_to_the_ceiling() {
        let mut s = sku(
            CooperativeId::generate(),
            Storage::Ambient,
            SalesChannel::Both,
        );
        s.priced.price = Money::MAX;
        let skus = HashMap::from([(s.id, s.clone())]);
        assert!(price_lines(&lines(&[(s.id, 1)]), &skus, Buyer::Retail).is_ok());
        let ApiError::Validation(e) =
            price_lines(&lines(&[(s.id, 2)]), &skus, Buyer::Retail).unwrap_err()
        else {
            panic!("expected the line ceiling")
        };
        assert_eq!(e[0].field, "items[0]");
        // one line at the ceiling plus shipping is over it as an order
        let priced = price_lines(&lines(&[(s.id, 1)]), &skus, Buyer::Retail).unwrap();
        let one = vec![Allocation {
            index: 0,
            warehouse_id: WarehouseId::generate(),
            quantity: 1,
        }];
        let mut no_free = rate(Storage::Ambient);
        no_free.free_over = None;
        let err = build_plan(&priced, &one, &[no_free], &shantou()).unwrap_err();
        assert!(matches!(err, ApiError::Validation(_)), "{err:?}");
    }

    #[test]
    fn reservations_are_taken_in_sku_then_warehouse_order() {
        let coop = CooperativeId::generate();
        let (a, b) = (
            sku(coop, Storage::Ambient, SalesChannel::Both),
            sku(coop, Storage::Ambient, SalesChannel::Both),
        );
        let skus = HashMap::from([(a.id, a.clone()), (b.id, b.clone())]);
        let priced = price_lines(&lines(&[(a.id, 4), (b.id, 1)]), &skus, Buyer::Retail).unwrap();
        let (w1, w2) = (WarehouseId::generate(), WarehouseId::generate());
        let allocations = vec![
            Allocation {
                index: 0,
                warehouse_id: w2,
                quantity: 2,
            },
            Allocation {
                index: 1,
                warehouse_id: w1,
                quantity: 1,
            },
            Allocation {
                index: 0,
                warehouse_id: w1,
                quantity: 2,
            },
        ];
        let plan =
            build_plan(&priced, &allocations, &[rate(Storage::Ambient)], &shantou()).unwrap();
        let order: Vec<(SkuId, WarehouseId)> = plan
            .reservations()
            .iter()
            .map(|r| (r.sku_id, r.warehouse_id))
            .collect();
        let mut expected = vec![(a.id, w1), (a.id, w2), (b.id, w1)];
        expected.sort();
        assert_eq!(order, expected);
    }
}
