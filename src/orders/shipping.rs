//! Shipping fees: a rate table by destination province and storage class (first kg, each
//! further started kg, free over a threshold), read by checkout and replaced by admins.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::province;
use crate::auth::{AdminUser, AuthUser};
use crate::catalogue::for_sale::RateColumns;
use crate::catalogue::Storage;
use crate::db::schema::shipping_rates;
use crate::db::{self, replicas::ReadPool, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::extract::ApiJson;
use crate::http::pagination::Paginated;
use crate::http::validate::Fields;
use crate::money::Money;

/// The province key that matches every province without its own rates.
pub const ANY_PROVINCE: &str = "*";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rate {
    /// A province's full name, or `*` for every other province.
    #[schema(schema_with = rate_province_schema)]
    pub province: String,
    pub storage: Storage,
    pub first_kg_fee: Money,
    pub additional_kg_fee: Money,
    /// Goods worth at least this ship free.
    pub free_over: Option<Money>,
    /// Days from the truck leaving to the parcel arriving (3 when not given)
    #[serde(default = "default_transit_days")]
    #[schema(minimum = 0, maximum = 60)]
    pub transit_days: i32,
}

fn default_transit_days() -> i32 {
    3
}

/// A province in full or short form, or `*`.
fn rate_province_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(
            std::iter::once(ANY_PROVINCE).chain(
                super::domain::PROVINCES
                    .iter()
                    .flat_map(|(full, short)| [*full, *short]),
            ),
        ))
        .build()
}

/// The fee for one parcel: `weight_grams` of goods worth `goods` going at `rate`.
pub fn fee(rate: &Rate, weight_grams: i64, goods: Money) -> Money {
    if rate.free_over.is_some_and(|t| goods >= t) {
        return Money::ZERO;
    }
    let kg = ((weight_grams.max(1) + 999) / 1000).max(1);
    rate.additional_kg_fee
        .checked_mul(kg - 1)
        .and_then(|extra| rate.first_kg_fee.checked_add(extra))
        .unwrap_or(Money::ZERO)
}

/// The rate for a destination and storage class: the province's own, else the `*` row.
pub fn rate_for<'a>(rates: &'a [Rate], destination: &str, storage: Storage) -> Option<&'a Rate> {
    rates
        .iter()
        .find(|r| r.province == destination && r.storage == storage)
        .or_else(|| {
            rates
                .iter()
                .find(|r| r.province == ANY_PROVINCE && r.storage == storage)
        })
}

impl Rate {
    /// A rate from its stored columns.
    pub fn from_columns(
        (province, storage, first, extra, free, transit_days): RateColumns,
    ) -> Rate {
        Rate {
            province,
            storage,
            first_kg_fee: Money::from_fen(first),
            additional_kg_fee: Money::from_fen(extra),
            free_over: free.map(Money::from_fen),
            transit_days,
        }
    }
}

