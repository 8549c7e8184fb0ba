//! Order persistence: numbers, the rows a plan becomes, and reading orders back.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{Address, FulfilmentStatus, OrderStatus, PaymentStatus};
use super::plan::Plan;
use crate::catalogue::domain::{Pricing, Storage};
use crate::db::prepared::{Keep, Together, FEW};
use crate::db::schema::{fulfilments, order_items, orders};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::http::pagination::{time_key, Page, Paginated};
use crate::ids::{
    CooperativeId, FulfilmentId, OrderId, OrderItemId, OrganizationId, SkuId, UserId, WarehouseId,
};
use crate::money::Money;
use diesel::pg::Pg;
use diesel::sql_types::Text;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: OrderId,
    /// written by `insert` itself (on PostgreSQL drawn inside the INSERT)
    #[diesel(skip_insertion)]
    pub number: String,
    pub buyer_id: UserId,
    pub organization_id: Option<OrganizationId>,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub subtotal: i64,
    pub shipping_fee: i64,
    pub total: i64,
    pub shipping_address: String,
    pub buyer_note: Option<String>,
    pub purchase_order_number: Option<String>,
    pub cancel_reason: Option<String>,
    pub payment_due_at: Option<NaiveDateTime>,
    pub paid_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Given back on the order's goods so far (never more than `total`).
    pub refunded_total: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_items)]
pub struct ItemRow {
    pub id: OrderItemId,
    pub order_id: OrderId,
    pub fulfilment_id: FulfilmentId,
    pub sku_id: SkuId,
    pub sku_code: String,
    pub product_name: String,
    pub sku_name: String,
    pub cooperative_id: CooperativeId,
    pub warehouse_id: WarehouseId,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    pub net_weight_grams: i64,
    pub shipped_quantity: i64,
    pub position: i32,
    pub pricing: Pricing,
    pub kg_price: Option<i64>,
    /// What the line comes to after weight adjustments (`line_total` until one).
    pub final_total: i64,
    /// Shipped units under an open or approved claim.
    pub claimed_quantity: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fulfilments)]
pub struct FulfilmentRow {
    pub id: FulfilmentId,
    pub order_id: OrderId,
    pub cooperative_id: CooperativeId,
    pub warehouse_id: WarehouseId,
    pub status: FulfilmentStatus,
    pub storage: Storage,
    pub shipping_fee: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Net weight of the goods, in grams
    pub weight_grams: i64,
    /// `YYYY-MM-DD` (China time)
    pub ship_by: Option<String>,
    pub estimated_delivery: Option<String>,
    /// The departure's cut-off when the weight is booked on a co-op's truck
    pub departure_cutoff: Option<String>,
}

#[derive(QueryableByName)]
struct Next {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Order numbers are human-readable and unique: `SH20261124-000123`, the day in China Standard
/// Time, then a counter of at least six digits. PostgreSQL draws the counter from a sequence
/// inside the order's INSERT (no row lock, no round trip of its own): this is that value.
fn pg_number(
    day: String,
) -> diesel::expression::SqlLiteral<Text, impl diesel::query_builder::QueryFragment<Pg>> {
    diesel::dsl::sql::<diesel::sql_types::Text>("(SELECT 'SH' || ")
        .bind::<diesel::sql_types::Text, _>(day)
        .sql(
            " || '-' || CASE WHEN s.n < 1000000 THEN lpad(s.n::text, 6, '0') ELSE s.n::text END \
             FROM (SELECT nextval('order_number_seq') AS n) s)",
        )
}

/// SQLite's counter row (SQLite has one writer anyway), formatted as `pg_number` formats.
fn sqlite_number(conn: &mut diesel::SqliteConnection, day: &str) -> Result<String, ApiError> {
    let n = Keep(diesel::sql_query(
        "UPDATE counters SET value = value + 1 WHERE name = 'order_number' RETURNING value AS n",
    ))
    .get_result::<Next>(conn)?
    .n;
    Ok(format!("SH{day}-{n:06}"))
}

/// What kind of order is being written.
pub struct NewOrder<'a> {
    pub buyer_id: UserId,
    pub organization_id: Option<OrganizationId>,
    pub address: &'a Address,
    pub buyer_note: Option<&'a str>,
    pub purchase_order_number: Option<&'a str>,
    pub on_terms: bool,
    pub payment_due_at: Option<NaiveDateTime>,
}

