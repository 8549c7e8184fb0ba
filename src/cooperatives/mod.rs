//! Owns `cooperatives`, `cooperative_members`, `warehouses`. Supplier co-operatives (the Hegang
//! side): onboarding, members and the checks every co-op endpoint makes, warehouses.

pub(crate) mod access;
pub(crate) mod domain;
pub(crate) mod repo;
pub(crate) mod routes;

pub use access::{can_see_cooperative, require_cooperative_member, CoopRole};
