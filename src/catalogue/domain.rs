//! The catalogue's vocabulary: storage classes, sales channels, and how a product's status
//! may change.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::stored::StoredText;
use crate::http::error::ApiError;
use crate::vocabulary;

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Storage as "storage class" {
        Ambient = "ambient",
        Chilled = "chilled",
        Frozen = "frozen",
    }
}

impl Storage {
    /// How a parcel of goods of these classes travels: as cold as its coldest item.
    pub fn coldest(storages: impl IntoIterator<Item = Storage>) -> Storage {
        storages
            .into_iter()
            .max_by_key(|s| match s {
                Storage::Ambient => 0,
                Storage::Chilled => 1,
                Storage::Frozen => 2,
            })
            .unwrap_or(Storage::Ambient)
    }

    /// Chilled and frozen goods travel and are stored cold.
    pub fn needs_cold_chain(self) -> bool {
        !matches!(self, Storage::Ambient)
    }
}

vocabulary! {
    /// How a SKU is paid for: by the piece, or by weight (`price` per kilogram, each piece
    /// charged at its nominal weight and settled on its packed weight).
    #[derive(Serialize, Deserialize, ToSchema, Default)]
    #[serde(rename_all = "snake_case")]
    pub enum Pricing as "pricing (skus.pricing, order_items.pricing)" {
        #[default]
        PerUnit = "per_unit",
        PerKg = "per_kg",
    }
}

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SalesChannel as "sales channel (skus.sales_channel)" {
        Retail = "retail",
        Wholesale = "wholesale",
        Both = "both",
    }
}

impl SalesChannel {
    pub fn sells_retail(self) -> bool {
        !matches!(self, SalesChannel::Wholesale)
    }
    pub fn sells_wholesale(self) -> bool {
        !matches!(self, SalesChannel::Retail)
    }
}

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ProductStatus as "product status (products.status)" {
        Draft = "draft",
        Published = "published",
        Unpublished = "unpublished",
        Archived = "archived",
    }
}

impl ProductStatus {
    /// The one place that says which status changes are allowed.
    pub fn transition(self, to: ProductStatus) -> Result<ProductStatus, ApiError> {
        use ProductStatus::*;
        let ok = matches!(
            (self, to),
            (Draft, Published)
                | (Unpublished, Published)
                | (Published, Unpublished)
                | (Draft | Published | Unpublished, Archived)
        );
        if ok {
            Ok(to)
        } else {
            Err(ApiError::InvalidState(format!(
                "a {} product cannot become {}",
                self.as_str(),
                to.as_str()
            )))
        }
    }
}

/// A list of short texts (certifications, image URLs) stored as one JSON array.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct TextList(pub Vec<String>);

impl StoredText for TextList {
    const WHAT: &'static str = "list of texts (a JSON array)";
    fn from_stored(raw: &str) -> Option<Self> {
        serde_json::from_str(raw).ok().map(TextList)
    }
    fn to_stored(&self) -> std::borrow::Cow<'static, str> {
        // a list of strings always serializes
        std::borrow::Cow::Owned(serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into()))
    }
}

crate::stored_as_text!(TextList);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_transitions() {
        use ProductStatus::*;
        assert!(Draft.transition(Published).is_ok());
        assert!(Published.transition(Unpublished).is_ok());
        assert!(Unpublished.transition(Published).is_ok());
        assert!(Draft.transition(Unpublished).is_err());
        assert!(Archived.transition(Published).is_err());
    }
}
