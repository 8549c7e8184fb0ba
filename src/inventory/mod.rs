//! Owns `stock`, `stock_movements`. Stock per (SKU, warehouse), the append-only movements ledger,
//! and the single-statement primitives orders and fulfilment call inside their own
//! transactions. Reads SKU codes and warehouses' cold flag by join.

pub(crate) mod domain;
pub(crate) mod repo;
pub(crate) mod routes;

pub use repo::{release, reserve, ship};
