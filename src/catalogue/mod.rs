//! Owns `categories`, `products`, `skus`, `sku_tiers`. The catalogue: categories, products owned
//! by co-ops, SKUs with retail and tier prices, and the public search shoppers browse. Reads
//! co-ops' names and status by join; stock comes from inventory through the edge.

pub(crate) mod categories;
pub(crate) mod domain;
pub(crate) mod for_sale;
pub(crate) mod pricing;
pub(crate) mod product;
pub(crate) mod repo;
pub(crate) mod routes;
pub(crate) mod search;
pub(crate) mod search_index;

pub use domain::{Pricing, SalesChannel, Storage, TextList};
pub use product::Certification;
