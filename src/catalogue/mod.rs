//! The catalogue: categories, products owned by co-ops, SKUs with retail and tier prices,
//! and the public search shoppers browse.

pub mod categories;
pub mod domain;
pub mod for_sale;
pub mod pricing;
pub mod product;
pub mod repo;
pub mod routes;
pub mod search;

pub use domain::{SalesChannel, Storage};
