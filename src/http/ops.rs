//! Operations endpoints outside /api/v1: liveness, readiness, Prometheus metrics, and the
//! request metrics middleware that feeds them.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use diesel::RunQueryDsl;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::error::{ApiError, ApiResult};
use crate::db::{self, replicas::ReadPool, DbPool};
use crate::http::blocking;

/// The process-wide metrics recorder (one per process, shared by every app in it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // fails only if another recorder is installed; then this handle shows nothing new
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "live"}))
}

pub async fn ready(pool: web::Data<DbPool>, reads: web::Data<ReadPool>) -> ApiResult<HttpResponse> {
    let backend = blocking::run(&pool, |conn| {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        Ok(match conn {
            db::DbConn::Pg(_) => "postgres",
            db::DbConn::Sqlite(_) => "sqlite",
        })
    })
    .await
    .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    // replicas are shown, not required: without them reads go to the primary
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "status": "ready",
        "database": backend,
        "replicas": reads.states(),
    })))
}

/// The process's own figures (`process_resident_memory_bytes`, CPU seconds, open files…),
/// read at each scrape.
fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let c = metrics_process::Collector::default();
        c.describe();
        c
    })
}

pub async fn metrics_text() -> HttpResponse {
    let handle = metrics_handle();
    process_collector().collect();
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// A method a path does not take: 405 naming, in `Allow`, the methods it does take (the
/// problem+json body is added on the way out, as for every other error).
pub async fn not_allowed(allow: &'static str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((actix_web::http::header::ALLOW, allow))
        .finish()
}

pub async fn not_found() -> ApiResult<HttpResponse> {
    Err(ApiError::NotFound)
}

/// Counts requests and their latency by route pattern (not raw path, so ids do not explode
/// the label set) and status; adds the request id to the response.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let request_id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string());
    let mut res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    if let Some(id) = request_id {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&id) {
            res.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("x-request-id"),
                value,
            );
        }
    }
    Ok(res)
}

/// Gives error responses that did not come from `ApiError` (a method a route does not take,
/// say) the same problem+json shape as every other error.
pub async fn problems_everywhere(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    // a page's own error page (HTML) is already what its reader should see
    let is_problem = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json") || v.starts_with("text/html"));
    if !status.is_client_error() && !status.is_server_error() || is_problem {
        return Ok(res);
    }
    let (code, title) = match status.as_u16() {
        405 => ("method_not_allowed", "Method not allowed"),
        413 => ("payload_too_large", "Payload too large"),
        404 => ("not_found", "Not found"),
        415 => ("malformed_request", "Unsupported media type"),
        s if s >= 500 => ("internal", "Internal error"),
        _ => ("malformed_request", "Bad request"),
    };
    let body = serde_json::json!({
        "type": format!("https://shanhe.example/problems/{code}"),
        "title": title,
        "status": status.as_u16(),
        "detail": title,
        "code": code,
    });
    let allow = res.headers().get(actix_web::http::header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut builder = HttpResponse::build(status);
    if let Some(allow) = allow {
        builder.insert_header((actix_web::http::header::ALLOW, allow));
    }
    builder.insert_header((
        actix_web::http::header::CONTENT_TYPE,
        "application/problem+json",
    ));
    Ok(ServiceResponse::new(req, builder.body(body.to_string())))
}
