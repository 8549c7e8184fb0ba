//! `GET /me`: the caller's account with the co-ops and organizations they act for. It lives
//! here because organizations is the latest of the three stages it reads (auth, cooperatives,
//! organizations), so it may call all of them.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::access;
use super::domain::OrganizationStatus;
use crate::auth::routes::UserView;
use crate::auth::{self, AuthUser, Role};
use crate::cooperatives;
use crate::db::DbPool;
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::ids::UserId;

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    /// The cooperative's or the organization's id.
    pub id: uuid::Uuid,
    pub name: String,
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrganizationStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub role: Role,
    pub cooperatives: Vec<MembershipView>,
    pub organizations: Vec<MembershipView>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeView), (status = 401, body = Problem)))]
pub async fn me(pool: web::Data<DbPool>, user: AuthUser) -> ApiResult<HttpResponse> {
    let view = blocking::run(&pool, move |conn| {
        let id = user.id;
        let row = auth::repo::find_by_id(conn, id)?.ok_or(ApiError::Unauthorized)?;
        let cooperatives = cooperatives::access::memberships_of(conn, id)?
            .into_iter()
            .map(|(id, name, role)| MembershipView {
                id: id.into(),
                name,
                role: role.as_str(),
                status: None,
            })
            .collect();
        let organizations = access::memberships_of(conn, id)?
            .into_iter()
            .map(|(id, name, role, status)| MembershipView {
                id: id.into(),
                name,
                role: role.as_str(),
                status: Some(status),
            })
            .collect();
        let u = UserView::from(&row);
        Ok(MeView {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            phone: u.phone,
            role: u.role,
            cooperatives,
            organizations,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
