//! Checkout: turns requested lines into a priced plan — which warehouse ships what, split into
//! one fulfilment per co-op and warehouse, with shipping fees — the same way for the cart page,
//! the preview and the order itself. Reading only; reservation happens when the order is placed.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::allocation::{allocate, insufficient, Allocation, StockOption};
use super::domain::Address;
use super::shipping::{self, Rate};
use crate::catalogue::pricing::{unit_price_for, Buyer, PriceRefusal, PricedSku};
use crate::catalogue::product::Tier;
use crate::catalogue::{SalesChannel, Storage};
use crate::db::schema::{cooperatives, products, sku_tiers, skus, stock, warehouses};
use crate::db::DbConn;
use crate::http::error::{ApiError, FieldError};
use crate::ids::SkuId;
use crate::money::Money;

pub const MAX_LINES: usize = 200;
pub const MAX_QUANTITY: i64 = 100_000;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
pub struct LineInput {
    pub sku_id: SkuId,
    pub quantity: i64,
}

/// What checkout needs to know about a SKU for sale.
#[derive(Debug, Clone)]
pub struct SkuInfo {
    pub id: String,
    pub code: String,
    pub name: String,
    pub product_name: String,
    pub cooperative_id: String,
    pub storage: Storage,
    pub net_weight_grams: i64,
    pub priced: PricedSku,
    pub for_sale: bool,
}

/// A request line that passed the per-line rules.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub index: usize,
    pub sku: SkuInfo,
    pub quantity: i64,
    pub unit_price: Money,
}

#[derive(Debug, Clone)]
pub struct PlannedItem {
    pub index: usize,
    pub sku: SkuInfo,
    pub warehouse_id: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
}

#[derive(Debug, Clone)]
pub struct PlannedFulfilment {
    pub cooperative_id: String,
    pub warehouse_id: String,
    pub storage: Storage,
    pub shipping_fee: Money,
    pub items: Vec<PlannedItem>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub fulfilments: Vec<PlannedFulfilment>,
    pub subtotal: Money,
    pub shipping_fee: Money,
    pub total: Money,
}

impl Plan {
    /// Every allocation, in the order locks should be taken (SKU, then warehouse), so two
    /// orders never wait on each other's rows in opposite orders.
    pub fn reservations(&self) -> Vec<(&str, &str, i64, usize)> {
        let mut r: Vec<_> = self
            .fulfilments
            .iter()
            .flat_map(|f| {
                f.items.iter().map(|i| {
                    (
                        i.sku.id.as_str(),
                        i.warehouse_id.as_str(),
                        i.quantity,
                        i.index,
                    )
                })
            })
            .collect();
        r.sort();
        r
    }
}

