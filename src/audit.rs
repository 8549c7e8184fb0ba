//! Owns `audit_events`. The audit log: one row per state-changing staff action, written by the
//! action's own transaction so a rolled-back action leaves no trace and a committed one always
//! does.

use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{AuditEventId, UserId};

/// Records `action` by `actor` on a target, with a small JSON of details.
pub fn record(
    conn: &mut DbConn,
    actor_id: Option<UserId>,
    action: &str,
    target_type: &str,
    target_id: impl std::fmt::Display,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(AuditEventId::generate()),
            audit_events::actor_id.eq(actor_id),
            audit_events::action.eq(action),
            audit_events::target_type.eq(target_type),
            audit_events::target_id.eq(target_id.to_string()),
            audit_events::details.eq(details.to_string()),
            audit_events::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether `action` was ever recorded on this target (to make a repeated action a no-op).
pub fn happened(
    conn: &mut DbConn,
    action: &str,
    target_type: &str,
    target_id: impl std::fmt::Display,
) -> Result<bool, ApiError> {
    let n: i64 = audit_events::table
        .filter(audit_events::action.eq(action))
        .filter(audit_events::target_type.eq(target_type))
        .filter(audit_events::target_id.eq(target_id.to_string()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