/// An order as just written.
pub struct Inserted {
    pub order: OrderRow,
    pub fulfilments: Vec<FulfilmentRow>,
    pub items: Vec<ItemRow>,
}

/// Inserts `rows` into `table` on SQLite: one row as a kept-prepared INSERT … RETURNING id, more
/// as one batch.
macro_rules! one_or_batch {
    ($conn:expr, $table:ident, $rows:expr, $id:ty) => {
        match $rows.as_slice() {
            [one] => Keep(
                diesel::insert_into($table::table)
                    .values(one)
                    .returning($table::id),
            )
            .get_results::<$id>($conn)?
            .len(),
            many => crate::insert_rows!($conn, $table::table, many)?,
        }
    };
}

/// Writes the order, its fulfilments and items (on PostgreSQL in one statement) and returns
/// the rows written. Reservations are the caller's next step, kept last so stock rows stay
/// locked briefly.
pub fn insert(conn: &mut DbConn, new: &NewOrder<'_>, plan: &Plan) -> Result<Inserted, ApiError> {
    let id = OrderId::generate();
    let now = db::now();
    let day = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y%m%d")
        .to_string();
    let (status, payment, f_status) = if new.on_terms {
        (
            OrderStatus::Confirmed,
            PaymentStatus::OnTerms,
            FulfilmentStatus::AwaitingShipment,
        )
    } else {
        (
            OrderStatus::PendingPayment,
            PaymentStatus::Unpaid,
            FulfilmentStatus::AwaitingPayment,
        )
    };
    let address =
        serde_json::to_string(new.address).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut order = OrderRow {
        id,
        number: String::new(),
        buyer_id: new.buyer_id,
        organization_id: new.organization_id,
        status,
        payment_status: payment,
        subtotal: plan.subtotal.fen(),
        shipping_fee: plan.shipping_fee.fen(),
        total: plan.total.fen(),
        shipping_address: address,
        buyer_note: new.buyer_note.map(str::to_owned),
        purchase_order_number: new.purchase_order_number.map(str::to_owned),
        cancel_reason: None,
        payment_due_at: if new.on_terms {
            None
        } else {
            new.payment_due_at
        },
        paid_at: None,
        delivered_at: None,
        completed_at: None,
        cancelled_at: None,
        created_at: now,
        updated_at: now,
        refunded_total: 0,
    };
    let mut fulfilment_rows = Vec::new();
    let mut item_rows = Vec::new();
    for f in &plan.fulfilments {
        let fid = FulfilmentId::generate();
        fulfilment_rows.push(FulfilmentRow {
            id: fid,
            order_id: id,
            cooperative_id: f.cooperative_id,
            warehouse_id: f.warehouse_id,
            status: f_status,
            storage: f.storage,
            shipping_fee: f.shipping_fee.fen(),
            created_at: now,
            updated_at: now,
            weight_grams: f.weight_grams,
            ship_by: f.slot.as_ref().map(|s| s.ship_by.to_string()),
            estimated_delivery: f.estimated_delivery().map(|d| d.to_string()),
            departure_cutoff: f.slot.as_ref().and_then(|s| s.cutoff.clone()),
        });
        for item in &f.items {
            item_rows.push(ItemRow {
                id: OrderItemId::generate(),
                order_id: id,
                fulfilment_id: fid,
                sku_id: item.sku.id,
                sku_code: item.sku.code.clone(),
                product_name: item.sku.product_name.clone(),
                sku_name: item.sku.name.clone(),
                cooperative_id: f.cooperative_id,
                warehouse_id: item.warehouse_id,
                quantity: item.quantity,
                unit_price: item.unit_price.fen(),
                line_total: item.line_total.fen(),
                net_weight_grams: item.sku.net_weight_grams,
                shipped_quantity: 0,
                position: 0,
                pricing: item.sku.pricing,
                kg_price: item.kg_price.map(Money::fen),
                final_total: item.line_total.fen(),
                claimed_quantity: 0,
            });
        }
    }
    // items in the order they were asked for
    item_rows.sort_by_key(|i| {
        plan.fulfilments
            .iter()
            .flat_map(|f| f.items.iter())
            .find(|p| p.sku.id == i.sku_id && p.warehouse_id == i.warehouse_id)
            .map(|p| p.index)
            .unwrap_or(usize::MAX)
    });
    for (n, item) in item_rows.iter_mut().enumerate() {
        item.position = n as i32;
    }
    match conn {
        DbConn::Pg(c) => {
            // the three INSERTs as one statement: one round trip. The reservations stay
            // statements of their own after it: inside, the stock row stayed locked through
            // the end-of-statement foreign-key checks of the rows (one hot SKU, interleaved
            // pairs: 691-796 orders/s with the reservation inside, 927-1,014 after)
            let keep = fulfilment_rows.len() <= FEW && item_rows.len() <= FEW;
            order.number = Together::<Pg, Text>::new("SELECT o.number FROM o", keep)
                .with(
                    "o",
                    diesel::insert_into(orders::table)
                        .values((&order, orders::number.eq(pg_number(day))))
                        .returning(orders::number),
                )
                .with(
                    "f",
                    diesel::insert_into(fulfilments::table).values(fulfilment_rows.as_slice()),
                )
                .with(
                    "i",
                    diesel::insert_into(order_items::table).values(item_rows.as_slice()),
                )
                .get_result::<String>(c)?;
        }
        DbConn::Sqlite(c) => {
            order.number = sqlite_number(c, &day)?;
            // RETURNING: a statement run for its row count is never kept prepared
            // (`db::prepared`); one row is one plain INSERT, while SQLite runs a batch as a
            // row-by-row savepoint
            Keep(
                diesel::insert_into(orders::table)
                    .values((&order, orders::number.eq(&order.number)))
                    .returning(orders::id),
            )
            .get_result::<OrderId>(conn)?;
            one_or_batch!(conn, fulfilments, fulfilment_rows, FulfilmentId);
            one_or_batch!(conn, order_items, item_rows, OrderItemId);
        }
    }
    Ok(Inserted {
        order,
        fulfilments: fulfilment_rows,
        items: item_rows,
    })
}

