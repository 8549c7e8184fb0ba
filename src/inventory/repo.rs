//! Stock queries and the primitives every stock change goes through. Each primitive is one
//! conditional UPDATE inside the caller's transaction — never read-then-write in Rust — so no
//! interleaving of requests can oversell or drive a count below zero.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{MovementKind, StockOption, MAX_ON_HAND};
use super::lots::{self, domain::date_text};
use crate::db::prepared::Keep;
use crate::db::schema::{skus, stock, stock_movements, warehouses};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::http::pagination::{time_key, Page, Paginated};
use crate::ids::{CooperativeId, LotId, MovementId, OrderId, SkuId, UserId, WarehouseId};

#[derive(Debug, Clone, Queryable)]
pub struct StockRow {
    pub sku_id: SkuId,
    pub sku_code: String,
    pub warehouse_id: WarehouseId,
    pub on_hand: i64,
    pub reserved: i64,
    pub version: i64,
    pub updated_at: NaiveDateTime,
    pub low_stock_threshold: i64,
}

type StockColumns = (
    stock::sku_id,
    skus::code,
    stock::warehouse_id,
    stock::on_hand,
    stock::reserved,
    stock::version,
    stock::updated_at,
    skus::low_stock_threshold,
);

const STOCK_COLUMNS: StockColumns = (
    stock::sku_id,
    skus::code,
    stock::warehouse_id,
    stock::on_hand,
    stock::reserved,
    stock::version,
    stock::updated_at,
    skus::low_stock_threshold,
);

/// A SKU's owner, for authorization and for checking warehouses belong with it.
pub fn sku_cooperative(
    conn: &mut DbConn,
    sku_id: SkuId,
) -> Result<Option<CooperativeId>, ApiError> {
    Ok(skus::table
        .find(sku_id)
        .select(skus::cooperative_id)
        .first(conn)
        .optional()?)
}

pub fn warehouse_cooperative(
    conn: &mut DbConn,
    warehouse_id: WarehouseId,
) -> Result<Option<CooperativeId>, ApiError> {
    Ok(warehouses::table
        .find(warehouse_id)
        .select(warehouses::cooperative_id)
        .first(conn)
        .optional()?)
}

pub fn find(
    conn: &mut DbConn,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
) -> Result<Option<StockRow>, ApiError> {
    Ok(stock::table
        .inner_join(skus::table)
        .filter(stock::sku_id.eq(sku_id))
        .filter(stock::warehouse_id.eq(warehouse_id))
        .select(STOCK_COLUMNS)
        .first(conn)
        .optional()?)
}

/// Sellable units now per SKU, summed over its warehouses: a lot-tracked SKU counts only its
/// active lots whose last day is today or later.
pub fn available_by_sku(
    conn: &mut DbConn,
    sku_ids: &[SkuId],
) -> Result<HashMap<SkuId, i64>, ApiError> {
    let rows: Vec<(SkuId, i64, i64, bool)> = stock::table
        .inner_join(skus::table)
        .filter(stock::sku_id.eq_any(sku_ids))
        .select((
            stock::sku_id,
            stock::on_hand,
            stock::reserved,
            skus::lot_tracked,
        ))
        .load(conn)?;
    let mut map = HashMap::new();
    let mut tracked = Vec::new();
    for (sku, on_hand, reserved, lot_tracked) in rows {
        if lot_tracked {
            tracked.push(sku);
        } else {
            *map.entry(sku).or_insert(0) += on_hand - reserved;
        }
    }
    if !tracked.is_empty() {
        let today = date_text(lots::domain::today());
        for (sku, available) in lots::repo::available_now(conn, &tracked, &today)? {
            *map.entry(sku).or_insert(0) += available;
        }
    }
    Ok(map)
}

