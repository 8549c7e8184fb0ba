//! `/cooperatives…`: create (admin), public read, members and warehouses (admin or owner).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::access::{self, CoopRole};
use super::domain::{self, CooperativeStatus};
use super::domain::{
    AddCooperativeMember, CreateCooperative, CreateWarehouse, NewCooperative, NewMember,
    NewWarehouse,
};
use super::repo::{self, CooperativeRow, WarehouseRow};
use crate::audit;
use crate::auth;
use crate::auth::{AdminUser, AuthUser, MaybeUser};
use crate::cooperatives::require_cooperative_member;
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::pagination::{Page, PageParams, Paginated};
use crate::ids::{CooperativeId, UserId, WarehouseId};

#[derive(Debug, Serialize, ToSchema)]
pub struct CooperativeView {
    pub id: CooperativeId,
    pub name: String,
    pub province: String,
    pub city: String,
    pub county: String,
    pub description: Option<String>,
    pub contact_phone: Option<String>,
    pub status: CooperativeStatus,
    /// The co-op's own commission rate; `null` means the platform's. Shown only to the
    /// co-op's members and admins (it is negotiated, not public).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub commission_rate: Option<Option<String>>,
    pub created_at: DateTime<Utc>,
}

impl CooperativeView {
    /// The view for someone outside the co-op: without its terms.
    fn public(r: CooperativeRow) -> Self {
        CooperativeView {
            commission_rate: None,
            ..CooperativeView::from(r)
        }
    }
}

