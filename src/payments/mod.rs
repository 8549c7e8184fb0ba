//! Payments: sandbox payment intents for orders, the provider's signed webhook, and refunds
//! (cancelling a paid order gives its money back here).
//! Owns the tables `payments` and `refunds`.

pub mod cancel;
pub mod domain;
pub mod refunds;
pub mod repo;
pub mod routes;
pub mod signature;
pub mod webhook;
