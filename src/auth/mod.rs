//! Owns `users`, `refresh_tokens`. Accounts and sessions: who is calling (tokens, passwords,
//! login throttling). Memberships of co-ops and organizations are theirs, not auth's.

pub(crate) mod domain;
pub(crate) mod extract;
pub(crate) mod limiter;
pub(crate) mod password;
pub(crate) mod repo;
pub(crate) mod routes;
pub(crate) mod tokens;

pub use domain::Role;
pub use extract::{AdminUser, AuthUser, MaybeUser};
