//! What checkout, the cart and CSV import need to know about SKUs on sale: one named row per
//! SKU with its product and co-op, read in one statement (and its tiers in a second, only for
//! business buyers, whose prices use them); for checkout, with the SKUs' stock rows in the
//! same statement.

use std::collections::HashMap;

use diesel::prelude::*;

use super::domain::{Pricing, ProductStatus, SalesChannel, Storage};
use super::pricing::PricedSku;
use super::product::Tier;
use super::repo::tiers_of;
use crate::cooperatives::domain::CooperativeStatus;
use crate::db::schema::{cooperatives, products, shipping_rates, skus, stock, warehouses};
use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::ids::{CooperativeId, SkuId, WarehouseId};
use crate::inventory::domain::StockOption;
use crate::money::Money;
use crate::orders::shipping::ANY_PROVINCE;

/// A SKU as a buyer meets it.
#[derive(Debug, Clone)]
pub struct SkuForSale {
    pub id: SkuId,
    pub code: String,
    pub name: String,
    pub product_name: String,
    pub cooperative_id: CooperativeId,
    pub storage: Storage,
    pub net_weight_grams: i64,
    pub priced: PricedSku,
    /// The co-op's cold-truck timetable as stored (JSON), if any
    pub departures: Option<String>,
    /// Published, and its co-op active.
    pub for_sale: bool,
    /// Stock held in lots, reserved first-expired-first-out.
    pub lot_tracked: bool,
    pub pricing: Pricing,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = skus)]
struct Row {
    id: SkuId,
    code: String,
    name: String,
    net_weight_grams: i64,
    price: i64,
    sales_channel: SalesChannel,
    min_order_quantity: Option<i64>,
    cooperative_id: CooperativeId,
    #[diesel(select_expression = products::name)]
    product_name: String,
    #[diesel(select_expression = products::storage)]
    storage: Storage,
    #[diesel(select_expression = products::status)]
    product_status: ProductStatus,
    #[diesel(select_expression = cooperatives::status)]
    cooperative_status: CooperativeStatus,
    #[diesel(select_expression = cooperatives::departures)]
    departures: Option<String>,
    lot_tracked: bool,
    pricing: Pricing,
}

/// The SKUs among `ids` that exist, keyed by id.
pub fn load(
    conn: &mut DbConn,
    ids: &[SkuId],
    with_tiers: bool,
) -> Result<HashMap<SkuId, SkuForSale>, ApiError> {
    let query = skus::table
        .inner_join(products::table.inner_join(cooperatives::table))
        .select(Row::as_select())
        .into_boxed();
    let query = crate::filter_ids!(query, skus::id, ids);
    let rows: Vec<Row> = crate::db::prepared::load_listed(conn, query, ids.len())?;
    for_sale(conn, rows, ids, with_tiers)
}

/// A SKU row's stock in one warehouse, when it has a stock row there.
type StockColumns = (Option<WarehouseId>, Option<bool>, Option<i64>, Option<i64>);

/// Stock rows by SKU, as checkout allocates from them.
pub type StockBySku = HashMap<SkuId, Vec<StockOption>>;

/// A shipping rate as stored: province, storage, first kilogram, each further kilogram, free
/// over, transit days (fen, days).
pub type RateColumns = (String, Storage, i64, i64, Option<i64>, i32);

/// Checkout's read, in one statement: the SKUs, their untracked stock rows, and the shipping
/// rates they may need.
pub struct ForCheckout {
    pub skus: HashMap<SkuId, SkuForSale>,
    pub stock: StockBySku,
    /// For each storage class among the SKUs, the `province`'s own rate and the `*` rate.
    pub rates: Vec<RateColumns>,
}