impl From<CooperativeRow> for CooperativeView {
    fn from(r: CooperativeRow) -> Self {
        CooperativeView {
            id: r.id,
            name: r.name,
            province: r.province,
            city: r.city,
            county: r.county,
            description: r.description,
            contact_phone: r.contact_phone,
            status: r.status,
            commission_rate: Some(r.commission_rate.map(|r| r.to_string())),
            created_at: db::utc(r.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub cooperative_id: CooperativeId,
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: CoopRole,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseView {
    pub id: WarehouseId,
    pub cooperative_id: CooperativeId,
    pub name: String,
    pub address: String,
    pub cold_storage: bool,
    pub created_at: DateTime<Utc>,
}

impl From<WarehouseRow> for WarehouseView {
    fn from(r: WarehouseRow) -> Self {
        WarehouseView {
            id: r.id,
            cooperative_id: r.cooperative_id,
            name: r.name,
            address: r.address,
            cold_storage: r.cold_storage,
            created_at: db::utc(r.created_at),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/cooperatives", tag = "cooperatives", request_body = CreateCooperative,
    security(("bearer" = [])),
    responses((status = 201, body = CooperativeView), (status = 403, body = Problem), (status = 409, body = Problem, description = "a co-op with this name exists"), (status = 422, body = Problem)))]
pub async fn create(
    pool: web::Data<DbPool>,
    admin: AdminUser,
    body: ApiJson<CreateCooperative>,
) -> ApiResult<HttpResponse> {
    let new = NewCooperative::try_from(body.0)?;
    let row = blocking::run(&pool, move |conn| create_cooperative(conn, &admin.0, &new)).await?;
    Ok(HttpResponse::Created().json(CooperativeView::from(row)))
}

/// A new co-op (admins only), audited.
pub fn create_cooperative(
    conn: &mut DbConn,
    admin: &AuthUser,
    new: &NewCooperative,
) -> ApiResult<repo::CooperativeRow> {
    if !admin.is_admin() {
        return Err(ApiError::forbidden("this needs a platform admin"));
    }
    db::write_tx(conn, |conn| {
        let row = repo::insert(conn, new)?;
        audit::record(
            conn,
            Some(admin.id),
            "cooperative.created",
            "cooperative",
            row.id,
            serde_json::json!({"name": row.name}),
        )?;
        Ok(row)
    })
}

#[utoipa::path(get, path = "/api/v1/cooperatives", tag = "cooperatives", params(PageParams),
    responses((status = 200, body = Paginated<CooperativeView>)))]
pub async fn list(
    pool: web::Data<DbPool>,
    user: MaybeUser,
    q: web::Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let page = Page::try_from(q.into_inner())?;
    let page = blocking::run(&pool, move |conn| {
        let rows = repo::list(conn, &page)?;
        let mine = match &user.0 {
            Some(u) if !u.is_admin() => access::memberships_of(conn, u.id)?
                .into_iter()
                .map(|(id, _, _)| id)
                .collect(),
            _ => Vec::new(),
        };
        let everything = user.0.as_ref().is_some_and(AuthUser::is_admin);
        Ok(rows.map(|r| {
            if everything || mine.contains(&r.id) {
                CooperativeView::from(r)
            } else {
                CooperativeView::public(r)
            }
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(get, path = "/api/v1/cooperatives/{id}", tag = "cooperatives",
    responses((status = 200, body = CooperativeView), (status = 404, body = Problem)))]
pub async fn get(
    pool: web::Data<DbPool>,
    user: MaybeUser,
    id: web::Path<CooperativeId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let view = blocking::run(&pool, move |conn| {
        let row = repo::get(conn, id)?;
        Ok(if access::can_see_cooperative(conn, user.0.as_ref(), id)? {
            CooperativeView::from(row)
        } else {
            CooperativeView::public(row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/members", tag = "cooperatives", request_body = AddCooperativeMember,
    security(("bearer" = [])),
    responses((status = 201, body = MemberView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_member(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    body: ApiJson<AddCooperativeMember>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let member = NewMember::try_from(body.0)?;
    let view = blocking::run(&pool, move |conn| {
        add_member_by_email(conn, &user, coop_id, &member)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Adds an existing account to a co-op (owners and admins only).
pub fn add_member_by_email(
    conn: &mut DbConn,
    user: &AuthUser,
    coop_id: CooperativeId,
    member: &NewMember,
) -> ApiResult<MemberView> {
    db::write_tx(conn, |conn| {
        repo::get(conn, coop_id)?;
        require_cooperative_member(conn, user, coop_id, true)?;
        let account = auth::repo::find_by_email(conn, member.email.as_str())?.ok_or_else(|| {
            ApiError::field(
                "email",
                "no account uses this email; ask them to register first",
            )
        })?;
        let (user_id, display_name) = (account.id, account.display_name);
        let created_at = access::add_member(conn, coop_id, user_id, member.role)?;
        audit::record(
            conn,
            Some(user.id),
            "cooperative.member_added",
            "cooperative",
            coop_id,
            serde_json::json!({"user_id": user_id, "role": member.role.as_str()}),
        )?;
        Ok(MemberView {
            cooperative_id: coop_id,
            user_id,
            email: member.email.as_str().to_owned(),
            display_name,
            role: member.role,
            created_at: db::utc(created_at),
        })
    })
}

#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/warehouses", tag = "cooperatives", request_body = CreateWarehouse,
    security(("bearer" = [])),
    responses((status = 201, body = WarehouseView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_warehouse(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
    body: ApiJson<CreateWarehouse>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let new = NewWarehouse::try_from(body.0)?;
    let row = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            repo::get(conn, coop_id)?;
            require_cooperative_member(conn, &user, coop_id, true)?;
            repo::insert_warehouse(conn, coop_id, &new)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(WarehouseView::from(row)))
}

#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/warehouses", tag = "cooperatives",
    security(("bearer" = [])),
    responses((status = 200, body = Paginated<WarehouseView>), (status = 403, body = Problem)))]
pub async fn list_warehouses(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<CooperativeId>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let rows = blocking::run(&pool, move |conn| {
        repo::get(conn, coop_id)?;
        require_cooperative_member(conn, &user, coop_id, false)?;
        repo::warehouses_of(conn, coop_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paginated {
        items: rows
            .into_iter()
            .map(WarehouseView::from)
            .collect::<Vec<_>>(),
        next_cursor: None,
    }))
}

#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct CommissionRate {
    /// A decimal between 0 and 1 such as `"0.03"`; `null` returns the co-op to the platform rate.
    #[schema(pattern = "^(0(\\.[0-9]{1,8})?|1(\\.0{1,8})?)$")]
    pub commission_rate: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/cooperatives/{id}/commission-rate", tag = "cooperatives", request_body = CommissionRate,
    security(("bearer" = [])),
    responses((status = 200, body = CooperativeView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_commission_rate(
    pool: web::Data<DbPool>,
    admin: AdminUser,
    id: web::Path<CooperativeId>,
    body: ApiJson<CommissionRate>,
) -> ApiResult<HttpResponse> {
    let coop_id = id.into_inner();
    let rate = body.0.commission_rate;
    let row = blocking::run(&pool, move |conn| {
        set_commission(conn, &admin.0, coop_id, rate.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(CooperativeView::from(row)))
}

/// Sets (or, with `None`, clears) a co-op's own commission rate; admins only, audited.
pub fn set_commission(
    conn: &mut DbConn,
    admin: &AuthUser,
    coop_id: CooperativeId,
    rate: Option<&str>,
) -> ApiResult<repo::CooperativeRow> {
    if !admin.is_admin() {
        return Err(ApiError::forbidden("this needs a platform admin"));
    }
    let rate = match rate {
        None => None,
        Some(r) => match domain::CommissionRate::parse_request(r) {
            Some(rate) => Some(rate),
            None => {
                return Err(ApiError::field(
                    "commission_rate",
                    "must be a decimal string between 0 and 1, e.g. \"0.03\"",
                ))
            }
        },
    };
    db::write_tx(conn, |conn| {
        repo::get(conn, coop_id)?;
        repo::set_commission_rate(conn, coop_id, rate)?;
        audit::record(
            conn,
            Some(admin.id),
            "cooperative.commission_rate_set",
            "cooperative",
            coop_id,
            serde_json::json!({ "commission_rate": rate.map(|r| r.to_string()) }),
        )?;
        repo::get(conn, coop_id)
    })
}
