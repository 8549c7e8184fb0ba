//! What a co-operative, a membership and a warehouse may be.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::CoopRole;
use crate::auth::domain::Email;
use crate::db::stored::StoredText;
use crate::http::error::ApiError;
use crate::http::validate::{bounded_text, optional_text, phone, Fields};
use crate::vocabulary;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCooperative {
    pub name: String,
    pub province: String,
    pub city: String,
    pub county: String,
    pub description: Option<String>,
    pub contact_phone: Option<String>,
}

pub struct NewCooperative {
    pub name: String,
    pub province: String,
    pub city: String,
    pub county: String,
    pub description: Option<String>,
    pub contact_phone: Option<String>,
}

impl TryFrom<CreateCooperative> for NewCooperative {
    type Error = ApiError;
    fn try_from(r: CreateCooperative) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let name = f.check("name", bounded_text(&r.name, 100));
        let province = f.check("province", bounded_text(&r.province, 50));
        let city = f.check("city", bounded_text(&r.city, 50));
        let county = f.check("county", bounded_text(&r.county, 50));
        let description = f.check("description", optional_text(r.description.as_deref(), 2000));
        let contact_phone = f.check(
            "contact_phone",
            match r
                .contact_phone
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => Ok(None),
                Some(p) => phone(p).map(Some),
            },
        );
        let value = (|| {
            Some(NewCooperative {
                name: name?,
                province: province?,
                city: city?,
                county: county?,
                description: description?,
                contact_phone: contact_phone?,
            })
        })();
        f.finish(value)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMember {
    pub email: String,
    /// `owner` or `staff`
    pub role: String,
}

pub struct NewMember {
    pub email: Email,
    pub role: CoopRole,
}

impl TryFrom<AddMember> for NewMember {
    type Error = ApiError;
    fn try_from(r: AddMember) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let email = f.check("email", Email::parse(&r.email));
        let role = f.check(
            "role",
            CoopRole::parse(r.role.trim()).ok_or("must be \"owner\" or \"staff\""),
        );
        let value = (|| {
            Some(NewMember {
                email: email?,
                role: role?,
            })
        })();
        f.finish(value)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWarehouse {
    pub name: String,
    pub address: String,
    pub cold_storage: bool,
}

pub struct NewWarehouse {
    pub name: String,
    pub address: String,
    pub cold_storage: bool,
}

impl TryFrom<CreateWarehouse> for NewWarehouse {
    type Error = ApiError;
    fn try_from(r: CreateWarehouse) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let name = f.check("name", bounded_text(&r.name, 100));
        let address = f.check("address", bounded_text(&r.address, 300));
        let value = (|| {
            Some(NewWarehouse {
                name: name?,
                address: address?,
                cold_storage: r.cold_storage,
            })
        })();
        f.finish(value)
    }
}

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum CooperativeStatus as "cooperative status (cooperatives.status)" {
        Active = "active",
        Suspended = "suspended",
    }
}

/// A co-op's own commission: a decimal between 0 and 1, stored as its text form.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct CommissionRate(Decimal);

impl CommissionRate {
    pub fn parse(raw: &str) -> Option<Self> {
        raw.trim()
            .parse::<Decimal>()
            .ok()
            .filter(|d| *d >= Decimal::ZERO && *d <= Decimal::ONE)
            .map(|d| CommissionRate(d.normalize()))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl std::fmt::Display for CommissionRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl StoredText for CommissionRate {
    const WHAT: &'static str = "commission rate (cooperatives.commission_rate)";
    fn from_stored(raw: &str) -> Option<Self> {
        Self::parse(raw)
    }
    fn to_stored(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Owned(self.0.to_string())
    }
}

crate::stored_as_text!(CommissionRate);
