//! Payments: sandbox payment intents for orders and the provider's signed webhook.

pub mod routes;
pub mod signature;
pub mod webhook;
