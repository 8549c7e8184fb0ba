//! Placing an order, the use case behind `POST /orders` and the CSV import: the buyer's terms,
//! the plan, credit for net-30 buyers, the rows, and the stock reservations last.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::allocation::{insufficient, Shortage};
use super::cart;
use super::checkout;
use super::domain::{Address, AddressInput};
use super::lines::{LineInput, Lines};
use super::plan::Plan;
use super::repo::ItemRow;
use super::repo::{self, NewOrder};
use super::sold_out;
use super::views::{self, ItemLot, ItemLots, OrderView};
use crate::auth::AuthUser;
use crate::config::Config;
use crate::db::{self, DbConn, DbPool};
use crate::http::error::{ApiError, ApiResult};
use crate::http::idempotency::{self, Stored};
use crate::http::text::Prose;
use crate::http::validate::Fields;
use crate::ids::OrganizationId;
use crate::ids::{LotId, OrderId, OrderItemId, WarehouseId};
use crate::inventory;
use crate::inventory::lots::{
    self,
    domain::{date_text, pick, LotOption},
};
use crate::organizations::{self, credit};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CreateOrder {
    /// The lines to order; the cart when left out.
    #[schema(min_items = 1, max_items = 200)]
    pub items: Option<Vec<LineInput>>,
    pub shipping_address: AddressInput,
    pub buyer_note: Option<Prose<500>>,
    pub purchase_order_number: Option<Prose<64>>,
    pub organization_id: Option<OrganizationId>,
}

/// A checked order request.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    /// `None`: order what is in the cart.
    pub items: Option<Lines>,
    pub address: Address,
    pub buyer_note: Option<String>,
    pub purchase_order_number: Option<String>,
    pub organization_id: Option<OrganizationId>,
}

impl TryFrom<CreateOrder> for OrderRequest {
    type Error = ApiError;
    fn try_from(c: CreateOrder) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let address = Address::parse(&c.shipping_address, "shipping_address", &mut f);
        let note = f.check("buyer_note", Prose::parse_opt(&c.buyer_note));
        let po = f.check(
            "purchase_order_number",
            Prose::parse_opt(&c.purchase_order_number),
        );
        let items = match c.items.map(Lines::parse) {
            None => Some(None),
            Some(Ok(lines)) => Some(Some(lines)),
            Some(Err(errors)) => {
                for e in errors {
                    f.push(e.field, e.message);
                }
                None
            }
        };
        let value = (|| {
            Some(OrderRequest {
                items: items?,
                address: address?,
                buyer_note: note?,
                purchase_order_number: po?,
                organization_id: c.organization_id,
            })
        })();
        f.finish(value)
    }
}

/// The lines an order or preview is for: the request's, else the cart's (checked the same
/// way), and whether they came from the cart.
pub fn lines_for(
    conn: &mut DbConn,
    user: &AuthUser,
    items: &Option<Lines>,
) -> ApiResult<(Lines, bool)> {
    match items {
        Some(items) => Ok((items.clone(), false)),
        None => {
            let lines = Lines::parse(cart::lines(conn, user.id)?).map_err(ApiError::Validation)?;
            Ok((lines, true))
        }
    }
}

/// What an order is read from before its transaction: the buyer's terms, the lines (the
/// request's or the cart's) and checkout's plan. Reading them outside the write transaction
/// keeps SQLite's one writer free of the reads, and a plan that cannot be met (sold out) is a
/// 409 without any write at all.
#[derive(Debug, Clone)]
pub struct Prepared {
    terms: organizations::BuyingTerms,
    lines: Lines,
    from_cart: bool,
    plan: Plan,
}

/// Reads what the order needs, outside any transaction; its errors (sold out, not a member,
/// nothing in the cart) are the answer.
pub fn prepare(conn: &mut DbConn, user: &AuthUser, req: &OrderRequest) -> ApiResult<Prepared> {
    if let Some(items) = &req.items {
        sold_out::check(conn, items.iter().as_slice())?;
    }
    let terms = organizations::terms_for_order(conn, user, req.organization_id)?;
    let (lines, from_cart) = lines_for(conn, user, &req.items)?;
    let plan = checkout::plan(
        conn,
        &lines,
        terms.buyer,
        terms.min_shelf_life_days,
        &req.address,
    )?;
    Ok(Prepared {
        terms,
        lines,
        from_cart,
        plan,
    })
}

/// How a placement went when its stock reservations did not: whether the plan read before the
/// transaction was out of date (so the placement is worth one more try, planned inside).
#[derive(Debug, Default)]
pub struct Replan(std::sync::atomic::AtomicBool);

