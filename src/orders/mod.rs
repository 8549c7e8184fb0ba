//! Owns `orders`, `order_items`, `fulfilments`, `cart_items`, `shipping_rates`, `counters`.
//! Orders, the heart of "Shantou orders, Hegang ships": carts, checkout, atomic stock
//! reservation, the split into one fulfilment per co-op (and warehouse), shipping fees, the
//! order lifecycle and its timeouts. Parcels are shown through fulfilment's port (`views::Parcels`).

pub(crate) mod actions;
pub(crate) mod allocation;
pub(crate) mod cart;
pub(crate) mod checkout;
pub(crate) mod domain;
pub(crate) mod import;
pub(crate) mod lifecycle;
pub(crate) mod lines;
pub(crate) mod place;
pub(crate) mod plan;
pub(crate) mod reads;
pub(crate) mod repo;
pub(crate) mod routes;
pub(crate) mod shipping;
pub(crate) mod sold_out;
pub(crate) mod views;

pub use domain::{FulfilmentStatus, OrderStatus, PaymentStatus};
