//! The catalogue's vocabulary: storage classes, sales channels, and how a product's status
//! may change.

use crate::vocabulary;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::ApiError;

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
