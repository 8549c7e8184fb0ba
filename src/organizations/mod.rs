//! Owns `organizations`, `organization_members`. Business buyers: organizations, their members,
//! approval, payment terms and credit; and `/me`, which reads the three account stages.

pub(crate) mod access;
pub(crate) mod credit;
pub(crate) mod domain;
pub(crate) mod me;
pub(crate) mod repo;
pub(crate) mod routes;

pub use access::{organization_role, OrgRole};
pub use domain::{OrganizationStatus, PaymentTerms};
pub use repo::{terms_for_order, BuyingTerms};
