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
use crate::inventory;

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

/// The whole of checkout for a set of lines: prices, stock, split and fees.
pub fn plan(
    conn: &mut DbConn,
    lines: &Lines,
    buyer: Buyer,
    destination: &Address,
) -> Result<Plan, ApiError> {
    let ids = lines.sku_ids();
    let skus = for_sale::load(conn, &ids, buyer == Buyer::Wholesale)?;
    let priced = price_lines(lines, &skus, buyer)?;
    let stock = inventory::repo::sellable_stock(conn, &ids)?;
    let demands: Vec<_> = priced.iter().map(PricedLine::demand).collect();
    let allocations = allocate(&demands, &stock).map_err(insufficient)?;
    let rates = shipping::load(conn)?;
    build_plan(&priced, &allocations, &rates, destination)
}