impl Replan {
    fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn take(&self) -> bool {
        self.0.swap(false, std::sync::atomic::Ordering::Relaxed)
    }
}

/// Places an order inside the caller's write transaction from what `prepare` read (`None`:
/// read it now, inside): write the rows, then reserve every allocation last (sorted) so
/// stock rows are locked only for the end of the transaction. When a reservation fails on a
/// plan read before the transaction, `replan` is set: the plan may simply be stale.
pub fn place_order(
    conn: &mut DbConn,
    user: &AuthUser,
    req: &OrderRequest,
    config: &Config,
    prepared: Option<&Prepared>,
    replan: &Replan,
) -> ApiResult<OrderView> {
    let read_before = prepared.is_some();
    let prepared = match prepared {
        // a cart order's lines are the cart's at commit: changed since, plan again
        Some(p) if p.from_cart && lines_for(conn, user, &req.items)?.0 != p.lines => {
            prepare(conn, user, req)?
        }
        Some(p) => p.clone(),
        None => prepare(conn, user, req)?,
    };
    let Prepared {
        terms,
        lines,
        from_cart,
        mut plan,
    } = prepared;
    if terms.net_30 {
        if let Some(org) = terms.organization_id {
            if !credit::reserve(conn, org, plan.total.fen())? {
                return Err(ApiError::Conflict(
                    "this order would take the organization past its credit limit".into(),
                ));
            }
        }
    }
    checkout::schedule(conn, &mut plan, checkout::Scheduling::Book)?;
    let due = chrono::Duration::from_std(config.payment_timeout)
        .ok()
        .map(|d| db::now() + d);
    let inserted = repo::insert(
        conn,
        &NewOrder {
            buyer_id: user.id,
            organization_id: terms.organization_id,
            address: &req.address,
            buyer_note: req.buyer_note.as_deref(),
            purchase_order_number: req.purchase_order_number.as_deref(),
            on_terms: terms.net_30,
            payment_due_at: due,
        },
        &plan,
    )?;
    let today = lots::domain::today();
    // the lots FEFO takes by the plan's read, written before any stock row is locked: the
    // locks are then held only for the conditional updates and the commit
    let lot_lines = planned_lots(&plan, &inserted.items, today)?;
    let planned: Vec<lots::repo::Allocation> =
        lot_lines.iter().flat_map(LotLine::allocations).collect();
    lots::repo::insert_allocations(conn, &planned)?;
    let mut short: HashMap<usize, Shortage> = HashMap::new();
    let mut item_lots = ItemLots::new();
    for r in plan.reservations() {
        let requested = lines.get(r.index).map_or(r.quantity, |l| l.quantity);
        if !inventory::reserve(conn, r.sku_id, r.warehouse_id, r.quantity)? {
            if read_before {
                replan.set();
            }
            // another order took the stock since the plan read it: report what is left now
            let available = inventory::repo::sellable_stock(conn, &[r.sku_id])?
                .get(&r.sku_id)
                .map(|o| o.iter().map(|o| o.available.max(0)).sum())
                .unwrap_or(0);
            short.insert(
                r.index,
                Shortage {
                    sku_id: r.sku_id,
                    requested,
                    available,
                    index: r.index,
                },
            );
            continue;
        }
        let Some(line) = lot_lines
            .iter()
            .find(|l| l.index == r.index && l.warehouse_id == r.warehouse_id)
        else {
            continue;
        };
        // the stock row is held: now its lots, earliest first, good as long as the buyer needs
        match lots::reserve_fefo(
            conn,
            r.sku_id,
            r.warehouse_id,
            r.quantity,
            &line.good_until,
            &plan.lot_options,
        )? {
            Ok(taken) => {
                let got: Vec<(LotId, i64)> = taken.iter().map(|(l, q)| (l.id, *q)).collect();
                if got != line.planned {
                    // another order took a planned lot meanwhile: record what was reserved
                    metrics::counter!("lot_replans_total").increment(1);
                    let actual = LotLine {
                        planned: got,
                        ..line.clone()
                    };
                    lots::repo::replace_allocations(
                        conn,
                        line.order_item_id,
                        &actual.allocations(),
                    )?;
                }
                item_lots.insert(
                    line.order_item_id,
                    taken
                        .into_iter()
                        .map(|(lot, quantity)| ItemLot {
                            lot_id: lot.id,
                            code: lot.code,
                            best_before: lot.best_before,
                            quantity,
                        })
                        .collect(),
                );
            }
            Err(sellable) => {
                short.insert(
                    r.index,
                    Shortage {
                        sku_id: r.sku_id,
                        requested,
                        available: sellable,
                        index: r.index,
                    },
                );
            }
        }
    }
    if !short.is_empty() {
        let mut list: Vec<Shortage> = short.into_values().collect();
        list.sort_by_key(|s| s.index);
        return Err(insufficient(list));
    }
    if from_cart {
        cart::remove(conn, user.id, &lines.sku_ids())?;
    }
    views::new_order_view(
        inserted.order,
        inserted.items,
        inserted.fulfilments,
        &item_lots,
    )
}

