//! `POST /payments/webhook`: the provider's signed, at-least-once notification. A repeat is a
//! no-op; a payment that succeeds for an order already cancelled is kept and refunded.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::PaymentState;
use super::signature;
use super::{refunds, repo};
use crate::config::Config;
use crate::db::{self, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{parse_json, read_body, JSON_LIMIT};
use crate::ids::PaymentId;
use crate::money::Money;
use crate::orders::lifecycle;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Notification {
    pub payment_id: PaymentId,
    pub status: Outcome,
    pub provider_reference: Option<String>,
    pub amount: Money,
}

pub fn apply(conn: &mut DbConn, n: &Notification) -> ApiResult<&'static str> {
    let payment = repo::find(conn, n.payment_id)?.ok_or(ApiError::NotFound)?;
    if payment.amount != n.amount.fen() {
        return Err(ApiError::field(
            "amount",
            "differs from the payment's amount",
        ));
    }
    use PaymentState::*;
    match (n.status, payment.status) {
        (Outcome::Succeeded, Succeeded | Refunded)
        | (Outcome::Failed, Succeeded | Refunded | Failed) => Ok("already recorded"),
        (Outcome::Failed, Pending) => {
            repo::change_status(conn, payment.id, Pending, Failed, None)?;
            Ok("payment failed")
        }
        (Outcome::Succeeded, from @ (Pending | Failed)) => {
            let reference = n.provider_reference.as_deref();
            if !repo::change_status(conn, payment.id, from, Succeeded, reference)? {
                return Ok("already recorded");
            }
            // conditional on the order still awaiting payment: a racing cancellation or
            // timeout makes it false, and the order is then read as it now is
            if lifecycle::confirm_paid(conn, payment.order_id)? {
                return Ok("order confirmed");
            }
            // the order was cancelled (or already paid by another payment): keep the money
            // on record and give it back
            refunds::refund_late_payment(conn, payment.order_id, &payment)?;
            Ok("refunded")
        }
    }
}

#[utoipa::path(post, path = "/api/v1/payments/webhook", tag = "payments", request_body = Notification,
    params(("Shanhe-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256>")),
    responses((status = 200, description = "Recorded (or already recorded)"), (status = 401, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn receive(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let Some(secret) = config.payment_webhook_secret.clone() else {
        return Err(ApiError::Unavailable(
            "SHANHE_PAYMENT_WEBHOOK_SECRET is not set".into(),
        ));
    };
    let body = read_body(&mut payload, JSON_LIMIT).await?;
    let header = req
        .headers()
        .get("Shanhe-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !signature::verify(
        secret.expose(),
        header,
        &body,
        chrono::Utc::now().timestamp(),
    ) {
        return Err(ApiError::Unauthorized);
    }
    let notification: Notification = parse_json(&body)?;
    let result = blocking::run(&pool, move |conn| {
        db::write_tx(conn, |conn| apply(conn, &notification))
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "received": true, "result": result })))
}
