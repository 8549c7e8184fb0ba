//! `GET /cooperatives/{id}/settlements?month=YYYY-MM`: what the platform owes a co-op for goods
//! delivered or completed that month, after refunds and commission.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::period::month_range;
use crate::auth::AuthUser;
use crate::config::Config;
use crate::cooperatives::domain::CommissionRate;
use crate::cooperatives::repo as coops;
use crate::cooperatives::require_cooperative_member;
use crate::db::schema::{order_items, orders, refunds};
use crate::db::{DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::ids::{CooperativeId, OrderId};
use crate::money::Money;
use crate::orders::domain::RefundKind;
use crate::orders::OrderStatus;

#[derive(Debug, Deserialize, IntoParams)]
pub struct SettlementQuery {
    /// `YYYY-MM` (China Standard Time)
    #[param(required = true, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Settlement {
    pub cooperative_id: CooperativeId,
    pub month: String,
    pub gross_sales: Money,
    pub refunds: Money,
    pub commission_rate: String,
    pub commission: Money,
    pub net_payable: Money,
    /// Orders whose goods count this month.
    pub orders: i64,
}

/// The arithmetic: commission on (gross − refunds), rounded to the fen half up.
pub fn settle(gross: Money, refunds: Money, rate: Decimal) -> Option<(Money, Money)> {
    let base = gross.checked_sub(refunds)?;
    let commission = Money::round_from(base.as_decimal() * rate)?;
    let net = base.checked_sub(commission)?;
    Some((commission, net))
}

/// The co-op's own rate, else the platform's.
pub fn rate_for(own: Option<CommissionRate>, default: Decimal) -> Decimal {
    own.map_or(default, CommissionRate::value).normalize()
}

#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/settlements", tag = "reports", params(SettlementQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Settlement), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn settlement(
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    q: web::Query<SettlementQuery>,
) -> ApiResult<HttpResponse> {
    let coop = id.into_inner();
    let month = q.into_inner().month.unwrap_or_default();
    let default_rate = config.commission_rate;
    let out = blocking::run(&pool, move |conn| {
        settlement_for(conn, &user, coop, &month, default_rate)
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A co-op's settlement for `month` (`YYYY-MM`), for its owner and admins.
pub fn settlement_for(
    conn: &mut DbConn,
    user: &AuthUser,
    coop: CooperativeId,
    month: &str,
    default_rate: Decimal,
) -> ApiResult<Settlement> {
    let (start, end) =
        month_range(month).ok_or_else(|| ApiError::field("month", "must be a month YYYY-MM"))?;
    {
        let row = coops::get(conn, coop)?;
        require_cooperative_member(conn, user, coop, true)?;
        // goods of this co-op on orders delivered (or delivered and then completed) this month
        let lines: Vec<(OrderId, i64, i64)> = order_items::table
            .inner_join(orders::table)
            .filter(order_items::cooperative_id.eq(coop))
            .filter(orders::status.eq_any([OrderStatus::Delivered, OrderStatus::Completed]))
            .filter(orders::delivered_at.ge(start))
            .filter(orders::delivered_at.lt(end))
            .select((orders::id, order_items::line_total, orders::subtotal))
            .load(conn)?;
        // sums in 128 bits: no number of lines wraps a total around
        let mut goods_by_order: HashMap<OrderId, (i128, i64)> = HashMap::new();
        for (order, line, subtotal) in &lines {
            let e = goods_by_order.entry(*order).or_insert((0, *subtotal));
            e.0 += i128::from(*line);
        }
        let gross: i128 = goods_by_order.values().map(|(g, _)| g).sum();
        // refunds of this co-op's goods (lighter parcels, claims) count in the month those
        // goods count — the order's delivery month — or in the month they are recorded when
        // that is later; cancellations never do (those goods never counted)
        let refunded: Vec<i64> = refunds::table
            .inner_join(orders::table)
            .filter(refunds::cooperative_id.eq(coop))
            .filter(refunds::kind.eq_any([RefundKind::WeightAdjustment, RefundKind::Claim]))
            .filter(
                orders::delivered_at
                    .ge(start)
                    .and(orders::delivered_at.lt(end))
                    .and(refunds::created_at.lt(end))
                    .or(refunds::created_at
                        .ge(start)
                        .and(refunds::created_at.lt(end))
                        .and(orders::delivered_at.lt(start))),
            )
            .select(refunds::amount)
            .load(conn)?;
        let refunds = i64::try_from(refunded.iter().map(|a| i128::from(*a)).sum::<i128>())
            .map(Money::from_fen)
            .map_err(|_| ApiError::internal("settlement refunds do not fit in 64 bits"))?;
        let rate = rate_for(row.commission_rate, default_rate);
        let gross = i64::try_from(gross)
            .map(Money::from_fen)
            .map_err(|_| ApiError::internal("settlement gross does not fit in 64 bits"))?;
        let (commission, net) = settle(gross, refunds, rate)
            .ok_or_else(|| ApiError::internal("settlement overflow"))?;
        Ok(Settlement {
            cooperative_id: coop,
            month: month.to_owned(),
            gross_sales: gross,
            refunds,
            commission_rate: rate.to_string(),
            commission,
            net_payable: net,
            orders: goods_by_order.len() as i64,
        })
    }
}

/// One order in a co-op's settlement: its goods of this co-op, at what they were charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementLine {
    pub order_id: OrderId,
    pub order_number: String,
    pub delivered_at: chrono::NaiveDateTime,
    pub goods: Money,
}

/// The orders a co-op's settlement for `month` counts, `limit` at a time after `after` (by
/// order id), for its owner and admins: what the settlement sums, line by line, so a long
/// month can be streamed rather than held in memory.
pub fn settlement_lines(
    conn: &mut DbConn,
    user: &AuthUser,
    coop: CooperativeId,
    month: &str,
    after: Option<OrderId>,
    limit: i64,
) -> ApiResult<Vec<SettlementLine>> {
    let (start, end) =
        month_range(month).ok_or_else(|| ApiError::field("month", "must be a month YYYY-MM"))?;
    coops::get(conn, coop)?;
    require_cooperative_member(conn, user, coop, true)?;
    let mut ids = order_items::table
        .inner_join(orders::table)
        .filter(order_items::cooperative_id.eq(coop))
        .filter(orders::status.eq_any([OrderStatus::Delivered, OrderStatus::Completed]))
        .filter(orders::delivered_at.ge(start))
        .filter(orders::delivered_at.lt(end))
        .select(orders::id)
        .distinct()
        .order(orders::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        ids = ids.filter(orders::id.gt(a));
    }
    let ids: Vec<OrderId> = ids.load(conn)?;
    let rows: Vec<(OrderId, String, Option<chrono::NaiveDateTime>, i64)> = order_items::table
        .inner_join(orders::table)
        .filter(order_items::cooperative_id.eq(coop))
        .filter(orders::id.eq_any(&ids))
        .order(orders::id.asc())
        .select((
            orders::id,
            orders::number,
            orders::delivered_at,
            order_items::line_total,
        ))
        .load(conn)?;
    let mut out: Vec<SettlementLine> = Vec::new();
    for (id, number, delivered, line) in rows {
        match out.last_mut() {
            Some(l) if l.order_id == id => {
                l.goods = l
                    .goods
                    .checked_add(Money::from_fen(line))
                    .ok_or_else(|| ApiError::internal("settlement line overflow"))?;
            }
            _ => out.push(SettlementLine {
                order_id: id,
                order_number: number,
                delivered_at: delivered.unwrap_or(start),
                goods: Money::from_fen(line),
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn commission_rounds_half_up_at_the_fen() {
        let rate = Decimal::new(5, 2);
        // 12.50 × 0.05 = 0.625 → 0.63 (half up; banker's rounding would give 0.62)
        assert_eq!(
            settle(m("12.50"), Money::ZERO, rate),
            Some((m("0.63"), m("11.87")))
        );
        // 12.30 × 0.05 = 0.615 → 0.62
        assert_eq!(
            settle(m("12.30"), Money::ZERO, rate),
            Some((m("0.62"), m("11.68")))
        );
        // 12.29 × 0.05 = 0.6145 → 0.61
        assert_eq!(
            settle(m("12.29"), Money::ZERO, rate),
            Some((m("0.61"), m("11.68")))
        );
        assert_eq!(
            settle(m("100.00"), m("20.00"), rate),
            Some((m("4.00"), m("76.00")))
        );
    }

    #[test]
    fn own_rates_win() {
        assert_eq!(
            rate_for(CommissionRate::parse("0.030"), Decimal::new(5, 2)).to_string(),
            "0.03"
        );
        assert_eq!(rate_for(None, Decimal::new(5, 2)).to_string(), "0.05");
    }
}
