//! Owns `payments`, `refunds`. Sandbox payment intents for orders, the provider's signed
//! webhook, and refunds (cancelling a paid order gives its money back here).

pub(crate) mod cancel;
pub(crate) mod domain;
pub(crate) mod refunds;
pub(crate) mod repo;
pub(crate) mod routes;
pub(crate) mod sandbox;
pub mod signature;
pub(crate) mod webhook;
