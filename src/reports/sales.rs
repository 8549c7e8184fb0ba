//! `GET /reports/sales`: goods sold on confirmed-or-later orders, grouped by co-op, product or
//! day. Admins see every co-op; a co-op owner sees only their own, without asking.

use std::collections::{BTreeMap, HashSet};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::period::{cst_day, day_start_utc, parse_day};
use crate::aftersales::domain::ClaimStatus;
use crate::auth::AuthUser;
use crate::cooperatives;
use crate::db::schema::{
    claim_items, claims, cooperatives as cooperative_rows, order_items, orders, skus,
};
use crate::db::{DbConn, DbPool};
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::validate::Fields;
use crate::http::{blocking, csv};
use crate::ids::{CooperativeId, OrderId, OrderItemId, ProductId};
use crate::money::Money;
use crate::orders::OrderStatus;

/// Orders that count as sales: paid or on terms, and not cancelled.
pub const SOLD: [OrderStatus; 5] = [
    OrderStatus::Confirmed,
    OrderStatus::PartiallyShipped,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::Completed,
];

#[derive(Debug, Deserialize, IntoParams)]
pub struct SalesQuery {
    /// First day, `YYYY-MM-DD` (China Standard Time; default: 29 days before `to`)
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day, inclusive (default: today)
    #[param(format = Date)]
    pub to: Option<String>,
    /// `cooperative` (default), `product` or `day`
    #[param(schema_with = group_by_param)]
    pub group_by: Option<String>,
}

