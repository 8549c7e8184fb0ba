//! `POST /orders/{id}/cancel`: the order is cancelled (stock released, credit given back) and
//! what was paid is refunded, in one transaction.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::refunds;
use crate::audit;
use crate::auth::AuthUser;
use crate::db::{self, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::OptionalJson;
use crate::http::text::Prose;
use crate::ids::OrderId;
use crate::orders::actions::own_order;
use crate::orders::lifecycle;
use crate::orders::repo as orders;
use crate::orders::views::{self, OrderView, Parcels, Scope};

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CancelRequest {
    pub reason: Option<Prose<500>>,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", request_body = CancelRequest,
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn cancel(
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    user: AuthUser,
    id: web::Path<OrderId>,
    body: OptionalJson<CancelRequest>,
) -> ApiResult<HttpResponse> {
    let parcels = **parcels;
    let id = id.into_inner();
    let reason = Prose::parse_opt(&body.0.reason).map_err(|m| ApiError::field("reason", m))?;
    let view = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let order = own_order(conn, &user, id)?;
            let by_staff = user.is_admin() && order.buyer_id != user.id;
            let why = reason.as_deref().unwrap_or(if by_staff {
                "cancelled by the platform"
            } else {
                "cancelled by the buyer"
            });
            let Some(before) = lifecycle::cancel(conn, order, Some(why))? else {
                return Err(ApiError::InvalidState(
                    "the order changed meanwhile; reload it".into(),
                ));
            };
            refunds::refund_cancelled_order(conn, &before, why)?;
            if by_staff {
                audit::record(
                    conn,
                    Some(user.id),
                    "order.cancelled_by_staff",
                    "order",
                    id,
                    serde_json::json!({"number": before.number, "reason": why}),
                )?;
            }
            let row = orders::find(conn, id)?.ok_or(ApiError::NotFound)?;
            views::order_view(conn, parcels, row, &Scope::Whole)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
