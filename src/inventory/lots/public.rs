//! 溯源 for everyone: a lot's public record by its trace code (JSON and a phone page), and
//! the label the co-op prints with the code's QR. Nothing here says who bought the lot.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::domain::{self, LotStatus};
use super::label::{self, escape, Label};
use super::repo::{self, LotRow};
use super::routes::visible_lot;
use crate::auth::AuthUser;
use crate::catalogue::{Certification, Storage, TextList};
use crate::config::PublicUrl;
use crate::db::schema::{cooperatives, products, skus};
use crate::db::{replicas::ReadPool, DbConn, DbPool};
use crate::http::blocking;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::ids::{CooperativeId, LotId, ProductId};

#[derive(Debug, Serialize, ToSchema)]
pub struct TraceProduct {
    pub id: ProductId,
    pub name: String,
    pub origin: String,
    pub storage: Storage,
    pub certifications: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraceCooperative {
    pub id: CooperativeId,
    pub name: String,
    pub province: String,
    pub city: String,
    pub county: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TraceLot {
    pub code: String,
    #[schema(format = Date)]
    pub harvested_on: Option<String>,
    #[schema(format = Date)]
    pub packed_on: String,
    #[schema(format = Date)]
    pub best_before: String,
    pub certificate_no: Option<String>,
    pub status: LotStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicTrace {
    pub product: TraceProduct,
    pub cooperative: TraceCooperative,
    pub lot: TraceLot,
}

/// A trace code as the server makes them: anything else cannot name a lot.
fn plausible(code: &str) -> bool {
    (10..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

type Origin = (ProductId, String, String, Storage, TextList, String);
type Coop = (CooperativeId, String, String, String, String);

fn public_trace(conn: &mut DbConn, code: &str) -> ApiResult<PublicTrace> {
    if !plausible(code) {
        return Err(ApiError::NotFound);
    }
    let lot = repo::by_trace_code(conn, code)?.ok_or(ApiError::NotFound)?;
    let ((pid, name, origin, storage, certs, _sku), coop): (Origin, Coop) = skus::table
        .inner_join(products::table.inner_join(cooperatives::table))
        .filter(skus::id.eq(lot.sku_id))
        .select((
            (
                products::id,
                products::name,
                products::origin,
                products::storage,
                products::certifications,
                skus::name,
            ),
            (
                cooperatives::id,
                cooperatives::name,
                cooperatives::province,
                cooperatives::city,
                cooperatives::county,
            ),
        ))
        .first(conn)?;
    let status = LotStatus::of(lot.status, lot.on_hand, &lot.best_before, domain::today());
    Ok(PublicTrace {
        product: TraceProduct {
            id: pid,
            name,
            origin,
            storage,
            certifications: certs.0,
        },
        cooperative: TraceCooperative {
            id: coop.0,
            name: coop.1,
            province: coop.2,
            city: coop.3,
            county: coop.4,
        },
        lot: TraceLot {
            code: lot.code,
            harvested_on: lot.harvested_on,
            packed_on: lot.packed_on,
            best_before: lot.best_before,
            certificate_no: lot.certificate_no,
            status,
        },
    })
}

#[utoipa::path(get, path = "/api/v1/trace/{trace_code}", tag = "lots",
    params(("trace_code" = String, Path, description = "the code printed on the lot's label")),
    responses((status = 200, body = PublicTrace), (status = 404, body = Problem)))]
pub async fn trace_json(
    reads: web::Data<ReadPool>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    let trace = blocking::read(&reads, move |conn| public_trace(conn, &code)).await?;
    Ok(HttpResponse::Ok().json(trace))
}

fn storage_name(s: Storage) -> &'static str {
    match s {
        Storage::Ambient => "常温",
        Storage::Chilled => "冷藏",
        Storage::Frozen => "冷冻",
    }
}

fn status_name(s: LotStatus) -> &'static str {
    match s {
        LotStatus::Active => "在售",
        LotStatus::Held => "暂停销售",
        LotStatus::Expired => "已过保质期",
        LotStatus::Depleted => "已售完",
    }
}

/// The phone page of a lot's trace.
fn trace_page(t: &PublicTrace) -> String {
    let certs: Vec<String> = t
        .product
        .certifications
        .iter()
        .map(|c| {
            Certification::parse(c)
                .map(|c| c.chinese_name().to_owned())
                .unwrap_or_else(|| c.clone())
        })
        .collect();
    let row = |k: &str, v: &str| format!("<dt>{k}</dt><dd>{}</dd>", escape(v));
    let mut rows = String::new();
    rows.push_str(&row("产地", &t.product.origin));
    rows.push_str(&row(
        "合作社",
        &format!(
            "{}（{}{}{}）",
            t.cooperative.name, t.cooperative.province, t.cooperative.city, t.cooperative.county
        ),
    ));
    rows.push_str(&row("批次", &t.lot.code));
    if let Some(h) = &t.lot.harvested_on {
        rows.push_str(&row("采收日期", h));
    }
    rows.push_str(&row("包装日期", &t.lot.packed_on));
    rows.push_str(&row("保质期至", &t.lot.best_before));
    rows.push_str(&row("储运方式", storage_name(t.product.storage)));
    if !certs.is_empty() {
        rows.push_str(&row("认证", &certs.join("、")));
    }
    if let Some(c) = &t.lot.certificate_no {
        rows.push_str(&row("证书编号", c));
    }
    rows.push_str(&row("状态", status_name(t.lot.status)));
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name} · 溯源 · 汕鹤优选</title><style>\
         body{{margin:0;font-family:system-ui,sans-serif;background:#f6f4ee;color:#222}}\
         main{{max-width:36rem;margin:0 auto;padding:1rem}}\
         h1{{font-size:1.4rem;margin:.2rem 0 1rem}}\
         .brand{{color:#2d6a3e;font-weight:bold}}\
         dl{{display:grid;grid-template-columns:6.5em 1fr;gap:.5rem .75rem;background:#fff;\
         padding:1rem;border-radius:.5rem;margin:0}}\
         dt{{color:#666}}dd{{margin:0;overflow-wrap:anywhere}}\
         </style></head><body><main><p class=\"brand\">汕鹤优选 · 产品溯源</p>\
         <h1>{name}</h1><dl>{rows}</dl></main></body></html>",
        name = escape(&t.product.name),
    )
}

pub async fn trace_html(
    reads: web::Data<ReadPool>,
    code: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = code.into_inner();
    let trace = blocking::read(&reads, move |conn| public_trace(conn, &code)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(trace_page(&trace)))
}

fn names_of(conn: &mut DbConn, lot: &LotRow) -> ApiResult<(String, String)> {
    Ok(skus::table
        .inner_join(products::table)
        .filter(skus::id.eq(lot.sku_id))
        .select((products::name, skus::name))
        .first(conn)?)
}

/// The printable label of a lot the caller's co-op owns: names, code, best-before and the QR
/// code of its public trace URL.
pub fn lot_label(
    conn: &mut DbConn,
    user: &AuthUser,
    id: LotId,
    public: &PublicUrl,
) -> ApiResult<String> {
    let lot = visible_lot(conn, user, id)?;
    let (product, sku) = names_of(conn, &lot)?;
    let url = public.trace_url(&lot.trace_code);
    label::svg(&Label {
        product_name: &product,
        sku_name: &sku,
        code: &lot.code,
        best_before: &lot.best_before,
        trace_url: &url,
    })
}

#[utoipa::path(get, path = "/api/v1/lots/{id}/label.svg", tag = "lots", security(("bearer" = [])),
    responses((status = 200, description = "the label, image/svg+xml", content_type = "image/svg+xml", body = String),
        (status = 404, body = Problem)))]
pub async fn label_svg(
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    user: AuthUser,
    id: web::Path<LotId>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let svg = blocking::run(&pool, move |conn| lot_label(conn, &user, id, &public)).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(svg))
}
