//! Accounts, sessions and roles: who is calling, and what they may touch.

pub mod domain;
pub mod extract;
pub mod limiter;
pub mod password;
pub mod repo;
pub mod routes;
pub mod tokens;

pub use domain::Role;
pub use extract::{AdminUser, AuthUser, MaybeUser};