/// [`load`] and, in the same statement, each SKU's stock rows by warehouse (the SKUs'
/// untracked stock; lots are read apart) and the shipping rates to `province` (its own and the
/// `*` row) for the SKUs' storage classes: what checkout reads before an order.
pub fn load_with_stock(
    conn: &mut DbConn,
    ids: &[SkuId],
    with_tiers: bool,
    province: &str,
) -> Result<ForCheckout, ApiError> {
    let query = skus::table
        .inner_join(products::table.inner_join(cooperatives::table))
        // plain LEFT JOINs: SQLite materialises a parenthesised `(stock JOIN warehouses)`
        // whole (every stock row) before joining it
        .left_join(stock::table)
        .left_join(
            warehouses::table.on(warehouses::id.nullable().eq(stock::warehouse_id.nullable())),
        )
        // up to two rate rows per storage class: a SKU row comes back once per rate row
        .left_join(
            shipping_rates::table.on(shipping_rates::storage.eq(products::storage).and(
                shipping_rates::province
                    .eq(province.to_owned())
                    .or(shipping_rates::province.eq(ANY_PROVINCE)),
            )),
        )
        .select((
            Row::as_select(),
            (
                stock::warehouse_id.nullable(),
                warehouses::cold_storage.nullable(),
                stock::on_hand.nullable(),
                stock::reserved.nullable(),
            ),
            (
                shipping_rates::province.nullable(),
                shipping_rates::storage.nullable(),
                shipping_rates::first_kg_fee.nullable(),
                shipping_rates::additional_kg_fee.nullable(),
                shipping_rates::free_over.nullable(),
                shipping_rates::transit_days.nullable(),
            ),
        ))
        .order((skus::id.asc(), stock::warehouse_id.asc()))
        .into_boxed();
    let query = crate::filter_ids!(query, skus::id, ids);
    let rows: Vec<(Row, StockColumns, NullableRate)> =
        crate::db::prepared::load_listed(conn, query, ids.len())?;
    let mut stock = StockBySku::new();
    let mut skus = Vec::new();
    let mut rates: Vec<RateColumns> = Vec::new();
    for (row, held, rate) in rows {
        if let (Some(warehouse_id), Some(cold), Some(on_hand), Some(reserved)) = held {
            let options = stock.entry(row.id).or_default();
            // the same stock row again, for the SKU's second rate row
            if options
                .last()
                .is_none_or(|o| o.warehouse_id != warehouse_id)
            {
                options.push(StockOption {
                    warehouse_id,
                    cold,
                    available: on_hand - reserved,
                });
            }
        }
        if let (Some(p), Some(s), Some(first), Some(extra), free, Some(days)) = rate {
            if !rates.iter().any(|r| r.0 == p && r.1 == s) {
                rates.push((p, s, first, extra, free, days));
            }
        }
        if skus.last().is_none_or(|last: &Row| last.id != row.id) {
            skus.push(row);
        }
    }
    Ok(ForCheckout {
        skus: for_sale(conn, skus, ids, with_tiers)?,
        stock,
        rates,
    })
}

/// A rate row's columns when the LEFT JOIN found one.
type NullableRate = (
    Option<String>,
    Option<Storage>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i32>,
);

/// SKU rows as buyers meet them, with their tiers (read now) when prices use them.
fn for_sale(
    conn: &mut DbConn,
    rows: Vec<Row>,
    ids: &[SkuId],
    with_tiers: bool,
) -> Result<HashMap<SkuId, SkuForSale>, ApiError> {
    let mut tiers = if with_tiers {
        tiers_of(conn, ids)?
    } else {
        HashMap::new()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let sku = SkuForSale {
                priced: PricedSku {
                    price: Money::from_fen(r.price),
                    sales_channel: r.sales_channel,
                    min_order_quantity: r.min_order_quantity,
                    tiers: tiers
                        .remove(&r.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(min_quantity, fen)| Tier {
                            min_quantity,
                            unit_price: Money::from_fen(fen),
                        })
                        .collect(),
                    per_kg_grams: (r.pricing == Pricing::PerKg).then_some(r.net_weight_grams),
                },
                pricing: r.pricing,
                id: r.id,
                code: r.code,
                name: r.name,
                product_name: r.product_name,
                cooperative_id: r.cooperative_id,
                storage: r.storage,
                net_weight_grams: r.net_weight_grams,
                departures: r.departures,
                lot_tracked: r.lot_tracked,
                for_sale: r.product_status == ProductStatus::Published
                    && r.cooperative_status == CooperativeStatus::Active,
            };
            (sku.id, sku)
        })
        .collect())
}

/// SKUs carrying any of `codes` (a code is unique per co-op, not across them), with their
/// co-op, so a spreadsheet's codes can be resolved.
pub fn by_codes(
    conn: &mut DbConn,
    codes: &[&str],
) -> Result<Vec<(String, SkuId, CooperativeId)>, ApiError> {
    Ok(skus::table
        .filter(skus::code.eq_any(codes))
        .select((skus::code, skus::id, skus::cooperative_id))
        .load(conn)?)
}