/// A lot-tracked share of a line: where it ships from, its order item, the first day its lots
/// must still be good on, and the lots FEFO takes by checkout's read (empty: none suffice).
#[derive(Debug, Clone)]
struct LotLine {
    index: usize,
    warehouse_id: WarehouseId,
    order_item_id: OrderItemId,
    order_id: OrderId,
    good_until: String,
    planned: Vec<(LotId, i64)>,
}

impl LotLine {
    fn allocations(&self) -> Vec<lots::repo::Allocation> {
        self.planned
            .iter()
            .map(|&(lot_id, quantity)| lots::repo::Allocation {
                order_item_id: self.order_item_id,
                lot_id,
                order_id: self.order_id,
                quantity,
            })
            .collect()
    }
}

fn planned_lots(
    plan: &Plan,
    items: &[ItemRow],
    today: chrono::NaiveDate,
) -> ApiResult<Vec<LotLine>> {
    let mut out = Vec::new();
    for f in &plan.fulfilments {
        for i in f.items.iter().filter(|i| i.sku.lot_tracked) {
            let item = items
                .iter()
                .find(|it| it.sku_id == i.sku.id && it.warehouse_id == f.warehouse_id)
                .ok_or_else(|| ApiError::internal("a planned item without its order item"))?;
            let good_until = date_text(plan.lots_good_until(i.index, f.warehouse_id, today));
            let options: Vec<LotOption> = plan
                .lot_options
                .iter()
                .filter(|o| o.sku_id == i.sku.id && o.warehouse_id == f.warehouse_id)
                .cloned()
                .collect();
            out.push(LotLine {
                index: i.index,
                warehouse_id: f.warehouse_id,
                order_item_id: item.id,
                order_id: item.order_id,
                planned: pick(&options, i.quantity, &good_until).unwrap_or_default(),
                good_until,
            });
        }
    }
    Ok(out)
}

/// Runs a placement through the idempotency mechanism: a retry with the same key gets the
/// first answer (201 and the order) instead of a second order.
pub async fn place(
    pool: &DbPool,
    config: std::sync::Arc<Config>,
    user: AuthUser,
    key: Option<String>,
    hash: String,
    request: OrderRequest,
) -> ApiResult<Stored> {
    let request = std::sync::Arc::new(request);
    let replan = std::sync::Arc::new(Replan::default());
    let mut outcome = attempt(pool, &config, &user, &key, &hash, &request, &replan, true).await;
    if outcome.is_err() && replan.take() {
        // stock moved between the plan and the write: once more, planned inside
        metrics::counter!("order_replans_total").increment(1);
        outcome = attempt(pool, &config, &user, &key, &hash, &request, &replan, false).await;
    }
    let stored = outcome.inspect_err(|e| {
        if matches!(e, ApiError::InsufficientStock { .. }) {
            metrics::counter!("stock_conflicts_total").increment(1);
            sold_out::remember(e);
        }
    })?;
    metrics::counter!("orders_placed_total").increment(1);
    Ok(stored)
}

/// One placement through the idempotency mechanism; `read_before`: plan before the
/// transaction (the fast path) or inside it.
#[allow(clippy::too_many_arguments)]
async fn attempt(
    pool: &DbPool,
    config: &std::sync::Arc<Config>,
    user: &AuthUser,
    key: &Option<String>,
    hash: &str,
    request: &std::sync::Arc<OrderRequest>,
    replan: &std::sync::Arc<Replan>,
    read_before: bool,
) -> ApiResult<Stored> {
    let (user, user_again, request_again) = (user.clone(), user.clone(), request.clone());
    let (request, config, replan) = (request.clone(), config.clone(), replan.clone());
    idempotency::execute_checked(
        pool,
        user.id,
        key.clone(),
        hash.to_owned(),
        move |conn| {
            read_before
                .then(|| prepare(conn, &user_again, &request_again))
                .transpose()
        },
        move |conn, prepared: &Option<Prepared>| {
            let view = place_order(conn, &user, &request, &config, prepared.as_ref(), &replan)?;
            Stored::new(StatusCode::CREATED, view)
        },
    )
    .await
}
