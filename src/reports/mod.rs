//! Owns no table; only reads. Sales by co-op, product and day, monthly settlements with
//! co-ops, and the audit log for admins.

pub(crate) mod audit_log;
pub(crate) mod period;
pub(crate) mod sales;
pub(crate) mod settlements;
