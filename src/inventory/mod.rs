//! Inventory: stock per (SKU, warehouse), the append-only movements ledger, and the
//! single-statement primitives orders and fulfilment call inside their own transactions.

pub mod domain;
pub mod repo;
pub mod routes;

pub use repo::{release, reserve, ship};
