//! Supplier co-operatives (the Hegang side): onboarding, members, warehouses.

pub mod access;
pub mod domain;
pub mod repo;
pub mod routes;

pub use access::{can_see_cooperative, require_cooperative_member, CoopRole};
