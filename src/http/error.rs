//! The one error type handlers return, and its problem+json rendering (RFC 9457).
//! Internal causes go to the log, never to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One field-level complaint inside a 422/409 problem.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("conflict: {detail}")]
    ConflictWith {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("insufficient stock")]
    InsufficientStock {
        errors: Vec<FieldError>,
        extra: serde_json::Value,
    },
    #[error("invalid state: {0}")]
    InvalidState(String),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("idempotency conflict")]
    IdempotencyConflict,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn internal(cause: impl Into<String>) -> Self {
        ApiError::Internal(cause.into())
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        ApiError::Forbidden(why.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::Malformed(_) => "malformed_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(_) | ApiError::ConflictWith { .. } => "conflict",
            ApiError::InsufficientStock { .. } => "insufficient_stock",
            ApiError::InvalidState(_) => "invalid_state",
            ApiError::PreconditionFailed => "precondition_failed",
            ApiError::IdempotencyConflict => "idempotency_conflict",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn title_and_detail(&self) -> (&'static str, String) {
        match self {
            ApiError::Validation(_) => (
                "Validation failed",
                "One or more fields are invalid.".into(),
            ),
            ApiError::Malformed(d) => ("Malformed request", d.clone()),
            ApiError::Unauthorized => (
                "Unauthorized",
                "Missing, invalid or expired credentials.".into(),
            ),
            ApiError::Forbidden(d) => ("Forbidden", d.clone()),
            ApiError::NotFound => ("Not found", "No such resource.".into()),
            ApiError::Conflict(d) | ApiError::ConflictWith { detail: d, .. } => {
                ("Conflict", d.clone())
            }
            ApiError::InsufficientStock { .. } => (
                "Insufficient stock",
                "Not enough stock for one or more lines; nothing was reserved.".into(),
            ),
            ApiError::InvalidState(d) => ("Invalid state", d.clone()),
            ApiError::PreconditionFailed => (
                "Precondition failed",
                "The resource changed since the version given in If-Match.".into(),
            ),
            ApiError::IdempotencyConflict => (
                "Idempotency key reused",
                "This Idempotency-Key was already used with a different request.".into(),
            ),
            ApiError::PayloadTooLarge => (
                "Payload too large",
                "The request body exceeds the allowed size.".into(),
            ),
            ApiError::RateLimited { .. } => (
                "Too many requests",
                "Too many attempts; try again later.".into(),
            ),
            ApiError::Unavailable(_) => (
                "Service unavailable",
                "The service is busy or its database is unavailable; try again shortly.".into(),
            ),
            ApiError::Internal(_) => ("Internal error", "Something went wrong on our side.".into()),
        }
    }
}

impl From<crate::db::RunError> for ApiError {
    fn from(e: crate::db::RunError) -> Self {
        match e {
            crate::db::RunError::NoConnection(_) => ApiError::Unavailable(e.to_string()),
            crate::db::RunError::WorkerFailed(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                ApiError::Conflict(conflict_detail(info.constraint_name(), info.message()))
            }
            ref lost if crate::db::failures::connection_lost(lost) => {
                ApiError::Unavailable(format!("database connection: {lost}"))
            }
            Error::DatabaseError(kind, info)
                if info.message().contains("database is locked")
                    || info.message().contains("database is busy")
                    || info.message().contains("deadlock detected")
                    || matches!(kind, DatabaseErrorKind::SerializationFailure) =>
            {
                ApiError::Unavailable(info.message().to_owned())
            }
            other => ApiError::Internal(format!("database: {other}")),
        }
    }
}

fn conflict_detail(constraint: Option<&str>, message: &str) -> String {
    let name = constraint.unwrap_or(message);
    if name.contains("email") {
        "An account with this email already exists.".into()
    } else if name.contains("skus") || name.contains("code") {
        "A SKU with this code already exists in this cooperative.".into()
    } else if name.contains("cooperatives") {
        "A cooperative with this name already exists.".into()
    } else {
        "The resource already exists.".into()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::IdempotencyConflict => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_)
            | ApiError::ConflictWith { .. }
            | ApiError::InsufficientStock { .. }
            | ApiError::InvalidState(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::Internal(cause) => tracing::error!(cause = %cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(cause = %cause, "service unavailable"),
            _ => {}
        }
        let (title, detail) = self.title_and_detail();
        let errors = match self {
            ApiError::Validation(errors)
            | ApiError::InsufficientStock { errors, .. }
            | ApiError::ConflictWith { errors, .. } => Some(errors.clone()),
            _ => None,
        };
        let retry_after = match self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let problem = Problem {
            kind: format!("https://shanhe.example/problems/{}", self.code()),
            title: title.into(),
            status: status.as_u16(),
            detail,
            code: self.code().into(),
            errors,
            retry_after,
        };
        let mut body = serde_json::to_value(&problem).unwrap_or_default();
        if let (ApiError::InsufficientStock { extra, .. }, Some(obj)) = (self, body.as_object_mut())
        {
            if let Some(extra) = extra.as_object() {
                for (k, v) in extra {
                    obj.insert(k.clone(), v.clone());
                }
            }
        }
        let mut builder = HttpResponse::build(status);
        builder.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = retry_after {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if matches!(self, ApiError::Unavailable(_)) {
            builder.insert_header((header::RETRY_AFTER, "1"));
        }
        builder.body(body.to_string())
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