fn group_by_param() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["cooperative", "product", "day"]))
        .build()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Cooperative,
    Product,
    Day,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct SalesRow {
    pub key: String,
    pub label: String,
    pub orders: i64,
    pub units: i64,
    pub gross: Money,
    /// Given back on these goods so far: lighter parcels and approved claims (cancelled
    /// orders are not sales at all).
    pub refunds: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SalesReport {
    pub rows: Vec<SalesRow>,
}

/// The co-ops a caller may report on: `None` for all (admins), else the ones they own.
pub fn owned_cooperatives(
    conn: &mut DbConn,
    user: &AuthUser,
) -> ApiResult<Option<Vec<CooperativeId>>> {
    if user.is_admin() {
        return Ok(None);
    }
    let owned = cooperatives::access::owned_by(conn, user.id)?;
    if owned.is_empty() {
        return Err(ApiError::forbidden(
            "reports are for admins and co-op owners",
        ));
    }
    Ok(Some(owned))
}

/// One sold line, as the report needs it.
#[derive(Debug, Clone, Queryable)]
pub struct SoldLine {
    pub order_id: OrderId,
    pub created_at: chrono::NaiveDateTime,
    pub cooperative_id: CooperativeId,
    pub cooperative_name: String,
    pub product_id: ProductId,
    pub product_name: String,
    pub quantity: i64,
    pub line_total: i64,
    /// Refunded on the line: weight adjustments and its share of approved claims.
    pub refunded: i64,
}

/// Groups sold lines into report rows (pure, so the arithmetic is unit-tested).
/// Sums are taken in 128 bits, so no number of lines can wrap a total around.
pub fn group(lines: &[SoldLine], by: GroupBy) -> ApiResult<Vec<SalesRow>> {
    let mut acc: BTreeMap<String, (String, HashSet<OrderId>, i128, i128, i128)> = BTreeMap::new();
    for l in lines {
        let (key, label) = match by {
            GroupBy::Cooperative => (l.cooperative_id.to_string(), l.cooperative_name.clone()),
            GroupBy::Product => (l.product_id.to_string(), l.product_name.clone()),
            GroupBy::Day => {
                let d = cst_day(l.created_at).format("%Y-%m-%d").to_string();
                (d.clone(), d)
            }
        };
        let e = acc
            .entry(key)
            .or_insert_with(|| (label, HashSet::new(), 0, 0, 0));
        e.1.insert(l.order_id);
        e.2 += i128::from(l.quantity);
        e.3 += i128::from(l.line_total);
        e.4 += i128::from(l.refunded);
    }
    let too_large = || ApiError::internal("a sales total does not fit in 64 bits");
    let mut rows = acc
        .into_iter()
        .map(|(key, (label, orders, units, gross, refunds))| {
            Ok(SalesRow {
                key,
                label,
                orders: orders.len() as i64,
                units: i64::try_from(units).map_err(|_| too_large())?,
                gross: Money::from_fen(i64::try_from(gross).map_err(|_| too_large())?),
                refunds: Money::from_fen(i64::try_from(refunds).map_err(|_| too_large())?),
            })
        })
        .collect::<ApiResult<Vec<SalesRow>>>()?;
    if by != GroupBy::Day {
        rows.sort_by(|a, b| b.gross.cmp(&a.gross).then(a.key.cmp(&b.key)));
    }
    Ok(rows)
}

/// Adds to each line its share of approved claims' refunds: a claim's approved amount split
/// over its items by what each was worth (half up to the fen).
fn add_claim_refunds(conn: &mut DbConn, lines: &mut [(OrderItemId, SoldLine)]) -> ApiResult<()> {
    let ids: Vec<OrderItemId> = lines.iter().map(|(id, _)| *id).collect();
    let shares: Vec<(OrderItemId, i64, i64, Option<i64>)> = claim_items::table
        .inner_join(claims::table)
        .filter(claim_items::order_item_id.eq_any(&ids))
        .filter(claims::status.eq(ClaimStatus::Approved))
        .select((
            claim_items::order_item_id,
            claim_items::amount,
            claims::requested_amount,
            claims::approved_amount,
        ))
        .load(conn)?;
    for (item, amount, requested, approved) in shares {
        let share = if requested > 0 {
            let num = 2 * i128::from(approved.unwrap_or(0)) * i128::from(amount);
            let den = 2 * i128::from(requested);
            i64::try_from((num + i128::from(requested)) / den).unwrap_or(0)
        } else {
            0
        };
        if let Some((_, l)) = lines.iter_mut().find(|(id, _)| *id == item) {
            l.refunded += share;
        }
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/reports/sales", tag = "reports", params(SalesQuery), security(("bearer" = [])),
    responses((status = 200, body = SalesReport, description = "JSON, or CSV with Accept: text/csv"),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn sales(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<SalesQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let (from, to, by) = period(q.from.as_deref(), q.to.as_deref(), q.group_by.as_deref())?;
    let rows = blocking::run(&pool, move |conn| sales_rows(conn, &user, from, to, by)).await?;
    let wants_csv = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    if wants_csv {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(sales_csv(&rows)));
    }
    Ok(HttpResponse::Ok().json(SalesReport { rows }))
}

/// A report's days and grouping, checked: `to` defaults to today (China time), `from` to 29
/// days before it; at most three years.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    group_by: Option<&str>,
) -> ApiResult<(chrono::NaiveDate, chrono::NaiveDate, GroupBy)> {
    let mut f = Fields::default();
    let day = |raw: Option<&str>| match raw {
        None => Ok(None),
        Some(s) => parse_day(s).map(Some).ok_or("must be a date YYYY-MM-DD"),
    };
    let to = f
        .check("to", day(to))
        .map(|d| d.unwrap_or_else(|| cst_day(crate::db::now())));
    let from = f
        .check("from", day(from))
        .and_then(|d| d.or_else(|| to.map(|t| t - Duration::days(29))));
    let by = f.check(
        "group_by",
        match group_by.unwrap_or("cooperative") {
            "cooperative" => Ok(GroupBy::Cooperative),
            "product" => Ok(GroupBy::Product),
            "day" => Ok(GroupBy::Day),
            _ => Err("must be cooperative, product or day"),
        },
    );
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            f.push("to", "is before from");
        } else if (b - a).num_days() > 3 * 366 {
            f.push("to", "a report spans at most three years");
        }
    }
    f.finish((|| Some((from?, to?, by?)))())
}