/// Whether the product of the surrounding query (`products.id`) has something to sell now:
/// an untracked SKU with stock above its reservations, or a lot-tracked one with an active
/// lot in date with units left. Correlated on purpose: a catalogue page checks the products
/// it walks past, never the whole stock table.
pub fn product_in_stock<QS>(
) -> Box<dyn BoxableExpression<QS, db::MultiBackend, SqlType = diesel::sql_types::Bool>> {
    let today = date_text(lots::domain::today());
    Box::new(
        diesel::dsl::sql::<diesel::sql_types::Bool>(
            "EXISTS (SELECT 1 FROM skus k WHERE k.product_id = products.id AND (\
             (NOT k.lot_tracked AND EXISTS (SELECT 1 FROM stock t \
             WHERE t.sku_id = k.id AND t.on_hand > t.reserved)) \
             OR (k.lot_tracked AND EXISTS (SELECT 1 FROM lots l WHERE l.sku_id = k.id \
             AND l.status = 'active' AND l.on_hand > l.reserved AND l.best_before >= ",
        )
        .bind::<diesel::sql_types::Text, _>(today)
        .sql("))))"),
    )
}

/// Sellable stock per SKU and warehouse, in one statement.
pub fn sellable_stock(
    conn: &mut DbConn,
    sku_ids: &[SkuId],
) -> Result<HashMap<SkuId, Vec<StockOption>>, ApiError> {
    let query = stock::table
        .inner_join(warehouses::table)
        .select((
            stock::sku_id,
            stock::warehouse_id,
            warehouses::cold_storage,
            stock::on_hand,
            stock::reserved,
        ))
        .order((stock::sku_id.asc(), stock::warehouse_id.asc()))
        .into_boxed();
    let query = crate::filter_ids!(query, stock::sku_id, sku_ids);
    let rows: Vec<(SkuId, WarehouseId, bool, i64, i64)> =
        crate::db::prepared::load_listed(conn, query, sku_ids.len())?;
    let mut map: HashMap<SkuId, Vec<StockOption>> = HashMap::new();
    for (sku, warehouse_id, cold, on_hand, reserved) in rows {
        map.entry(sku).or_default().push(StockOption {
            warehouse_id,
            cold,
            available: on_hand - reserved,
        });
    }
    Ok(map)
}

