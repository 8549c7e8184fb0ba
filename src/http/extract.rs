//! Request extractors that turn bad input into the contract's problems: a JSON body that is
//! too large (413), not JSON (400) or of the wrong shape (422 naming the field), and any text
//! with a control character in a body or a query string (422 naming the field).

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, ResponseError};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::{ApiError, FieldError};
use super::validate::{has_forbidden_control, CONTROL_MESSAGE};

/// The body limit for ordinary JSON requests.
pub const JSON_LIMIT: usize = 64 * 1024;

/// A JSON body, parsed with the path of any offending field kept for the 422.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = match req.headers().get(header::CONTENT_TYPE) {
            None => true,
            Some(v) => v
                .to_str()
                .map(|s| {
                    let s = s.to_ascii_lowercase();
                    s.starts_with("application/json") || s.contains("+json")
                })
                .unwrap_or(false),
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > JSON_LIMIT) {
                return Err(ApiError::PayloadTooLarge);
            }
            let body = read_body(&mut payload, JSON_LIMIT).await?;
            if !content_type_ok {
                return Err(ApiError::Malformed(
                    "expected a JSON body (Content-Type: application/json)".into(),
                ));
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

/// Reads a whole body, refusing it once it passes `limit` bytes.
pub async fn read_body<S>(payload: &mut S, limit: usize) -> Result<web::Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            actix_web::error::PayloadError::Overflow => ApiError::PayloadTooLarge,
            other => ApiError::Malformed(format!("could not read the body: {other}")),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON: syntax errors are 400, shape errors 422 with the field's path, and a string
/// holding a control character (escaped, since JSON forbids them raw) 422 naming its field.
/// Members the request type does not have are ignored whatever they hold: they are never read,
/// so they are never stored.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::Malformed("the request body is empty".into()));
    }
    let mut ignored: Vec<Vec<Segment>> = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut parsed = tracked::<_, T>(&mut de, &mut ignored);
    if parsed.is_ok() {
        de.end()
            .map_err(|e| ApiError::Malformed(format!("invalid JSON: {e}")))?;
    } else if let Some(whole) = integral_floats_as_integers(body) {
        // `3.0` is a whole number in JSON Schema's eyes, so it is one here too
        ignored.clear();
        parsed = tracked::<_, T>(whole, &mut ignored);
    }
    match parsed {
        Ok(v) => {
            if may_escape_a_control(body) {
                if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
                    let mut at = Vec::new();
                    if let Some(field) = control_in(&value, &mut at, &ignored) {
                        return Err(ApiError::field(field, CONTROL_MESSAGE));
                    }
                }
            }
            Ok(v)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Err(ApiError::Malformed(format!("invalid JSON: {inner}")))
            } else {
                let field = if path == "." || path.is_empty() {
                    field_from_message(&inner.to_string()).unwrap_or_else(|| "body".into())
                } else {
                    path
                };
                Err(ApiError::Validation(vec![FieldError::new(
                    field,
                    clean_serde_message(&inner.to_string()),
                )]))
            }
        }
    }
}

/// Deserializes with the path of a bad field kept and the members `T` does not have noted.
fn tracked<'de, D, T>(
    de: D,
    ignored: &mut Vec<Vec<Segment>>,
) -> Result<T, serde_path_to_error::Error<D::Error>>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    let mut note = |path: serde_ignored::Path| ignored.push(segments(&path));
    serde_path_to_error::deserialize(serde_ignored::Deserializer::new(de, &mut note))
}

/// The document again with every float that is a whole number in `i64` range written as an
/// integer, when it has any such float; `None` otherwise.
fn integral_floats_as_integers(body: &[u8]) -> Option<serde_json::Value> {
    fn walk(v: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match v {
            Value::Number(n) if n.is_f64() => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
                    *v = Value::from(f as i64);
                    true
                }
                _ => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |any, i| walk(i) | any),
            Value::Object(map) => map.values_mut().fold(false, |any, i| walk(i) | any),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    walk(&mut value).then_some(value)
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_ignored::Path) -> Vec<Segment> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => {
            let mut s = segments(parent);
            s.push(Segment::Index(*index));
            s
        }
        Path::Map { parent, key } => {
            let mut s = segments(parent);
            s.push(Segment::Key(key.clone()));
            s
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => segments(parent),
    }
}

