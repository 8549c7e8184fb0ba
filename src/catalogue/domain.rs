//! The catalogue's vocabulary: storage classes, sales channels, and how a product's status
//! may change.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    Ambient,
    Chilled,
    Frozen,
}

impl Storage {
    pub fn as_str(self) -> &'static str {
        match self {
            Storage::Ambient => "ambient",
            Storage::Chilled => "chilled",
            Storage::Frozen => "frozen",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ambient" => Some(Storage::Ambient),
            "chilled" => Some(Storage::Chilled),
            "frozen" => Some(Storage::Frozen),
            _ => None,
        }
    }
    /// Chilled and frozen goods travel and are stored cold.
    pub fn needs_cold_chain(self) -> bool {
        !matches!(self, Storage::Ambient)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SalesChannel {
    Retail,
    Wholesale,
    Both,
}

impl SalesChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            SalesChannel::Retail => "retail",
            SalesChannel::Wholesale => "wholesale",
            SalesChannel::Both => "both",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "retail" => Some(SalesChannel::Retail),
            "wholesale" => Some(SalesChannel::Wholesale),
            "both" => Some(SalesChannel::Both),
            _ => None,
        }
    }
    pub fn sells_retail(self) -> bool {
        !matches!(self, SalesChannel::Wholesale)
    }
    pub fn sells_wholesale(self) -> bool {
        !matches!(self, SalesChannel::Retail)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Draft,
    Published,
    Unpublished,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::Published => "published",
            ProductStatus::Unpublished => "unpublished",
            ProductStatus::Archived => "archived",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(ProductStatus::Draft),
            "published" => Some(ProductStatus::Published),
            "unpublished" => Some(ProductStatus::Unpublished),
            "archived" => Some(ProductStatus::Archived),
            _ => None,
        }
    }

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
