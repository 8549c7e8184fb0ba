//! What a co-operative, a membership and a warehouse may be.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::CoopRole;
use crate::auth::domain::Email;
use crate::db::stored::StoredText;
use crate::http::error::ApiError;
use crate::http::text::{EmailText, Line, MaybePhone, Prose};
use crate::http::validate::Fields;
use crate::vocabulary;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCooperative {
    pub name: Line<100>,
    pub province: Line<50>,
    pub city: Line<50>,
    pub county: Line<50>,
    pub description: Option<Prose<2000>>,
    pub contact_phone: Option<MaybePhone>,
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
        let name = f.check("name", r.name.parse());
        let province = f.check("province", r.province.parse());
        let city = f.check("city", r.city.parse());
        let county = f.check("county", r.county.parse());
        let description = f.check("description", Prose::parse_opt(&r.description));
        let contact_phone = f.check("contact_phone", MaybePhone::parse_opt(&r.contact_phone));
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
pub struct AddCooperativeMember {
    pub email: EmailText,
    pub role: CoopRole,
}

pub struct NewMember {
    pub email: Email,
    pub role: CoopRole,
}

impl TryFrom<AddCooperativeMember> for NewMember {
    type Error = ApiError;
    fn try_from(r: AddCooperativeMember) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let email = f.check("email", Email::parse(&r.email.0));
        let value = email.map(|email| NewMember {
            email,
            role: r.role,
        });
        f.finish(value)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWarehouse {
    pub name: Line<100>,
    pub address: Line<300>,
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
        let name = f.check("name", r.name.parse());
        let address = f.check("address", r.address.parse());
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

    /// A rate as a client may send it: `0`, `1`, or `0.` and up to eight digits.
    pub fn parse_request(raw: &str) -> Option<Self> {
        static RATE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"^(0(\.[0-9]{1,8})?|1(\.0{1,8})?)$").expect("RATE")
        });
        RATE.is_match(raw).then(|| Self::parse(raw)).flatten()
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