fn display(path: &[Segment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) if out.is_empty() => out.push_str(k),
            Segment::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "body".into()
    } else {
        out
    }
}

/// A cheap look at the raw body: could any string in it carry an escaped control character?
/// (`\u0000`–`\u001f`, `\u007f`, `\b`, `\f`; a false alarm only costs a second parse.)
fn may_escape_a_control(body: &[u8]) -> bool {
    body.windows(2).enumerate().any(|(i, w)| {
        w[0] == b'\\'
            && match w[1] {
                b'b' | b'f' => true,
                b'u' => {
                    let hex = body.get(i + 2..i + 6).unwrap_or_default();
                    hex.len() == 4
                        && hex[0] == b'0'
                        && hex[1] == b'0'
                        && (matches!(hex[2], b'0' | b'1')
                            || (hex[2] == b'7' && matches!(hex[3], b'f' | b'F')))
                }
                _ => false,
            }
    })
}

/// The path of the first string read by the request type that holds a forbidden control
/// character (`ignored` lists the members it does not have).
fn control_in(
    value: &serde_json::Value,
    at: &mut Vec<Segment>,
    ignored: &[Vec<Segment>],
) -> Option<String> {
    use serde_json::Value;
    if ignored.iter().any(|i| i == at) {
        return None;
    }
    match value {
        Value::String(s) if has_forbidden_control(s) => Some(display(at)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            at.push(Segment::Index(i));
            let found = control_in(v, at, ignored);
            at.pop();
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            at.push(Segment::Key(k.clone()));
            let found = if ignored.iter().any(|i| i == at) {
                None
            } else if has_forbidden_control(k) {
                Some(display(at))
            } else {
                control_in(v, at, ignored)
            };
            at.pop();
            found
        }),
        _ => None,
    }
}

/// Refuses a query string whose parameters hold a control character, before any handler or
/// query sees it: 422 naming the parameter. One place for every endpoint.
pub async fn refuse_control_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let bad = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, v)| has_forbidden_control(k) || has_forbidden_control(v))
        .map(|(k, _)| k.into_owned());
    if let Some(param) = bad {
        let field = if has_forbidden_control(&param) {
            "query".to_owned()
        } else {
            param
        };
        let res = ApiError::field(field, CONTROL_MESSAGE).error_response();
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// serde reports a missing field at the parent; name the field itself.
fn field_from_message(msg: &str) -> Option<String> {
    let rest = msg
        .strip_prefix("missing field `")
        .or_else(|| msg.strip_prefix("unknown field `"))?;
    Some(rest.split('`').next()?.to_owned())
}

fn clean_serde_message(msg: &str) -> String {
    // drop serde_json's " at line 1 column 17" suffix: the field name says where
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// A malformed id or query in the URL: ids → 404, query strings → 422.
pub fn path_error(_err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let msg = err.to_string();
    let field = msg
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_else(|| "query".into());
    ApiError::Validation(vec![FieldError::new(field, clean_serde_message(&msg))]).into()
}

/// The `If-Match` version, if the client sent one.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value
        .to_str()
        .map_err(|_| ApiError::Malformed("If-Match is not text".into()))?
        .trim();
    if raw == "*" {
        return Ok(None);
    }
    let raw = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    // an unparseable tag can never match a current version
    Ok(Some(raw.parse::<i64>().unwrap_or(-1)))
}

/// The `Idempotency-Key` header: 1–255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::field("Idempotency-Key", "must be visible ASCII"))?
        .trim();
    if !key.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(ApiError::field("Idempotency-Key", "must be visible ASCII"));
    }
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::field(
            "Idempotency-Key",
            "must be 1 to 255 characters",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// An `ETag` header value for a resource version.
pub fn etag(version: i64) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// A JSON body that may be left out entirely (`POST /orders/{id}/cancel` with no reason):
/// an empty body reads as `T::default()`, anything else must parse.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(_req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&mut payload, JSON_LIMIT).await?;
            if body.iter().all(|b| b.is_ascii_whitespace()) {
                return Ok(OptionalJson(T::default()));
            }
            parse_json(&body).map(OptionalJson)
        })
    }
}