/// Basic checks on the requested lines: positive quantities, no SKU twice.
pub fn check_lines(lines: &[LineInput]) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if lines.is_empty() {
        errors.push(FieldError::new(
            "items",
            "the order has no items (and the cart is empty)",
        ));
    }
    if lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "items",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    for (i, l) in lines.iter().enumerate() {
        if !(1..=MAX_QUANTITY).contains(&l.quantity) {
            errors.push(FieldError::new(
                format!("items[{i}].quantity"),
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        if lines[..i].iter().any(|o| o.sku_id == l.sku_id) {
            errors.push(FieldError::new(
                format!("items[{i}].sku_id"),
                "appears twice; combine the lines",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// SKUs with their product and co-op in one statement, and their tiers in a second when
/// asked (only business buyers' prices use them).
pub fn load_skus(
    conn: &mut DbConn,
    ids: &[String],
    with_tiers: bool,
) -> Result<HashMap<String, SkuInfo>, ApiError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        String,
        String,
        String,
        i64,
        i64,
        String,
        Option<i64>,
        String,
        String,
        String,
        String,
        String,
    )> = skus::table
        .inner_join(products::table.inner_join(cooperatives::table))
        .filter(skus::id.eq_any(ids))
        .select((
            skus::id,
            skus::code,
            skus::name,
            skus::net_weight_grams,
            skus::price,
            skus::sales_channel,
            skus::min_order_quantity,
            skus::cooperative_id,
            products::name,
            products::storage,
            products::status,
            cooperatives::status,
        ))
        .load(conn)?;
    let mut tiers: HashMap<String, Vec<Tier>> = HashMap::new();
    // retail prices never use tiers: skip the query for shoppers
    let tier_rows: Vec<(String, i64, i64)> = if with_tiers {
        sku_tiers::table
            .filter(sku_tiers::sku_id.eq_any(ids))
            .order((sku_tiers::sku_id.asc(), sku_tiers::min_quantity.asc()))
            .select((
                sku_tiers::sku_id,
                sku_tiers::min_quantity,
                sku_tiers::unit_price,
            ))
            .load(conn)?
    } else {
        Vec::new()
    };
    for (sku, q, p) in tier_rows {
        tiers.entry(sku).or_default().push(Tier {
            min_quantity: q,
            unit_price: Money::from_fen(p),
        });
    }
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                code,
                name,
                grams,
                price,
                channel,
                moq,
                coop,
                product_name,
                storage,
                pstatus,
                cstatus,
            )| {
                let info = SkuInfo {
                    priced: PricedSku {
                        price: Money::from_fen(price),
                        sales_channel: SalesChannel::parse(&channel)
                            .unwrap_or(SalesChannel::Retail),
                        min_order_quantity: moq,
                        tiers: tiers.remove(&id).unwrap_or_default(),
                    },
                    id: id.clone(),
                    code,
                    name,
                    product_name,
                    cooperative_id: coop,
                    storage: Storage::parse(&storage).unwrap_or(Storage::Ambient),
                    net_weight_grams: grams,
                    for_sale: pstatus == "published" && cstatus == "active",
                };
                (id, info)
            },
        )
        .collect())
}

/// Sellable stock per SKU and warehouse (one statement).
pub fn load_stock(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<HashMap<String, Vec<StockOption>>, ApiError> {
    let rows: Vec<(String, String, bool, i64, i64)> = stock::table
        .inner_join(warehouses::table)
        .filter(stock::sku_id.eq_any(ids))
        .select((
            stock::sku_id,
            stock::warehouse_id,
            warehouses::cold_storage,
            stock::on_hand,
            stock::reserved,
        ))
        .order((stock::sku_id.asc(), stock::warehouse_id.asc()))
        .load(conn)?;
    let mut map: HashMap<String, Vec<StockOption>> = HashMap::new();
    for (sku, wh, cold, on_hand, reserved) in rows {
        map.entry(sku).or_default().push(StockOption {
            warehouse_id: wh,
            cold,
            available: on_hand - reserved,
        });
    }
    Ok(map)
}

/// Applies the price rules to each line; every refusal is reported, by line.
pub fn price_lines(
    lines: &[LineInput],
    skus: &HashMap<String, SkuInfo>,
    buyer: Buyer,
) -> Result<Vec<PricedLine>, ApiError> {
    let mut invalid = Vec::new();
    let mut forbidden = Vec::new();
    let mut priced = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(sku) = skus.get(&l.sku_id.db()).filter(|s| s.for_sale) else {
            invalid.push(FieldError::new(
                format!("items[{i}].sku_id"),
                "no such SKU is for sale",
            ));
            continue;
        };
        match unit_price_for(&sku.priced, buyer, l.quantity) {
            Ok(unit_price) => priced.push(PricedLine {
                index: i,
                sku: sku.clone(),
                quantity: l.quantity,
                unit_price,
            }),
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
    let overflow = || ApiError::field("items", "the order total is too large");
    let mut groups: BTreeMap<(String, String), Vec<PlannedItem>> = BTreeMap::new();
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
            .entry((line.sku.cooperative_id.clone(), a.warehouse_id.clone()))
            .or_default()
            .push(PlannedItem {
                index: a.index,
                sku: line.sku.clone(),
                warehouse_id: a.warehouse_id.clone(),
                quantity: a.quantity,
                unit_price: line.unit_price,
                line_total,
            });
    }
    let mut fulfilments = Vec::new();
    let (mut subtotal, mut shipping_fee) = (Money::ZERO, Money::ZERO);
    for ((coop, wh), mut items) in groups {
        items.sort_by_key(|i| i.index);
        let storage = items
            .iter()
            .map(|i| i.sku.storage)
            .max_by_key(|s| match s {
                Storage::Ambient => 0,
                Storage::Chilled => 1,
                Storage::Frozen => 2,
            })
            .unwrap_or(Storage::Ambient);
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
        fulfilments.push(PlannedFulfilment {
            cooperative_id: coop,
            warehouse_id: wh,
            storage,
            shipping_fee: fee,
            items,
        });
    }
    let total = subtotal.checked_add(shipping_fee).ok_or_else(overflow)?;
    Ok(Plan {
        fulfilments,
        subtotal,
        shipping_fee,
        total,
    })
}

/// The whole of checkout for a set of lines: rules, stock, split and fees.
pub fn plan(
    conn: &mut DbConn,
    lines: &[LineInput],
    buyer: Buyer,
    destination: &Address,
) -> Result<Plan, ApiError> {
    check_lines(lines)?;
    let ids: Vec<String> = lines.iter().map(|l| l.sku_id.db()).collect();
    let skus = load_skus(conn, &ids, buyer == Buyer::Wholesale)?;
    let priced = price_lines(lines, &skus, buyer)?;
    let stock = load_stock(conn, &ids)?;
    let allocations = allocate(&priced, &stock).map_err(insufficient)?;
    let rates = shipping::load(conn)?;
    build_plan(&priced, &allocations, &rates, destination)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_and_bad_quantities_are_refused() {
        let id = SkuId::generate();
        let lines = vec![
            LineInput {
                sku_id: id,
                quantity: 0,
            },
            LineInput {
                sku_id: id,
                quantity: 2,
            },
        ];
        let ApiError::Validation(e) = check_lines(&lines).unwrap_err() else {
            panic!()
        };
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["items[0].quantity", "items[1].sku_id"]);
    }
}
