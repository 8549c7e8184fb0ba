//! Which warehouses ship an order: per co-op, one warehouse where one can ship it all, cold
//! goods only from cold stores, a line split over warehouses only when it must be. Pure, so
//! the rules are unit-tested without a database.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use utoipa::ToSchema;

use super::checkout::PricedLine;
use crate::catalogue::Storage;
use crate::http::error::{ApiError, FieldError};

/// Sellable units of a SKU in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockOption {
    pub warehouse_id: String,
    pub cold: bool,
    pub available: i64,
}

/// One warehouse's share of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub index: usize,
    pub warehouse_id: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shortage {
    pub sku_id: String,
    pub requested: i64,
    pub available: i64,
    #[serde(skip)]
    pub index: usize,
}

fn eligible(options: &[StockOption], storage: Storage) -> impl Iterator<Item = &StockOption> {
    options
        .iter()
        .filter(move |o| o.cold || !storage.needs_cold_chain())
}

/// Chooses warehouses: per co-op, the warehouse that can ship the most of its lines whole
/// (so the co-op sends one parcel where it can); the rest from the co-op's other eligible
/// warehouses, fullest first. Chilled and frozen goods only come from cold stores.
pub fn allocate(
    lines: &[PricedLine],
    stock: &HashMap<String, Vec<StockOption>>,
) -> Result<Vec<Allocation>, Vec<Shortage>> {
    let empty = Vec::new();
    let mut by_coop: BTreeMap<&str, Vec<&PricedLine>> = BTreeMap::new();
    for l in lines {
        by_coop
            .entry(l.sku.cooperative_id.as_str())
            .or_default()
            .push(l);
    }
    let mut allocations = Vec::new();
    let mut shortages = Vec::new();
    for coop_lines in by_coop.values() {
        // score each warehouse by how many of the co-op's lines it covers whole
        let mut score: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
        for l in coop_lines {
            for o in eligible(stock.get(&l.sku.id).unwrap_or(&empty), l.sku.storage) {
                let e = score.entry(o.warehouse_id.as_str()).or_default();
                if o.available >= l.quantity {
                    e.0 += 1;
                }
                e.1 += o.available.max(0);
            }
        }
        let primary = score
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(w, _)| w.to_string());
        for l in coop_lines {
            let mut options: Vec<&StockOption> =
                eligible(stock.get(&l.sku.id).unwrap_or(&empty), l.sku.storage)
                    .filter(|o| o.available > 0)
                    .collect();
            let total: i64 = options.iter().map(|o| o.available).sum();
            if total < l.quantity {
                shortages.push(Shortage {
                    sku_id: l.sku.id.clone(),
                    requested: l.quantity,
                    available: total,
                    index: l.index,
                });
                continue;
            }
            options.sort_by(|a, b| {
                let pa = Some(&a.warehouse_id) == primary.as_ref();
                let pb = Some(&b.warehouse_id) == primary.as_ref();
                pb.cmp(&pa)
                    .then(b.available.cmp(&a.available))
                    .then(a.warehouse_id.cmp(&b.warehouse_id))
            });
            let mut left = l.quantity;
            for o in options {
                if left == 0 {
                    break;
                }
                let take = left.min(o.available);
                allocations.push(Allocation {
                    index: l.index,
                    warehouse_id: o.warehouse_id.clone(),
                    quantity: take,
                });
                left -= take;
            }
        }
    }
    if shortages.is_empty() {
        Ok(allocations)
    } else {
        shortages.sort_by_key(|s| s.index);
        Err(shortages)
    }
}

/// The 409 for lines that cannot be covered.
pub fn insufficient(shortages: Vec<Shortage>) -> ApiError {
    let errors = shortages
        .iter()
        .map(|s| {
            FieldError::new(
                format!("items[{}]", s.index),
                format!("only {} available, {} requested", s.available, s.requested),
            )
        })
        .collect();
    ApiError::InsufficientStock {
        errors,
        extra: serde_json::json!({ "shortages": shortages }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::pricing::PricedSku;
    use crate::catalogue::SalesChannel;
    use crate::orders::checkout::SkuInfo;

    fn sku(id: &str, coop: &str, storage: Storage) -> SkuInfo {
        SkuInfo {
            id: id.into(),
            code: id.into(),
            name: id.into(),
            product_name: id.into(),
            cooperative_id: coop.into(),
            storage,
            net_weight_grams: 1000,
            priced: PricedSku {
                price: "10.00".parse().unwrap(),
                sales_channel: SalesChannel::Retail,
                min_order_quantity: None,
                tiers: vec![],
            },
            for_sale: true,
        }
    }

    fn line(index: usize, s: SkuInfo, q: i64) -> PricedLine {
        PricedLine {
            index,
            unit_price: s.priced.price,
            sku: s,
            quantity: q,
        }
    }

    fn opt(w: &str, cold: bool, available: i64) -> StockOption {
        StockOption {
            warehouse_id: w.into(),
            cold,
            available,
        }
    }

    #[test]
    fn one_warehouse_per_coop_when_it_can() {
        let lines = vec![
            line(0, sku("a", "c1", Storage::Ambient), 3),
            line(1, sku("b", "c1", Storage::Ambient), 2),
        ];
        let stock = HashMap::from([
            (
                "a".to_string(),
                vec![opt("w1", false, 10), opt("w2", false, 50)],
            ),
            ("b".to_string(), vec![opt("w1", false, 5)]),
        ]);
        let a = allocate(&lines, &stock).unwrap();
        assert!(a.iter().all(|x| x.warehouse_id == "w1"), "{a:?}");
    }

    #[test]
    fn frozen_goods_only_from_cold_stores() {
        let lines = vec![line(0, sku("pear", "c1", Storage::Frozen), 3)];
        let stock = HashMap::from([(
            "pear".to_string(),
            vec![opt("dry", false, 100), opt("cold", true, 2)],
        )]);
        let s = allocate(&lines, &stock).unwrap_err();
        assert_eq!(s[0].available, 2);
        let stock = HashMap::from([(
            "pear".to_string(),
            vec![opt("dry", false, 100), opt("cold", true, 5)],
        )]);
        assert_eq!(allocate(&lines, &stock).unwrap()[0].warehouse_id, "cold");
    }

    #[test]
    fn a_line_may_be_split_across_warehouses() {
        let lines = vec![line(0, sku("a", "c1", Storage::Ambient), 5)];
        let stock = HashMap::from([(
            "a".to_string(),
            vec![opt("w1", false, 3), opt("w2", false, 3)],
        )]);
        let a = allocate(&lines, &stock).unwrap();
        assert_eq!(a.iter().map(|x| x.quantity).sum::<i64>(), 5);
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn shortages_name_each_line() {
        let lines = vec![
            line(0, sku("a", "c1", Storage::Ambient), 1),
            line(1, sku("b", "c2", Storage::Ambient), 9),
        ];
        let stock = HashMap::from([
            ("a".to_string(), vec![opt("w1", false, 3)]),
            ("b".to_string(), vec![opt("w9", false, 4)]),
        ]);
        let s = allocate(&lines, &stock).unwrap_err();
        assert_eq!(
            s,
            vec![Shortage {
                sku_id: "b".into(),
                requested: 9,
                available: 4,
                index: 1
            }]
        );
    }
}