pub fn find(conn: &mut DbConn, id: OrderId) -> Result<Option<OrderRow>, ApiError> {
    Ok(orders::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn items_of(conn: &mut DbConn, order_id: OrderId) -> Result<Vec<ItemRow>, ApiError> {
    Ok(order_items::table
        .filter(order_items::order_id.eq(order_id))
        .order(order_items::position.asc())
        .select(ItemRow::as_select())
        .load(conn)?)
}

/// Items of several orders (a page of them), in one statement.
pub fn items_of_orders(conn: &mut DbConn, order_ids: &[OrderId]) -> Result<Vec<ItemRow>, ApiError> {
    Ok(order_items::table
        .filter(order_items::order_id.eq_any(order_ids))
        .order((order_items::order_id.asc(), order_items::position.asc()))
        .select(ItemRow::as_select())
        .load(conn)?)
}

/// Fulfilments of several orders, in one statement.
pub fn fulfilments_of_orders(
    conn: &mut DbConn,
    order_ids: &[OrderId],
) -> Result<Vec<FulfilmentRow>, ApiError> {
    Ok(fulfilments::table
        .filter(fulfilments::order_id.eq_any(order_ids))
        .order(fulfilments::id.asc())
        .select(FulfilmentRow::as_select())
        .load(conn)?)
}

/// Several orders by id, in one statement.
pub fn find_many(conn: &mut DbConn, ids: &[OrderId]) -> Result<Vec<OrderRow>, ApiError> {
    Ok(orders::table
        .filter(orders::id.eq_any(ids))
        .select(OrderRow::as_select())
        .load(conn)?)
}

pub fn fulfilments_of(
    conn: &mut DbConn,
    order_id: OrderId,
) -> Result<Vec<FulfilmentRow>, ApiError> {
    Ok(fulfilments::table
        .filter(fulfilments::order_id.eq(order_id))
        .order(fulfilments::id.asc())
        .select(FulfilmentRow::as_select())
        .load(conn)?)
}

#[derive(AsChangeset)]
#[diesel(table_name = orders)]
struct StatusChange {
    status: OrderStatus,
    updated_at: NaiveDateTime,
    /// Each set when the order reaches that status; left alone otherwise.
    delivered_at: Option<Option<NaiveDateTime>>,
    completed_at: Option<Option<NaiveDateTime>>,
    cancelled_at: Option<Option<NaiveDateTime>>,
}

/// Moves an order from `from` to `to` if it is still in `from` (the domain rule is checked
/// first; the conditional update stops two racing requests or instances from both acting).
/// One statement, the status's timestamp included.
pub fn set_status(
    conn: &mut DbConn,
    id: OrderId,
    from: OrderStatus,
    to: OrderStatus,
) -> Result<bool, ApiError> {
    from.transition(to)?;
    let now = db::now();
    let at = |s: OrderStatus| (to == s).then_some(Some(now));
    let n = diesel::update(
        orders::table
            .filter(orders::id.eq(id))
            .filter(orders::status.eq(from)),
    )
    .set(&StatusChange {
        status: to,
        updated_at: now,
        delivered_at: at(OrderStatus::Delivered),
        completed_at: at(OrderStatus::Completed),
        cancelled_at: at(OrderStatus::Cancelled),
    })
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_cancel_reason(conn: &mut DbConn, id: OrderId, reason: &str) -> Result<(), ApiError> {
    diesel::update(orders::table.find(id))
        .set(orders::cancel_reason.eq(Some(reason)))
        .execute(conn)?;
    Ok(())
}

#[derive(AsChangeset)]
#[diesel(table_name = orders)]
struct PaymentChange {
    payment_status: PaymentStatus,
    /// Set when the order becomes paid; left alone otherwise.
    paid_at: Option<Option<NaiveDateTime>>,
    updated_at: NaiveDateTime,
}

/// Moves an order's payment status from `from` to `to` (checked by the transition rule) while
/// it is still `from`; false when a racing request changed it first. One statement.
pub fn set_payment_status(
    conn: &mut DbConn,
    id: OrderId,
    from: PaymentStatus,
    to: PaymentStatus,
) -> Result<bool, ApiError> {
    from.transition(to)?;
    let now = db::now();
    let n = diesel::update(
        orders::table
            .filter(orders::id.eq(id))
            .filter(orders::payment_status.eq(from)),
    )
    .set(&PaymentChange {
        payment_status: to,
        paid_at: (to == PaymentStatus::Paid).then_some(Some(now)),
        updated_at: now,
    })
    .execute(conn)?;
    Ok(n == 1)
}

/// Moves every fulfilment of an order that is in `from` to `to`.
pub fn set_fulfilments(
    conn: &mut DbConn,
    order_id: OrderId,
    from: &[FulfilmentStatus],
    to: FulfilmentStatus,
) -> Result<(), ApiError> {
    for f in from {
        f.transition(to)?;
    }
    diesel::update(
        fulfilments::table
            .filter(fulfilments::order_id.eq(order_id))
            .filter(fulfilments::status.eq_any(from.iter().copied())),
    )
    .set((
        fulfilments::status.eq(to),
        fulfilments::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(())
}

/// Holds an order for shipping: takes its row (as cancelling does) while it is confirmed or
/// partly shipped, so a racing cancellation waits and then finds it shipped. False when the
/// order no longer awaits shipment.
pub fn hold_for_shipping(conn: &mut DbConn, id: OrderId) -> Result<bool, ApiError> {
    let n =
        diesel::update(orders::table.filter(orders::id.eq(id)).filter(
            orders::status.eq_any([OrderStatus::Confirmed, OrderStatus::PartiallyShipped]),
        ))
        .set(orders::updated_at.eq(db::now()))
        .execute(conn)?;
    Ok(n == 1)
}

/// Counts `quantity` more of an item as shipped, unless that would ship more than was
/// ordered (two parcels racing for one item); false then.
pub fn record_shipped(
    conn: &mut DbConn,
    item_id: OrderItemId,
    quantity: i64,
) -> Result<bool, ApiError> {
    let n = diesel::update(
        order_items::table
            .filter(order_items::id.eq(item_id))
            .filter((order_items::shipped_quantity + quantity).le(order_items::quantity)),
    )
    .set(order_items::shipped_quantity.eq(order_items::shipped_quantity + quantity))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find_fulfilment(
    conn: &mut DbConn,
    id: FulfilmentId,
) -> Result<Option<FulfilmentRow>, ApiError> {
    Ok(fulfilments::table
        .find(id)
        .select(FulfilmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Moves one fulfilment from `from` to `to` (checked by the transition rule) while it is
/// still `from`; false when a racing request moved it first.
pub fn move_fulfilment(
    conn: &mut DbConn,
    id: FulfilmentId,
    from: FulfilmentStatus,
    to: FulfilmentStatus,
) -> Result<bool, ApiError> {
    from.transition(to)?;
    let n = diesel::update(
        fulfilments::table
            .filter(fulfilments::id.eq(id))
            .filter(fulfilments::status.eq(from)),
    )
    .set((
        fulfilments::status.eq(to),
        fulfilments::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// A co-op's fulfilments, oldest first.
pub fn fulfilment_queue(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    status: Option<FulfilmentStatus>,
    ship_by: Option<&str>,
    page: &Page,
) -> Result<Paginated<FulfilmentRow>, ApiError> {
    let mut q = fulfilments::table
        .filter(fulfilments::cooperative_id.eq(cooperative_id))
        .select(FulfilmentRow::as_select())
        .order((fulfilments::created_at.asc(), fulfilments::id.asc()))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(fulfilments::status.eq(s));
    }
    if let Some(day) = ship_by {
        q = q.filter(fulfilments::ship_by.eq(day.to_owned()));
    }
    if let Some((t, id)) = page.after_time()? {
        q = q.filter(
            fulfilments::created_at
                .gt(t)
                .or(fulfilments::created_at.eq(t).and(fulfilments::id.gt(id))),
        );
    }
    let rows = crate::db::prepared::load_limited(conn, q, page.fetch_limit(), false)?;
    Ok(page.finish(rows, |r| time_key(r.created_at, r.id)))
}

/// The net weight of a co-op's open fulfilments leaving on `ship_by` (one truck's load).
pub fn load_on(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    ship_by: &str,
) -> Result<i64, ApiError> {
    let weights: Vec<i64> = fulfilments::table
        .filter(fulfilments::cooperative_id.eq(cooperative_id))
        .filter(fulfilments::ship_by.eq(ship_by.to_owned()))
        .filter(fulfilments::status.ne(FulfilmentStatus::Cancelled))
        .select(fulfilments::weight_grams)
        .load(conn)?;
    Ok(weights.iter().sum())
}

/// Who is listing orders, and so which orders they see.
pub enum Lister {
    Admin,
    Buyer(UserId),
    Organization(OrganizationId),
}

#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub purchase_order_number: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    who: &Lister,
    filter: &OrderFilter,
    page: &Page,
) -> Result<Paginated<OrderRow>, ApiError> {
    let mut q = orders::table
        .select(OrderRow::as_select())
        .order((orders::created_at.desc(), orders::id.desc()))
        .into_boxed();
    q = match who {
        Lister::Admin => q,
        Lister::Buyer(b) => q.filter(orders::buyer_id.eq(*b)),
        Lister::Organization(o) => q.filter(orders::organization_id.eq(*o)),
    };
    if let Some(s) = filter.status {
        q = q.filter(orders::status.eq(s));
    }
    if let Some(po) = &filter.purchase_order_number {
        q = q.filter(orders::purchase_order_number.eq(po.clone()));
    }
    if let Some((t, id)) = page.after_time()? {
        q = q.filter(
            orders::created_at
                .lt(t)
                .or(orders::created_at.eq(t).and(orders::id.lt(id))),
        );
    }
    let rows = crate::db::prepared::load_limited(conn, q, page.fetch_limit(), false)?;
    Ok(page.finish(rows, |r| time_key(r.created_at, r.id)))
}

/// Orders whose payment window has passed, oldest first.
pub fn overdue(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<OrderId>, ApiError> {
    Ok(orders::table
        .filter(orders::status.eq(OrderStatus::PendingPayment))
        .filter(orders::payment_due_at.le(now))
        .order(orders::payment_due_at.asc())
        .select(orders::id)
        .limit(limit)
        .load(conn)?)
}

/// Delivered orders whose receipt window has passed.
pub fn due_for_completion(
    conn: &mut DbConn,
    delivered_before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<OrderId>, ApiError> {
    Ok(orders::table
        .filter(orders::status.eq(OrderStatus::Delivered))
        .filter(orders::delivered_at.le(delivered_before))
        .select(orders::id)
        .limit(limit)
        .load(conn)?)
}

/// Counts `amount` more as given back on the order, if that stays within its total (the
/// CHECK on `orders.refunded_total` says the same); false when it would not.
pub fn add_refunded(conn: &mut DbConn, id: OrderId, amount: i64) -> Result<bool, ApiError> {
    let n = diesel::update(
        orders::table
            .filter(orders::id.eq(id))
            .filter((orders::refunded_total + amount).le(orders::total)),
    )
    .set((
        orders::refunded_total.eq(orders::refunded_total + amount),
        orders::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Lowers an item's final total by a weight refund, never below zero; false when it would.
pub fn lower_final_total(conn: &mut DbConn, item: OrderItemId, by: i64) -> Result<bool, ApiError> {
    let n = diesel::update(
        order_items::table
            .filter(order_items::id.eq(item))
            .filter(order_items::final_total.ge(by)),
    )
    .set(order_items::final_total.eq(order_items::final_total - by))
    .execute(conn)?;
    Ok(n == 1)
}

/// Puts `quantity` shipped units of an item under claim, if that many shipped units are not
/// already claimed; false otherwise. One conditional UPDATE (and a CHECK), so racing claims
/// never claim more than was shipped.
pub fn claim_units(conn: &mut DbConn, item: OrderItemId, quantity: i64) -> Result<bool, ApiError> {
    let n = diesel::update(
        order_items::table
            .filter(order_items::id.eq(item))
            .filter((order_items::claimed_quantity + quantity).le(order_items::shipped_quantity)),
    )
    .set(order_items::claimed_quantity.eq(order_items::claimed_quantity + quantity))
    .execute(conn)?;
    Ok(n == 1)
}

/// Frees units a rejected claim held.
pub fn unclaim_units(conn: &mut DbConn, item: OrderItemId, quantity: i64) -> Result<(), ApiError> {
    diesel::update(
        order_items::table
            .filter(order_items::id.eq(item))
            .filter(order_items::claimed_quantity.ge(quantity)),
    )
    .set(order_items::claimed_quantity.eq(order_items::claimed_quantity - quantity))
    .execute(conn)?;
    Ok(())
}
