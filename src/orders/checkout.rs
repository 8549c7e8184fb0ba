//! Checkout: turns requested lines into a priced plan — which warehouse ships what, split into
//! one fulfilment per co-op and warehouse, with shipping fees — the same way for the cart page,
//! the preview and the order itself. It reads the catalogue, stock and the rate table, then
//! hands everything to the pure rules in `plan` and `allocation`. Reservation happens when the
//! order is placed.

use super::allocation::{allocate, insufficient};
use super::domain::Address;
use super::lines::Lines;
use super::plan::{build_plan, price_lines, Plan, PricedLine};
use super::shipping;
use crate::catalogue::for_sale;
use crate::catalogue::pricing::Buyer;
use crate::db::DbConn;
use crate::delivery::departures;
use crate::http::error::ApiError;
use crate::ids::SkuId;
use crate::inventory::domain::StockOption;
use crate::inventory::lots::{self, domain::date_text};

/// Whether scheduling books truck capacity (an order) or only looks (a preview).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduling {
    Peek,
    Book,
}

/// Gives each fulfilment its departure: the first of its co-op's trucks whose cut-off is
/// after now (China time) with room for its weight, else the next day without a timetable.
pub fn schedule(conn: &mut DbConn, plan: &mut Plan, how: Scheduling) -> Result<(), ApiError> {
    let now = departures::china_time(crate::db::now());
    for f in &mut plan.fulfilments {
        f.slot = Some(departures::slot_for(
            conn,
            f.cooperative_id,
            &f.timetable,
            now,
            f.weight_grams,
            how == Scheduling::Book,
        )?);
    }
    Ok(())
}

/// The whole of checkout for a set of lines: prices, stock, split and fees. Lot-tracked SKUs
/// count only lots that are sellable to this buyer (active, and good for at least
/// `min_shelf_life_days` after today; the order checks again against each fulfilment's
/// delivery estimate when it reserves).
pub fn plan(
    conn: &mut DbConn,
    lines: &Lines,
    buyer: Buyer,
    min_shelf_life_days: i64,
    destination: &Address,
) -> Result<Plan, ApiError> {
    let ids = lines.sku_ids();
    // the SKUs, their stock rows and the rates to the destination in one statement; a
    // lot-tracked SKU's stock is its lots
    let for_sale::ForCheckout {
        skus,
        mut stock,
        rates,
    } = for_sale::load_with_stock(conn, &ids, buyer == Buyer::Wholesale, &destination.province)?;
    let priced = price_lines(lines, &skus, buyer)?;
    let tracked: Vec<SkuId> = ids
        .iter()
        .copied()
        .filter(|id| skus.get(id).is_some_and(|s| s.lot_tracked))
        .collect();
    stock.retain(|id, _| !tracked.contains(id));
    let mut lot_options = Vec::new();
    if !tracked.is_empty() {
        let not_before =
            date_text(lots::domain::today() + chrono::Duration::days(min_shelf_life_days));
        for (lot, cold) in lots::repo::sellable(conn, &tracked, &not_before)? {
            let options: &mut Vec<StockOption> = stock.entry(lot.sku_id).or_default();
            match options
                .iter_mut()
                .find(|o| o.warehouse_id == lot.warehouse_id)
            {
                Some(o) => o.available += lot.available,
                None => options.push(StockOption {
                    warehouse_id: lot.warehouse_id,
                    cold,
                    available: lot.available,
                }),
            }
            lot_options.push(lot);
        }
    }
    let demands: Vec<_> = priced.iter().map(PricedLine::demand).collect();
    let allocations = allocate(&demands, &stock).map_err(insufficient)?;
    let rates: Vec<shipping::Rate> = rates
        .into_iter()
        .map(shipping::Rate::from_columns)
        .collect();
    let mut plan = build_plan(&priced, &allocations, &rates, destination)?;
    plan.lot_options = lot_options;
    plan.min_shelf_life_days = min_shelf_life_days;
    Ok(plan)
}