/// The sales rows `user` may see (admins: every co-op; owners: their own), `from` to `to`
/// inclusive, China days.
pub fn sales_rows(
    conn: &mut DbConn,
    user: &AuthUser,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    by: GroupBy,
) -> ApiResult<Vec<SalesRow>> {
    let (start, end) = (day_start_utc(from), day_start_utc(to) + Duration::days(1));
    let scope = owned_cooperatives(conn, user)?;
    let mut query = order_items::table
        .inner_join(orders::table)
        .inner_join(skus::table)
        .inner_join(
            cooperative_rows::table.on(cooperative_rows::id.eq(order_items::cooperative_id)),
        )
        .filter(orders::status.eq_any(SOLD))
        .filter(orders::created_at.ge(start))
        .filter(orders::created_at.lt(end))
        .select((
            order_items::id,
            (
                orders::id,
                orders::created_at,
                order_items::cooperative_id,
                cooperative_rows::name,
                skus::product_id,
                order_items::product_name,
                order_items::quantity,
                order_items::line_total,
                order_items::line_total - order_items::final_total,
            ),
        ))
        .into_boxed();
    if let Some(coops) = scope {
        query = query.filter(order_items::cooperative_id.eq_any(coops));
    }
    let mut lines: Vec<(OrderItemId, SoldLine)> = query.load(conn)?;
    add_claim_refunds(conn, &mut lines)?;
    let lines: Vec<SoldLine> = lines.into_iter().map(|(_, l)| l).collect();
    group(&lines, by)
}

/// The rows as CSV (cells a spreadsheet would run as formulas are neutralised).
pub fn sales_csv(rows: &[SalesRow]) -> String {
    let mut out = csv::line(["key", "label", "orders", "units", "gross", "refunds"]);
    for r in rows {
        let (orders, units, gross, refunds) = (
            r.orders.to_string(),
            r.units.to_string(),
            r.gross.to_string(),
            r.refunds.to_string(),
        );
        out.push_str(&csv::line([
            r.key.as_str(),
            r.label.as_str(),
            orders.as_str(),
            units.as_str(),
            gross.as_str(),
            refunds.as_str(),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ids {
        orders: [OrderId; 2],
        coops: [CooperativeId; 2],
        products: [ProductId; 2],
    }

    fn line(
        ids: &Ids,
        order: usize,
        coop: usize,
        product: usize,
        day: u32,
        q: i64,
        fen: i64,
    ) -> SoldLine {
        SoldLine {
            order_id: ids.orders[order],
            created_at: chrono::NaiveDate::from_ymd_opt(2026, 11, day)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
            cooperative_id: ids.coops[coop],
            cooperative_name: format!("社{coop}"),
            product_id: ids.products[product],
            product_name: format!("品{product}"),
            quantity: q,
            line_total: fen,
            refunded: 0,
        }
    }

    #[test]
    fn groups_count_orders_once_and_sum_exactly() {
        let ids = Ids {
            orders: [OrderId::generate(), OrderId::generate()],
            coops: [CooperativeId::generate(), CooperativeId::generate()],
            products: [ProductId::generate(), ProductId::generate()],
        };
        let lines = vec![
            line(&ids, 0, 0, 0, 1, 2, 1990),
            line(&ids, 0, 0, 1, 1, 1, 5),
            line(&ids, 1, 1, 0, 2, 3, 2985),
        ];
        let by_coop = group(&lines, GroupBy::Cooperative).unwrap();
        assert_eq!(
            by_coop[0],
            SalesRow {
                key: ids.coops[1].to_string(),
                label: "社1".into(),
                orders: 1,
                units: 3,
                gross: Money::from_fen(2985),
                refunds: Money::ZERO,
            }
        );
        assert_eq!(by_coop[1].orders, 1);
        assert_eq!(by_coop[1].gross.to_string(), "19.95");
        let by_day = group(&lines, GroupBy::Day).unwrap();
        assert_eq!(
            by_day.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            vec!["2026-11-01", "2026-11-02"]
        );
        let by_product = group(&lines, GroupBy::Product).unwrap();
        assert_eq!(by_product[0].key, ids.products[0].to_string());
        assert_eq!(by_product[0].orders, 2);
    }
}