/// Creates an empty stock row for (SKU, warehouse) unless it exists.
pub fn ensure_row(
    conn: &mut DbConn,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
    cooperative_id: CooperativeId,
) -> Result<(), ApiError> {
    let now = db::now();
    let values = (
        stock::sku_id.eq(sku_id),
        stock::warehouse_id.eq(warehouse_id),
        stock::cooperative_id.eq(cooperative_id),
        stock::on_hand.eq(0_i64),
        stock::reserved.eq(0_i64),
        stock::version.eq(1_i64),
        stock::updated_at.eq(now),
    );
    // the multi-backend has no ON CONFLICT: the same statement on each concrete connection
    match conn {
        DbConn::Pg(c) => diesel::insert_into(stock::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(stock::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(())
}

/// One ledger line.
#[derive(Debug, Clone, Copy)]
pub struct Movement<'a> {
    pub sku_id: SkuId,
    pub warehouse_id: WarehouseId,
    pub delta: i64,
    pub kind: MovementKind,
    pub reason: Option<&'a str>,
    pub order_id: Option<OrderId>,
    pub actor_id: Option<UserId>,
    /// Set on every movement of a lot-tracked SKU.
    pub lot_id: Option<LotId>,
}

pub fn record_movement(conn: &mut DbConn, m: &Movement<'_>) -> Result<(), ApiError> {
    record_movements(conn, std::slice::from_ref(m))
}

/// Several ledger lines in one statement.
pub fn record_movements(conn: &mut DbConn, ms: &[Movement<'_>]) -> Result<(), ApiError> {
    if ms.is_empty() {
        return Ok(());
    }
    let now = db::now();
    let rows: Vec<_> = ms
        .iter()
        .map(|m| {
            (
                stock_movements::id.eq(MovementId::generate()),
                stock_movements::sku_id.eq(m.sku_id),
                stock_movements::warehouse_id.eq(m.warehouse_id),
                stock_movements::delta.eq(m.delta),
                stock_movements::kind.eq(m.kind),
                stock_movements::reason.eq(m.reason),
                stock_movements::order_id.eq(m.order_id),
                stock_movements::actor_id.eq(m.actor_id),
                stock_movements::created_at.eq(now),
                stock_movements::lot_id.eq(m.lot_id),
            )
        })
        .collect();
    crate::insert_rows!(conn, stock_movements::table, rows)?;
    Ok(())
}

/// Adds `delta` to a stock row's `on_hand` unless that would leave less than is reserved or
/// more than [`MAX_ON_HAND`]; false when it would (or the row does not exist). No ledger line:
/// callers record theirs.
pub fn move_on_hand(
    conn: &mut DbConn,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
    delta: i64,
) -> Result<bool, ApiError> {
    let n = diesel::update(
        stock::table
            .filter(stock::sku_id.eq(sku_id))
            .filter(stock::warehouse_id.eq(warehouse_id))
            .filter((stock::on_hand + delta).ge(stock::reserved))
            .filter((stock::on_hand + delta).le(MAX_ON_HAND)),
    )
    .set((
        stock::on_hand.eq(stock::on_hand + delta),
        stock::version.eq(stock::version + 1),
        stock::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// [`move_on_hand`] and its ledger line.
pub fn apply_delta(
    conn: &mut DbConn,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
    delta: i64,
    kind: MovementKind,
    reason: Option<&str>,
    actor_id: Option<UserId>,
) -> Result<bool, ApiError> {
    let moved = move_on_hand(conn, sku_id, warehouse_id, delta)?;
    if moved {
        record_movement(
            conn,
            &Movement {
                sku_id,
                warehouse_id,
                delta,
                kind,
                reason,
                order_id: None,
                actor_id,
                lot_id: None,
            },
        )?;
    }
    Ok(moved)
}

/// Sets `on_hand` to a counted figure when the row is still at `seen_version` and the count
/// covers what is reserved. Returns the movement's delta, or `None` when the row moved on.
pub fn set_on_hand(
    conn: &mut DbConn,
    row: &StockRow,
    counted: i64,
    reason: Option<&str>,
    actor_id: Option<UserId>,
) -> Result<Option<i64>, ApiError> {
    let n = diesel::update(
        stock::table
            .filter(stock::sku_id.eq(row.sku_id))
            .filter(stock::warehouse_id.eq(row.warehouse_id))
            .filter(stock::version.eq(row.version))
            .filter(stock::reserved.le(counted)),
    )
    .set((
        stock::on_hand.eq(counted),
        stock::version.eq(stock::version + 1),
        stock::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let delta = counted - row.on_hand;
    if delta != 0 {
        record_movement(
            conn,
            &Movement {
                sku_id: row.sku_id,
                warehouse_id: row.warehouse_id,
                delta,
                kind: MovementKind::Stocktake,
                reason,
                order_id: None,
                actor_id,
                lot_id: None,
            },
        )?;
    }
    Ok(Some(delta))
}

/// Reserves `quantity` units if that many are available now; false otherwise.
pub fn reserve(
    conn: &mut DbConn,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
    quantity: i64,
) -> Result<bool, ApiError> {
    let n = Keep(
        diesel::update(
            stock::table
                .filter(stock::sku_id.eq(sku_id))
                .filter(stock::warehouse_id.eq(warehouse_id))
                .filter((stock::on_hand - stock::reserved).ge(quantity)),
        )
        .set((
            stock::reserved.eq(stock::reserved + quantity),
            stock::version.eq(stock::version + 1),
            stock::updated_at.eq(db::now()),
        ))
        // RETURNING: a statement run for its row count is never kept prepared (`db::prepared`)
        .returning(stock::version),
    )
    .get_results::<i64>(conn)?
    .len();
    Ok(n == 1)
}

/// Gives back a reservation. Releasing more than is reserved is a bug, not a user error.
pub fn release(
    conn: &mut DbConn,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
    quantity: i64,
) -> Result<(), ApiError> {
    let n = diesel::update(
        stock::table
            .filter(stock::sku_id.eq(sku_id))
            .filter(stock::warehouse_id.eq(warehouse_id))
            .filter(stock::reserved.ge(quantity)),
    )
    .set((
        stock::reserved.eq(stock::reserved - quantity),
        stock::version.eq(stock::version + 1),
        stock::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(ApiError::internal(format!(
            "release of {quantity} × {sku_id} at {warehouse_id} exceeds the reservation"
        )))
    }
}

/// Ships reserved units from a stock row: `on_hand` and `reserved` both drop. The caller
/// records the ledger lines (one per lot the units came from).
pub fn take_shipped(
    conn: &mut DbConn,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
    quantity: i64,
) -> Result<(), ApiError> {
    let n = diesel::update(
        stock::table
            .filter(stock::sku_id.eq(sku_id))
            .filter(stock::warehouse_id.eq(warehouse_id))
            .filter(stock::reserved.ge(quantity)),
    )
    .set((
        stock::on_hand.eq(stock::on_hand - quantity),
        stock::reserved.eq(stock::reserved - quantity),
        stock::version.eq(stock::version + 1),
        stock::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(ApiError::internal(format!(
            "shipping {quantity} × {sku_id} at {warehouse_id} exceeds the reservation"
        )))
    }
}

/// SKUs among these with any stock on hand or reserved.
pub fn holding_stock(
    conn: &mut DbConn,
    sku_ids: &[SkuId],
) -> Result<std::collections::HashSet<SkuId>, ApiError> {
    let rows: Vec<SkuId> = stock::table
        .filter(stock::sku_id.eq_any(sku_ids))
        .filter(stock::on_hand.gt(0_i64).or(stock::reserved.gt(0_i64)))
        .select(stock::sku_id)
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Filters for a co-op's stock list.
#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    pub sku_id: Option<SkuId>,
    pub warehouse_id: Option<WarehouseId>,
    pub low_stock: bool,
}

pub fn list(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    filter: &StockFilter,
    page: &Page,
) -> Result<Paginated<StockRow>, ApiError> {
    let mut q = stock::table
        .inner_join(skus::table)
        .filter(stock::cooperative_id.eq(cooperative_id))
        .select(STOCK_COLUMNS)
        .order((stock::sku_id.asc(), stock::warehouse_id.asc()))
        .into_boxed();
    if let Some(s) = filter.sku_id {
        q = q.filter(stock::sku_id.eq(s));
    }
    if let Some(w) = filter.warehouse_id {
        q = q.filter(stock::warehouse_id.eq(w));
    }
    if filter.low_stock {
        q = q.filter((stock::on_hand - stock::reserved).le(skus::low_stock_threshold));
    }
    if let Some(after) = &page.after {
        let [sku, wh] = <[String; 2]>::try_from(after.clone())
            .map_err(|_| ApiError::field("cursor", "is not a valid cursor"))?;
        q = q.filter(
            stock::sku_id
                .gt(sku.clone())
                .or(stock::sku_id.eq(sku).and(stock::warehouse_id.gt(wh))),
        );
    }
    let rows = crate::db::prepared::load_limited(conn, q, page.fetch_limit(), false)?;
    Ok(page.finish(rows, |r| {
        vec![r.sku_id.to_string(), r.warehouse_id.to_string()]
    }))
}

#[derive(Debug, Clone, Queryable)]
pub struct MovementRow {
    pub id: MovementId,
    pub warehouse_id: WarehouseId,
    pub delta: i64,
    pub kind: MovementKind,
    pub reason: Option<String>,
    pub order_id: Option<OrderId>,
    pub actor_id: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub lot_id: Option<LotId>,
}

/// A SKU's ledger, newest first.
pub fn movements(
    conn: &mut DbConn,
    sku_id: SkuId,
    page: &Page,
) -> Result<Paginated<MovementRow>, ApiError> {
    let mut q = stock_movements::table
        .filter(stock_movements::sku_id.eq(sku_id))
        .select((
            stock_movements::id,
            stock_movements::warehouse_id,
            stock_movements::delta,
            stock_movements::kind,
            stock_movements::reason,
            stock_movements::order_id,
            stock_movements::actor_id,
            stock_movements::created_at,
            stock_movements::lot_id,
        ))
        .order((
            stock_movements::created_at.desc(),
            stock_movements::id.desc(),
        ))
        .into_boxed();
    if let Some((t, id)) = page.after_time()? {
        q = q.filter(
            stock_movements::created_at
                .lt(t)
                .or(stock_movements::created_at
                    .eq(t)
                    .and(stock_movements::id.lt(id))),
        );
    }
    let rows = crate::db::prepared::load_limited(conn, q, page.fetch_limit(), false)?;
    Ok(page.finish(rows, |r| time_key(r.created_at, r.id)))
}
