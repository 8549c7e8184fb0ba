//! Orders, the heart of "Shantou orders, Hegang ships": carts, checkout, atomic stock
//! reservation, the split into one fulfilment per co-op (and warehouse), shipping fees, the
//! order lifecycle and its timeouts.

pub mod actions;
pub mod allocation;
pub mod cart;
pub mod checkout;
pub mod domain;
pub mod import;
pub mod lifecycle;
pub mod place;
pub mod plan;
pub mod reads;
pub mod repo;
pub mod routes;
pub mod shipping;
pub mod views;

pub use domain::{FulfilmentStatus, OrderStatus, PaymentStatus};
