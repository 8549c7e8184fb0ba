//! HTTP plumbing shared by every domain: errors, extractors, pagination, operations endpoints.

pub mod blocking;
pub mod csv;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod text;
pub mod validate;
