//! Business buyers: organizations, their members, payment terms and credit.

pub mod credit;
pub mod domain;
pub mod repo;
pub mod routes;

pub use domain::{OrganizationStatus, PaymentTerms};
pub use repo::{terms_for_order, BuyingTerms};
