//! Typed ids: an order id never goes where a SKU id belongs. Each wraps a UUID, is parsed
//! from paths and bodies (a malformed id never reaches a handler), stored as TEXT, and
//! carried typed through row structs and queries: a malformed stored id is an error, not a panic.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Uuid,
                    )))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $crate::db::stored::StoredText for $name {
            const WHAT: &'static str = stringify!($name);
            fn from_stored(raw: &str) -> Option<Self> {
                raw.parse().ok()
            }
            fn to_stored(&self) -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Owned(self.0.to_string())
            }
        }

        $crate::stored_as_text!($name);
    )*};
}

typed_id!(
    UserId,
    CooperativeId,
    WarehouseId,
    CategoryId,
    ProductId,
    SkuId,
    OrganizationId,
    OrderId,
    FulfilmentId,
    OrderItemId,
    PaymentId,
    RefundId,
    ShipmentId,
    ShipmentEventId,
    MovementId,
    RefreshTokenId,
    AuditEventId,
    LotId,
    ClaimId,
);
