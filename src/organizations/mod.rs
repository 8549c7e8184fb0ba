//! Business buyers: organizations, their members, payment terms and credit.

pub mod access;
pub mod credit;
pub mod domain;
pub mod me;
pub mod repo;
pub mod routes;

pub use access::{organization_role, OrgRole};
pub use domain::{OrganizationStatus, PaymentTerms};
pub use repo::{terms_for_order, BuyingTerms};
