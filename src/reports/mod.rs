//! Reports: sales by co-op, product or day; monthly co-op settlements; the audit log.
//! Reports only read. Days and months are calendar days in China Standard Time (UTC+8).

pub mod audit_log;
pub mod period;
pub mod sales;
pub mod settlements;
