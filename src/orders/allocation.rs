//! Which warehouses ship an order: per co-op, one warehouse where one can ship it all, cold
//! goods only from cold stores, a line split over warehouses only when it must be. Pure, so
//! the rules are unit-tested without a database.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use utoipa::ToSchema;

use crate::catalogue::Storage;
use crate::http::error::{ApiError, FieldError};
use crate::ids::{CooperativeId, SkuId, WarehouseId};
use crate::inventory::domain::StockOption;

/// What one order line asks of the warehouses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Demand {
    /// The line's position in the request.
    pub index: usize,
    pub sku_id: SkuId,
    pub cooperative_id: CooperativeId,
    pub storage: Storage,
    pub quantity: i64,
}

/// One warehouse's share of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub index: usize,
    pub warehouse_id: WarehouseId,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shortage {
    pub sku_id: SkuId,
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
    demands: &[Demand],
    stock: &HashMap<SkuId, Vec<StockOption>>,
) -> Result<Vec<Allocation>, Vec<Shortage>> {
    let empty = Vec::new();
    let mut by_coop: BTreeMap<CooperativeId, Vec<&Demand>> = BTreeMap::new();
    for d in demands {
        by_coop.entry(d.cooperative_id).or_default().push(d);
    }
    let mut allocations = Vec::new();
    let mut shortages = Vec::new();
    for coop_demands in by_coop.values() {
        // score each warehouse by how many of the co-op's lines it covers whole
        let mut score: BTreeMap<WarehouseId, (usize, i64)> = BTreeMap::new();
        for d in coop_demands {
            for o in eligible(stock.get(&d.sku_id).unwrap_or(&empty), d.storage) {
                let e = score.entry(o.warehouse_id).or_default();
                if o.available >= d.quantity {
                    e.0 += 1;
                }
                e.1 += o.available.max(0);
            }
        }
        let primary = score
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(w, _)| *w);
        for d in coop_demands {
            let mut options: Vec<&StockOption> =
                eligible(stock.get(&d.sku_id).unwrap_or(&empty), d.storage)
                    .filter(|o| o.available > 0)
                    .collect();
            let total: i64 = options.iter().map(|o| o.available).sum();
            if total < d.quantity {
                shortages.push(Shortage {
                    sku_id: d.sku_id,
                    requested: d.quantity,
                    available: total,
                    index: d.index,
                });
                continue;
            }
            options.sort_by(|a, b| {
                let pa = Some(a.warehouse_id) == primary;
                let pb = Some(b.warehouse_id) == primary;
                pb.cmp(&pa)
                    .then(b.available.cmp(&a.available))
                    .then(a.warehouse_id.cmp(&b.warehouse_id))
            });
            let mut left = d.quantity;
            for o in options {
                if left == 0 {
                    break;
                }
                let take = left.min(o.available);
                allocations.push(Allocation {
                    index: d.index,
                    warehouse_id: o.warehouse_id,
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

    fn demand(index: usize, sku: SkuId, coop: CooperativeId, storage: Storage, q: i64) -> Demand {
        Demand {
            index,
            sku_id: sku,
            cooperative_id: coop,
            storage,
            quantity: q,
        }
    }

    fn opt(w: WarehouseId, cold: bool, available: i64) -> StockOption {
        StockOption {
            warehouse_id: w,
            cold,
            available,
        }
    }

    #[test]
    fn one_warehouse_per_coop_when_it_can() {
        let (a, b, c1) = (
            SkuId::generate(),
            SkuId::generate(),
            CooperativeId::generate(),
        );
        let (w1, w2) = (WarehouseId::generate(), WarehouseId::generate());
        let demands = vec![
            demand(0, a, c1, Storage::Ambient, 3),
            demand(1, b, c1, Storage::Ambient, 2),
        ];
        let stock = HashMap::from([
            (a, vec![opt(w1, false, 10), opt(w2, false, 50)]),
            (b, vec![opt(w1, false, 5)]),
        ]);
        let got = allocate(&demands, &stock).unwrap();
        assert!(got.iter().all(|x| x.warehouse_id == w1), "{got:?}");
    }

    #[test]
    fn frozen_goods_only_from_cold_stores() {
        let (pear, c1) = (SkuId::generate(), CooperativeId::generate());
        let (dry, cold) = (WarehouseId::generate(), WarehouseId::generate());
        let demands = vec![demand(0, pear, c1, Storage::Frozen, 3)];
        let stock = HashMap::from([(pear, vec![opt(dry, false, 100), opt(cold, true, 2)])]);
        let s = allocate(&demands, &stock).unwrap_err();
        assert_eq!(s[0].available, 2);
        let stock = HashMap::from([(pear, vec![opt(dry, false, 100), opt(cold, true, 5)])]);
        assert_eq!(allocate(&demands, &stock).unwrap()[0].warehouse_id, cold);
    }

    #[test]
    fn a_line_may_be_split_across_warehouses() {
        let (a, c1) = (SkuId::generate(), CooperativeId::generate());
        let (w1, w2) = (WarehouseId::generate(), WarehouseId::generate());
        let demands = vec![demand(0, a, c1, Storage::Ambient, 5)];
        let stock = HashMap::from([(a, vec![opt(w1, false, 3), opt(w2, false, 3)])]);
        let got = allocate(&demands, &stock).unwrap();
        assert_eq!(got.iter().map(|x| x.quantity).sum::<i64>(), 5);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn shortages_name_each_line() {
        let (a, b) = (SkuId::generate(), SkuId::generate());
        let (c1, c2) = (CooperativeId::generate(), CooperativeId::generate());
        let demands = vec![
            demand(0, a, c1, Storage::Ambient, 1),
            demand(1, b, c2, Storage::Ambient, 9),
        ];
        let stock = HashMap::from([
            (a, vec![opt(WarehouseId::generate(), false, 3)]),
            (b, vec![opt(WarehouseId::generate(), false, 4)]),
        ]);
        let s = allocate(&demands, &stock).unwrap_err();
        assert_eq!(
            s,
            vec![Shortage {
                sku_id: b,
                requested: 9,
                available: 4,
                index: 1
            }]
        );
    }
}
