//! `GET/PUT /cooperatives/{id}/departures`: a co-op's cold-truck timetable.

use actix_web::{web, HttpResponse};

use super::departures::{self, Timetable};
use crate::auth::AuthUser;
use crate::cooperatives::access::require_cooperative_member;
use crate::cooperatives::repo as coops;
use crate::db::{self, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::ids::CooperativeId;

fn stored_timetable(raw: Option<String>) -> Timetable {
    raw.and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or(Timetable {
            departures: Vec::new(),
        })
}

#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/departures", tag = "delivery",
    responses((status = 200, body = Timetable), (status = 404, body = Problem)))]
pub async fn get(pool: web::Data<DbPool>, id: web::Path<CooperativeId>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let raw = blocking::run(&pool, move |conn| coops::departures_of(conn, id)).await?;
    Ok(HttpResponse::Ok().json(stored_timetable(raw)))
}

#[utoipa::path(put, path = "/api/v1/cooperatives/{id}/departures", tag = "delivery",
    request_body = Timetable, security(("bearer" = [])),
    responses((status = 200, body = Timetable), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    body: ApiJson<Timetable>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let timetable = body.0;
    let checked = departures::parse(&timetable)?;
    // stored in the order trucks leave, as the co-op will read it back
    let normalised = Timetable {
        departures: checked
            .iter()
            .map(|d| departures::DepartureEntry {
                weekday: i64::from(d.weekday),
                cutoff: d.cutoff_text(),
                capacity_kg: d.capacity_grams / 1000,
            })
            .collect(),
    };
    let json = serde_json::to_string(&normalised)
        .map_err(|e| crate::http::error::ApiError::internal(e.to_string()))?;
    let stored = (!normalised.departures.is_empty()).then_some(json);
    blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            coops::get(conn, id)?;
            require_cooperative_member(conn, &user, id, true)?;
            coops::set_departures(conn, id, stored.as_deref())?;
            crate::audit::record(
                conn,
                Some(user.id),
                "cooperative.departures_set",
                "cooperative",
                id,
                serde_json::json!({ "departures": checked.len() }),
            )
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(normalised))
}
