//! `GET /audit-events`: the audit log for admins, newest first.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::period::{day_start_utc, parse_day};
use crate::auth::AdminUser;
use crate::db::schema::audit_events;
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::pagination::{time_key, Page, Paginated};
use crate::ids::{AuditEventId, UserId};

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub action: Option<String>,
    /// RFC 3339 time (a CST date `YYYY-MM-DD` also works)
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339 time (a CST date also works, inclusive)
    #[param(format = DateTime)]
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: AuditEventId,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// An instant from a timestamp or a day; a day as `to` means its end.
fn instant(raw: &str, end_of_day: bool, field: &str) -> ApiResult<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc).naive_utc());
    }
    let day = parse_day(raw)
        .ok_or_else(|| ApiError::field(field, "must be an RFC 3339 time or a date YYYY-MM-DD"))?;
    let start = day_start_utc(day);
    Ok(if end_of_day {
        start + chrono::Duration::days(1)
    } else {
        start
    })
}

#[utoipa::path(get, path = "/api/v1/audit-events", tag = "reports", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = Paginated<AuditEventView>), (status = 403, body = Problem)))]
pub async fn list(
    pool: web::Data<DbPool>,
    _admin: AdminUser,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let from = q
        .from
        .as_deref()
        .map(|f| instant(f, false, "from"))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|t| instant(t, true, "to"))
            .transpose()?;
    let filter = AuditFilter {
        actor_id: q.actor_id,
        target_id: q.target_id,
        action: q.action,
        from,
        to,
    };
    let out = blocking::run(&pool, move |conn| events(conn, &filter, &page)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Which audit events to list.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// Audit events, newest first (admins only: the callers check).
pub fn events(
    conn: &mut DbConn,
    f: &AuditFilter,
    page: &Page,
) -> ApiResult<Paginated<AuditEventView>> {
    #[allow(clippy::type_complexity)]
    let mut query = audit_events::table
        .select((
            audit_events::id,
            audit_events::actor_id,
            audit_events::action,
            audit_events::target_type,
            audit_events::target_id,
            audit_events::details,
            audit_events::created_at,
        ))
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .into_boxed();
    if let Some(a) = f.actor_id.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(audit_events::actor_id.eq(a));
    }
    if let Some(t) = f.target_id.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(audit_events::target_id.eq(t));
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(audit_events::action.eq(a));
    }
    if let Some(t) = f.from {
        query = query.filter(audit_events::created_at.ge(t));
    }
    if let Some(t) = f.to {
        query = query.filter(audit_events::created_at.lt(t));
    }
    if let Some((t, id)) = page.after_time()? {
        query = query.filter(
            audit_events::created_at
                .lt(t)
                .or(audit_events::created_at.eq(t).and(audit_events::id.lt(id))),
        );
    }
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        AuditEventId,
        Option<UserId>,
        String,
        String,
        String,
        String,
        NaiveDateTime,
    )> = crate::db::prepared::load_limited(conn, query, page.fetch_limit(), false)?;
    let page = page.finish(rows, |r| time_key(r.6, r.0));
    Ok(page.map(
        |(id, actor_id, action, target_type, target_id, details, created)| AuditEventView {
            id,
            actor_id,
            action,
            target_type,
            target_id,
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
            created_at: db::utc(created),
        },
    ))
}