/// The whole rate table, by province and storage.
pub fn load(conn: &mut DbConn) -> Result<Vec<Rate>, ApiError> {
    let rows: Vec<RateColumns> = shipping_rates::table
        .select((
            shipping_rates::province,
            shipping_rates::storage,
            shipping_rates::first_kg_fee,
            shipping_rates::additional_kg_fee,
            shipping_rates::free_over,
            shipping_rates::transit_days,
        ))
        .order((
            shipping_rates::province.asc(),
            shipping_rates::storage.asc(),
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(Rate::from_columns).collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ReplaceRates {
    /// `{"rates": [...]}`
    Wrapped { rates: Vec<Rate> },
    /// `{"items": [...]}`: what `GET /shipping-rates` answers, so it round-trips
    Items { items: Vec<Rate> },
    /// or the list itself
    List(Vec<Rate>),
}

impl ReplaceRates {
    fn rates(self) -> Vec<Rate> {
        match self {
            ReplaceRates::Wrapped { rates }
            | ReplaceRates::Items { items: rates }
            | ReplaceRates::List(rates) => rates,
        }
    }
}

/// Each row checked on its own, then the table as a whole: a province and storage given
/// twice, or a storage without its `*` row, would not give every address exactly one fee.
fn check(rates: Vec<Rate>) -> Result<Vec<Rate>, ApiError> {
    let mut f = Fields::default();
    let mut out: Vec<Rate> = Vec::new();
    for (i, mut r) in rates.into_iter().enumerate() {
        if !(0..=60).contains(&r.transit_days) {
            f.push(
                format!("rates[{i}].transit_days"),
                "must be between 0 and 60",
            );
        }
        if r.province != ANY_PROVINCE {
            match province(&r.province) {
                Some(full) => r.province = full.to_owned(),
                None => {
                    f.push(
                        format!("rates[{i}].province"),
                        "must be a province or \"*\"",
                    );
                    continue;
                }
            }
        }
        out.push(r);
    }
    let out = f.finish(Some(out))?;
    let mut conflicts = Vec::new();
    for (i, r) in out.iter().enumerate() {
        if out[..i]
            .iter()
            .any(|o| o.province == r.province && o.storage == r.storage)
        {
            conflicts.push(FieldError::new(
                format!("rates[{i}]"),
                "the same province and storage appear twice",
            ));
        }
    }
    for storage in Storage::ALL {
        if !out
            .iter()
            .any(|r| r.province == ANY_PROVINCE && r.storage == *storage)
        {
            conflicts.push(FieldError::new(
                "rates",
                format!(
                    "needs a \"*\" rate for {} so every address has a fee",
                    storage.as_str()
                ),
            ));
        }
    }
    if conflicts.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(conflicts))
    }
}

/// Replaces the whole rate table (admins only), checked row by row and as a whole; audited.
pub fn replace_rates(
    conn: &mut DbConn,
    admin: &AuthUser,
    rates: Vec<Rate>,
) -> ApiResult<Vec<Rate>> {
    if !admin.is_admin() {
        return Err(ApiError::forbidden("this needs a platform admin"));
    }
    let rates = check(rates)?;
    db::write_tx(conn, |conn| {
        diesel::delete(shipping_rates::table).execute(conn)?;
        let rows: Vec<_> = rates
            .iter()
            .map(|r| {
                (
                    shipping_rates::province.eq(r.province.clone()),
                    shipping_rates::storage.eq(r.storage),
                    shipping_rates::first_kg_fee.eq(r.first_kg_fee.fen()),
                    shipping_rates::additional_kg_fee.eq(r.additional_kg_fee.fen()),
                    shipping_rates::free_over.eq(r.free_over.map(Money::fen)),
                    shipping_rates::transit_days.eq(r.transit_days),
                )
            })
            .collect();
        crate::insert_rows!(conn, shipping_rates::table, rows)?;
        crate::audit::record(
            conn,
            Some(admin.id),
            "shipping_rates.replaced",
            "shipping_rates",
            "*",
            serde_json::json!({ "rates": rates.len() }),
        )?;
        load(conn)
    })
}

#[utoipa::path(get, path = "/api/v1/shipping-rates", tag = "orders",
    responses((status = 200, body = Paginated<Rate>)))]
pub async fn list(reads: web::Data<ReadPool>) -> ApiResult<HttpResponse> {
    let items = blocking::read(&reads, load).await?;
    Ok(HttpResponse::Ok().json(Paginated {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(put, path = "/api/v1/shipping-rates", tag = "orders", request_body = ReplaceRates,
    security(("bearer" = [])),
    responses((status = 200, body = Paginated<Rate>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn replace(
    pool: web::Data<DbPool>,
    admin: AdminUser,
    body: ApiJson<ReplaceRates>,
) -> ApiResult<HttpResponse> {
    let rates = body.0.rates();
    let items = blocking::run(&pool, move |conn| replace_rates(conn, &admin.0, rates)).await?;
    Ok(HttpResponse::Ok().json(Paginated {
        items,
        next_cursor: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate() -> Rate {
        Rate {
            province: "广东省".into(),
            storage: Storage::Frozen,
            first_kg_fee: "22.00".parse().unwrap(),
            additional_kg_fee: "10.00".parse().unwrap(),
            free_over: Some("499.00".parse().unwrap()),
            transit_days: 3,
        }
    }

    #[test]
    fn fee_counts_each_started_kilogram() {
        let r = rate();
        let goods = "100.00".parse().unwrap();
        assert_eq!(fee(&r, 500, goods).to_string(), "22.00");
        assert_eq!(fee(&r, 1000, goods).to_string(), "22.00");
        assert_eq!(fee(&r, 1001, goods).to_string(), "32.00");
        assert_eq!(fee(&r, 5000, goods).to_string(), "62.00");
    }

    #[test]
    fn free_over_the_threshold() {
        let r = rate();
        assert_eq!(fee(&r, 5000, "499.00".parse().unwrap()), Money::ZERO);
        assert_eq!(
            fee(&r, 5000, "498.99".parse().unwrap()).to_string(),
            "62.00"
        );
    }

    #[test]
    fn falls_back_to_any_province() {
        let mut other = rate();
        other.province = ANY_PROVINCE.into();
        other.first_kg_fee = "26.00".parse().unwrap();
        let rates = vec![rate(), other];
        assert_eq!(
            rate_for(&rates, "广东省", Storage::Frozen)
                .unwrap()
                .province,
            "广东省"
        );
        assert_eq!(
            rate_for(&rates, "浙江省", Storage::Frozen)
                .unwrap()
                .province,
            "*"
        );
        assert!(rate_for(&rates, "浙江省", Storage::Ambient).is_none());
    }

    #[test]
    fn replacement_needs_defaults() {
        assert!(check(vec![rate()]).is_err());
    }
}
