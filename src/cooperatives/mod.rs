//! Supplier co-operatives (the Hegang side): onboarding, members, warehouses.

pub mod domain;
pub mod repo;
pub mod routes;
