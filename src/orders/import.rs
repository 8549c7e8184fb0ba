//! `POST /orders/import`: a business buyer's spreadsheet as an order. The CSV has a header
//! `sku_code,quantity` (and optionally `cooperative_id`); every bad line is reported by its
//! spreadsheet line number (the header is line 1) and then nothing is created; a good file
//! becomes exactly what `POST /orders` would make of the same lines.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::AddressInput;
use super::lines::{LineInput, MAX_QUANTITY};
use super::place::{self, CreateOrder, OrderRequest};
use crate::auth::AuthUser;
use crate::catalogue::for_sale;
use crate::catalogue::pricing::{unit_price_for, PriceRefusal};
use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::extract::{idempotency_key, parse_json, read_body};
use crate::http::idempotency;
use crate::http::text::Prose;
use crate::http::validate::{has_forbidden_control, CONTROL_MESSAGE};
use crate::ids::{CooperativeId, OrganizationId, SkuId};
use crate::organizations;

/// CSV uploads may be larger than ordinary JSON bodies.
pub const CSV_LIMIT: usize = 1024 * 1024;
pub const MAX_ROWS: usize = 1000;

/// Everything `POST /orders` takes except `items`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ImportOrder {
    pub shipping_address: AddressInput,
    pub buyer_note: Option<Prose<500>>,
    pub purchase_order_number: Option<Prose<64>>,
    pub organization_id: Option<OrganizationId>,
}

/// One data line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub sku_code: String,
    pub quantity: i64,
    pub cooperative_id: Option<CooperativeId>,
}

fn line_error(line: usize, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("line {line}"), message)
}

/// Splits one CSV record, honouring double quotes.
fn fields(record: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|f| f.trim().to_owned()).collect()
}

/// Parses the file: the good rows and every problem found, by line.
pub fn parse_csv(text: &str) -> (Vec<Row>, Vec<FieldError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate();
    let Some((_, header)) = lines.next() else {
        return (Vec::new(), vec![line_error(1, "the file is empty")]);
    };
    let names: Vec<String> = fields(header)
        .into_iter()
        .map(|h| h.to_lowercase())
        .collect();
    let col = |n: &str| names.iter().position(|h| h == n);
    let (Some(code_col), Some(qty_col)) = (col("sku_code"), col("quantity")) else {
        return (
            Vec::new(),
            vec![line_error(
                1,
                "the header must name the columns sku_code and quantity",
            )],
        );
    };
    let coop_col = col("cooperative_id");
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in lines {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(line_error(
                line,
                format!("a file may have at most {MAX_ROWS} lines of items"),
            ));
            break;
        }
        let f = fields(raw);
        let get = |c: usize| f.get(c).map(String::as_str).unwrap_or("");
        let code = get(code_col);
        let qty = get(qty_col);
        let mut problems = Vec::new();
        if f.iter().any(|cell| has_forbidden_control(cell)) {
            errors.push(line_error(line, CONTROL_MESSAGE));
            continue;
        }
        if code.is_empty() {
            problems.push("sku_code is empty".to_owned());
        }
        let quantity = match qty.parse::<i64>() {
            Ok(q) if (1..=MAX_QUANTITY).contains(&q) => Some(q),
            _ => {
                problems.push(format!(
                    "quantity {qty:?} is not a whole number from 1 to {MAX_QUANTITY}"
                ));
                None
            }
        };
        let coop = match coop_col.map(get).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match c.parse::<CooperativeId>() {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push("cooperative_id is not a valid id".to_owned());
                    None
                }
            },
        };
        match (problems.is_empty(), quantity) {
            (true, Some(quantity)) => rows.push(Row {
                line,
                sku_code: code.to_owned(),
                quantity,
                cooperative_id: coop,
            }),
            _ => errors.push(line_error(line, problems.join("; "))),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(line_error(2, "the file has no items"));
    }
    (rows, errors)
}

