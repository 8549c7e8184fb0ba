//! Organization rules: the approval status and its one transition function, payment terms.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::vocabulary;

vocabulary! {
    #[derive(Deserialize, Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum OrganizationStatus as "organization status (organizations.status)" {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

impl OrganizationStatus {
    /// The one place that says which approval changes are legal. Approving an approved
    /// organization again changes its terms; a rejected one must apply again.
    pub fn transition(self, to: OrganizationStatus) -> Result<OrganizationStatus, ApiError> {
        use OrganizationStatus::*;
        match (self, to) {
            (Pending | Approved, Approved) | (Pending, Rejected) => Ok(to),
            (Rejected, Approved) => Err(ApiError::InvalidState(
                "a rejected organization must apply again".into(),
            )),
            (from, _) => Err(ApiError::InvalidState(format!(
                "the organization is already {from}"
            ))),
        }
    }
}

vocabulary! {
    /// How a business buyer pays: before shipping, or within 30 days.
    #[derive(Deserialize, Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PaymentTerms as "payment terms (organizations.payment_terms)" {
        Prepaid = "prepaid",
        #[serde(rename = "net_30")]
        Net30 = "net_30",
    }
}

#[cfg(test)]
mod tests {
    use super::OrganizationStatus::*;

    #[test]
    fn approval_transitions() {
        assert!(Pending.transition(Approved).is_ok());
        assert!(Approved.transition(Approved).is_ok());
        assert!(Pending.transition(Rejected).is_ok());
        assert!(Rejected.transition(Approved).is_err());
        assert!(Approved.transition(Rejected).is_err());
        assert!(Rejected.transition(Rejected).is_err());
        assert!(Pending.transition(Pending).is_err());
    }
}
