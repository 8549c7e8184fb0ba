//! The category tree (粮油, 果蔬, 冻品, 茶饮…): admins add, everyone reads.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::db::schema::categories;
use crate::db::{self, replicas::ReadPool, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::pagination::Paginated;
use crate::http::text::Line;
use crate::http::validate::Fields;
use crate::ids::CategoryId;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCategory {
    pub name: Line<50>,
    pub parent_id: Option<CategoryId>,
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct CategoryView {
    pub id: CategoryId,
    pub name: String,
    pub parent_id: Option<CategoryId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryCreated {
    pub id: CategoryId,
    pub name: String,
    pub parent_id: Option<CategoryId>,
    pub created_at: DateTime<Utc>,
}

pub fn all(conn: &mut DbConn) -> Result<Vec<CategoryView>, ApiError> {
    Ok(categories::table
        .order((categories::name.asc(), categories::id.asc()))
        .select((categories::id, categories::name, categories::parent_id))
        .load(conn)?)
}

/// A category and every category below it.
pub fn with_descendants(conn: &mut DbConn, root: CategoryId) -> Result<Vec<CategoryId>, ApiError> {
    let rows: Vec<(CategoryId, Option<CategoryId>)> = categories::table
        .select((categories::id, categories::parent_id))
        .load(conn)?;
    let mut children: HashMap<CategoryId, Vec<CategoryId>> = HashMap::new();
    for (id, parent) in rows {
        if let Some(p) = parent {
            children.entry(p).or_default().push(id);
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i]) {
            out.extend(kids.iter().cloned());
        }
        i += 1;
    }
    Ok(out)
}

/// Finds a category by name under a parent, or creates it (used by the demo loader).
pub fn ensure(
    conn: &mut DbConn,
    name: &str,
    parent: Option<CategoryId>,
) -> Result<CategoryId, ApiError> {
    let mut q = categories::table
        .filter(categories::name.eq(name))
        .select(categories::id)
        .into_boxed();
    q = match parent {
        Some(p) => q.filter(categories::parent_id.eq(p)),
        None => q.filter(categories::parent_id.is_null()),
    };
    if let Some(id) = q.first::<CategoryId>(conn).optional()? {
        return Ok(id);
    }
    insert(conn, name, parent).map(|c| c.id)
}

fn insert(
    conn: &mut DbConn,
    name: &str,
    parent: Option<CategoryId>,
) -> Result<CategoryCreated, ApiError> {
    let id = CategoryId::generate();
    let now = db::now();
    diesel::insert_into(categories::table)
        .values((
            categories::id.eq(id),
            categories::name.eq(name),
            categories::parent_id.eq(parent),
            categories::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(CategoryCreated {
        id,
        name: name.to_owned(),
        parent_id: parent,
        created_at: db::utc(now),
    })
}

#[utoipa::path(get, path = "/api/v1/categories", tag = "catalogue",
    responses((status = 200, body = Paginated<CategoryView>)))]
pub async fn list(reads: web::Data<ReadPool>) -> ApiResult<HttpResponse> {
    let items = blocking::read(&reads, all).await?;
    Ok(HttpResponse::Ok().json(Paginated {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/categories", tag = "catalogue", request_body = CreateCategory,
    security(("bearer" = [])),
    responses((status = 201, body = CategoryCreated), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    pool: web::Data<DbPool>,
    _admin: AdminUser,
    body: ApiJson<CreateCategory>,
) -> ApiResult<HttpResponse> {
    let mut f = Fields::default();
    let name = f.check("name", body.0.name.parse());
    let name = f.finish(name)?;
    let parent = body.0.parent_id;
    let created = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            if let Some(p) = parent {
                let exists = categories::table.find(p).count().get_result::<i64>(conn)? > 0;
                if !exists {
                    return Err(ApiError::field("parent_id", "no such category"));
                }
            }
            insert(conn, &name, parent)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}