/// Turns rows into order lines: codes resolved to SKUs for sale, and the price rules (channel,
/// minimum order) checked for this buyer, every failure named by its line.
fn resolve(
    conn: &mut DbConn,
    user: &AuthUser,
    organization_id: Option<OrganizationId>,
    rows: &[Row],
) -> ApiResult<Vec<LineInput>> {
    let terms = organizations::terms_for_order(conn, user, organization_id)?;
    let codes: Vec<&str> = rows.iter().map(|r| r.sku_code.as_str()).collect();
    let candidates = for_sale::by_codes(conn, &codes)?;
    let ids: Vec<SkuId> = candidates.iter().map(|c| c.1).collect();
    let info = for_sale::load(conn, &ids, false)?;
    let mut by_code: HashMap<&str, Vec<&(String, SkuId, CooperativeId)>> = HashMap::new();
    for c in &candidates {
        if info.get(&c.1).is_some_and(|s| s.for_sale) {
            by_code.entry(c.0.as_str()).or_default().push(c);
        }
    }
    let mut errors = Vec::new();
    let mut lines: Vec<(usize, LineInput)> = Vec::new();
    for r in rows {
        let matches: Vec<_> = by_code
            .get(r.sku_code.as_str())
            .map(|v| {
                v.iter()
                    .filter(|c| r.cooperative_id.is_none_or(|co| co == c.2))
                    .collect()
            })
            .unwrap_or_default();
        let sku = match matches.as_slice() {
            [] => {
                errors.push(line_error(
                    r.line,
                    format!("no SKU {:?} is for sale", r.sku_code),
                ));
                continue;
            }
            [one] => one.1,
            _ => {
                errors.push(line_error(
                    r.line,
                    format!(
                        "SKU code {:?} exists in several co-ops: add a cooperative_id column",
                        r.sku_code
                    ),
                ));
                continue;
            }
        };
        if let Some((other, _)) = lines.iter().find(|(_, l)| l.sku_id == sku) {
            errors.push(line_error(
                r.line,
                format!("the same SKU is on line {other}; combine them"),
            ));
            continue;
        }
        let Some(s) = info.get(&sku) else { continue };
        match unit_price_for(&s.priced, terms.buyer, r.quantity) {
            Ok(_) => {}
            Err(PriceRefusal::WholesaleOnly) => {
                errors.push(line_error(
                    r.line,
                    "sells only to approved business buyers ordering for their organization",
                ));
                continue;
            }
            Err(PriceRefusal::BelowMinimum(moq)) => {
                errors.push(line_error(
                    r.line,
                    format!("below the minimum order quantity of {moq}"),
                ));
                continue;
            }
            Err(PriceRefusal::TooExpensive) => {
                errors.push(line_error(r.line, "a piece would cost too much"));
                continue;
            }
        }
        lines.push((
            r.line,
            LineInput {
                sku_id: sku,
                quantity: r.quantity,
            },
        ));
    }
    if errors.is_empty() {
        Ok(lines.into_iter().map(|(_, l)| l).collect())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A spreadsheet checked against the catalogue for this buyer: its order lines, or every bad
/// line at once (the file's own mistakes and those found against the catalogue), by line.
pub fn check_file(
    conn: &mut DbConn,
    user: &AuthUser,
    organization_id: Option<OrganizationId>,
    csv: &str,
) -> ApiResult<Vec<LineInput>> {
    let (rows, mut errors) = parse_csv(csv);
    match resolve(conn, user, organization_id, &rows) {
        Ok(lines) if errors.is_empty() => Ok(lines),
        Ok(_) => Err(ApiError::Validation(errors)),
        Err(ApiError::Validation(more)) => {
            errors.extend(more);
            errors.sort_by_key(|e| {
                e.field
                    .trim_start_matches("line ")
                    .parse::<usize>()
                    .unwrap_or(0)
            });
            Err(ApiError::Validation(errors))
        }
        Err(other) => Err(other),
    }
}

/// The CSV text and the order fields, from either accepted body shape.
async fn read_upload(req: &HttpRequest, payload: web::Payload) -> ApiResult<(String, String)> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::new(req.headers(), payload);
        let (mut file, mut order) = (None, None);
        let mut total = 0usize;
        while let Some(field) = form.next().await {
            let mut field =
                field.map_err(|e| ApiError::Malformed(format!("bad multipart body: {e}")))?;
            let name = field.name().unwrap_or_default().to_owned();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::Malformed(format!("bad multipart body: {e}")))?;
                total += chunk.len();
                if total > CSV_LIMIT {
                    return Err(ApiError::PayloadTooLarge);
                }
                bytes.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| ApiError::field(&name, "must be UTF-8 text"))?;
            match name.as_str() {
                "file" => file = Some(text),
                "order" => order = Some(text),
                _ => {}
            }
        }
        let file = file.ok_or_else(|| ApiError::field("file", "the CSV file part is missing"))?;
        let order =
            order.ok_or_else(|| ApiError::field("order", "the order part (JSON) is missing"))?;
        Ok((file, order))
    } else {
        let mut payload = payload;
        let body = read_body(&mut payload, CSV_LIMIT).await?;
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| ApiError::field("file", "must be UTF-8 text"))?;
        let order = web::Query::<HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("order").cloned())
            .ok_or_else(|| {
                ApiError::field(
                    "order",
                    "pass the order fields as ?order=<URL-encoded JSON>",
                )
            })?;
        Ok((text, order))
    }
}

