//! Payment rules: a payment's status and the one function that says how it may change.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::vocabulary;

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PaymentState as "payment status (payments.status)" {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
        Refunded = "refunded",
    }
}

impl PaymentState {
    /// The one place that says which payment status changes are legal. A failed payment may
    /// still succeed (the provider retried); only money received can be refunded.
    pub fn transition(self, to: PaymentState) -> Result<PaymentState, ApiError> {
        use PaymentState::*;
        if matches!(
            (self, to),
            (Pending, Succeeded | Failed) | (Failed, Succeeded) | (Succeeded, Refunded)
        ) {
            Ok(to)
        } else {
            Err(ApiError::InvalidState(format!(
                "a payment that is {self} cannot become {to}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentState::*;

    #[test]
    fn payment_transitions() {
        assert!(Pending.transition(Succeeded).is_ok());
        assert!(Pending.transition(Failed).is_ok());
        assert!(Failed.transition(Succeeded).is_ok());
        assert!(Succeeded.transition(Refunded).is_ok());
        assert!(Succeeded.transition(Failed).is_err());
        assert!(Refunded.transition(Succeeded).is_err());
        assert!(Pending.transition(Refunded).is_err());
    }
}