#[utoipa::path(post, path = "/api/v1/orders/import", tag = "orders", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "sku_code,quantity[,cooperative_id]; order fields in ?order=<JSON>, or multipart parts `file` and `order`"),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key"),
        ("order" = String, Query, description = "the order's fields (shipping_address, buyer_note, …) as URL-encoded JSON; required unless sent as a multipart part")),
    responses((status = 201, body = super::views::OrderView), (status = 413, body = Problem), (status = 422, body = Problem), (status = 409, body = Problem)))]
pub async fn import(
    req: HttpRequest,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    user: AuthUser,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let (csv, order_json) = read_upload(&req, payload).await?;
    let order: ImportOrder = parse_json(order_json.as_bytes()).map_err(|e| match e {
        ApiError::Validation(errors) => ApiError::Validation(
            errors
                .into_iter()
                .map(|e| FieldError::new(format!("order.{}", e.field), e.message))
                .collect(),
        ),
        // the order travels inside the request, so its own mistakes are the request's fields
        ApiError::Malformed(why) => ApiError::field("order", why),
        other => other,
    })?;
    let hash = idempotency::fingerprint("POST", req.path(), &(&csv, &order));
    let (resolve_user, organization_id) = (user.clone(), order.organization_id);
    let lines = blocking::run(&pool, move |conn| {
        check_file(conn, &resolve_user, organization_id, &csv)
    })
    .await?;
    let request = OrderRequest::try_from(CreateOrder {
        items: Some(lines),
        shipping_address: order.shipping_address,
        buyer_note: order.buyer_note,
        purchase_order_number: order.purchase_order_number,
        organization_id: order.organization_id,
    })?;
    let stored = place::place(&pool, config.into_inner(), user, key, hash, request).await?;
    Ok(stored.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bom_crlf_quotes_and_an_optional_column() {
        let (rows, errors) = parse_csv("\u{feff}sku_code,quantity,cooperative_id\r\nSB-RICE-25KG,10,\r\n\"LB,PEAR\",2,\r\n\r\n");
        assert!(errors.is_empty());
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            Row {
                line: 2,
                sku_code: "SB-RICE-25KG".into(),
                quantity: 10,
                cooperative_id: None
            }
        );
        assert_eq!(rows[1].sku_code, "LB,PEAR");
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn names_every_bad_line() {
        let (rows, errors) = parse_csv("quantity,sku_code\n2,A\nzero,B\n3,\n-1,C\n");
        assert_eq!(rows.len(), 1);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["line 3", "line 4", "line 5"]);
    }

    #[test]
    fn needs_the_header() {
        assert_eq!(parse_csv("code,qty\nA,1\n").1[0].field, "line 1");
        assert!(!parse_csv("sku_code,quantity\n").1.is_empty());
    }
}
