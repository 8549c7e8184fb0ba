//! `/admin`: the platform's staff — organizations to approve (`批准`, `拒绝`), co-ops,
//! shipping rates, the audit log, and sales with a chart by day (inline SVG) and by co-op,
//! with the CSV export. Admins only (others get the 403 page); every action through the
//! function its API endpoint uses.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::account::FieldMessages;
use super::chart;
use super::error::PageError;
use super::layout::{see_other, Layout};
use super::session::{PageForm, Viewer};
use super::zh;
use crate::auth::AuthUser;
use crate::cooperatives::repo as coops;
use crate::db::DbPool;
use crate::http::blocking;
use crate::http::error::{ApiError, FieldError};
use crate::http::pagination::Page;
use crate::ids::OrganizationId;
use crate::money::Money;
use crate::organizations::repo as orgs;
use crate::organizations::routes::{approve_organization, reject_organization, shelf_life_days};
use crate::organizations::{OrganizationStatus, PaymentTerms};
use crate::reports::sales::{period, sales_csv, sales_rows, GroupBy};

fn admin(viewer: &Viewer) -> Result<AuthUser, PageError> {
    let user = viewer.require()?;
    if user.auth.is_admin() {
        Ok(user.auth.clone())
    } else {
        Err(PageError::Forbidden)
    }
}

pub struct OrgRow {
    pub id: OrganizationId,
    pub name: String,
    pub city: String,
    pub license: String,
    pub phone: String,
    pub status: &'static str,
    pub pending: bool,
    pub terms: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    orgs: Vec<OrgRow>,
    coops: Vec<(String, String, String)>,
    from: String,
    to: String,
    chart: String,
    by_coop: Vec<(String, i64, String, String)>,
    total: String,
    csv: String,
    notice: Option<String>,
    problem: Option<String>,
    errors: FieldMessages,
}

#[derive(Debug, Default, Deserialize)]
pub struct AdminQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    done: String,
}

fn blank(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

async fn admin_page(
    viewer: &Viewer,
    pool: &DbPool,
    q: AdminQuery,
    status: StatusCode,
    problem: Option<String>,
    errors: FieldMessages,
) -> Result<HttpResponse, PageError> {
    let user = admin(viewer)?;
    let (from, to, _) = match period(blank(&q.from), blank(&q.to), Some("day")) {
        Ok(p) => p,
        Err(_) => period(None, None, Some("day"))?,
    };
    let (org_rows, coop_rows, days, by_coop) = blocking::run(pool, move |conn| {
        let org_rows = orgs::list(conn, None)?;
        let coop_rows = coops::list(conn, &Page::parse(Some(100), None)?)?.items;
        let days = sales_rows(conn, &user, from, to, GroupBy::Day)?;
        let by_coop = sales_rows(conn, &user, from, to, GroupBy::Cooperative)?;
        Ok::<_, ApiError>((org_rows, coop_rows, days, by_coop))
    })
    .await?;
    // every day of the period, with nothing sold as zero
    let mut series = Vec::new();
    let mut day = from;
    while day <= to {
        let key = day.format("%Y-%m-%d").to_string();
        let gross = days
            .iter()
            .find(|r| r.key == key)
            .map(|r| r.gross)
            .unwrap_or(Money::ZERO);
        series.push((day, gross));
        day = day.succ_opt().unwrap_or(to + chrono::Duration::days(1));
    }
    let total = by_coop
        .iter()
        .fold(Money::ZERO, |a, r| a.checked_add(r.gross).unwrap_or(a));
    let mut orgs_view: Vec<OrgRow> = org_rows
        .into_iter()
        .map(|o| OrgRow {
            id: o.id,
            pending: o.status == OrganizationStatus::Pending,
            status: match o.status {
                OrganizationStatus::Pending => "待审核",
                OrganizationStatus::Approved => "已批准",
                OrganizationStatus::Rejected => "已拒绝",
            },
            terms: match (o.payment_terms, o.credit_limit) {
                (Some(PaymentTerms::Net30), Some(l)) => {
                    format!("月结 30 天 · 额度 ¥{}", Money::from_fen(l))
                }
                (Some(PaymentTerms::Net30), None) => "月结 30 天".into(),
                (Some(PaymentTerms::Prepaid), _) => "先款后货".into(),
                (None, _) => String::new(),
            },
            name: o.name,
            city: o.city,
            license: o.business_license_no,
            phone: o.contact_phone,
        })
        .collect();
    orgs_view.sort_by_key(|o| !o.pending);
    let notice = match q.done.as_str() {
        "approved" => Some("已批准。".to_owned()),
        "rejected" => Some("已拒绝。".to_owned()),
        _ => None,
    };
    let (f, t) = (from.to_string(), to.to_string());
    let page = AdminPage {
        layout: viewer.layout("平台管理"),
        orgs: orgs_view,
        coops: coop_rows
            .into_iter()
            .map(|c| {
                (
                    c.name,
                    format!("{}{}{}", c.province, c.city, c.county),
                    c.commission_rate
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "默认".into()),
                )
            })
            .collect(),
        chart: chart::daily_bars(&series),
        by_coop: by_coop
            .into_iter()
            .map(|r| {
                (
                    r.label,
                    r.orders,
                    r.gross.to_string(),
                    r.refunds.to_string(),
                )
            })
            .collect(),
        total: total.to_string(),
        csv: format!("/admin/sales.csv?from={f}&to={t}"),
        from: f,
        to: t,
        notice,
        problem,
        errors,
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// `GET /admin?from=&to=`.
pub async fn home(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let q: AdminQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    admin_page(
        &viewer,
        &pool,
        q,
        StatusCode::OK,
        None,
        FieldMessages::default(),
    )
    .await
}

/// `GET /admin/sales.csv?from=&to=&group_by=`: the sales report as a spreadsheet.
pub async fn sales_export(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let user = admin(&viewer)?;
    #[derive(Deserialize, Default)]
    struct Q {
        #[serde(default)]
        from: String,
        #[serde(default)]
        to: String,
        #[serde(default)]
        group_by: String,
    }
    let q: Q = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let (from, to, by) = period(blank(&q.from), blank(&q.to), blank(&q.group_by))
        .map_err(|e| PageError::BadRequest(zh::problem(&e)))?;
    let rows = blocking::run(&pool, move |conn| sales_rows(conn, &user, from, to, by)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"sales-{from}-{to}.csv\""),
        ))
        .body(sales_csv(&rows)))
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    payment_terms: String,
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    min_remaining_shelf_life_days: String,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/organizations/{id}/approve` (批准) and `…/reject` (拒绝).
pub async fn decide(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
    form: PageForm<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    let user = admin(&viewer)?;
    let (id, action) = path.into_inner();
    let id: OrganizationId = id.parse().map_err(|_| PageError::NotFound)?;
    let f = form.0;
    let outcome = match action.as_str() {
        "approve" => {
            let mut errors = Vec::new();
            let terms = match f.payment_terms.as_str() {
                "net_30" => PaymentTerms::Net30,
                _ => PaymentTerms::Prepaid,
            };
            let limit = match blank(&f.credit_limit) {
                None => None,
                Some(s) => match s.parse::<Money>() {
                    Ok(m) if m >= Money::ZERO => Some(m),
                    _ => {
                        errors.push(FieldError::new("credit_limit", "额度应为金额，如 50000.00"));
                        None
                    }
                },
            };
            let days = match blank(&f.min_remaining_shelf_life_days) {
                None => Ok(None),
                Some(s) => s
                    .parse::<i64>()
                    .map_err(|_| {
                        ApiError::field("min_remaining_shelf_life_days", "应为 0 到 3650 的天数")
                    })
                    .and_then(|d| shelf_life_days(Some(d))),
            };
            match (days, errors.is_empty()) {
                (Ok(days), true) => blocking::run(&pool, move |conn| {
                    approve_organization(conn, &user, id, terms, limit, days)
                })
                .await
                .map(|_| "approved"),
                (Err(ApiError::Validation(mut e)), _) => {
                    e.extend(errors);
                    Err(ApiError::Validation(e))
                }
                (Err(e), _) => Err(e),
                (Ok(_), false) => Err(ApiError::Validation(errors)),
            }
        }
        "reject" => match blank(&f.reason).map(str::to_owned) {
            None => Err(ApiError::field("reason", "拒绝时请写明理由")),
            Some(reason) => blocking::run(&pool, move |conn| {
                reject_organization(conn, &user, id, &reason)
            })
            .await
            .map(|_| "rejected"),
        },
        _ => return Err(PageError::NotFound),
    };
    match outcome {
        Ok(done) => Ok(see_other(&format!("/admin?done={done}"))),
        Err(ApiError::Validation(e)) => {
            let errors = FieldMessages::from_errors(&e);
            admin_page(
                &viewer,
                &pool,
                AdminQuery::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                errors,
            )
            .await
        }
        Err(e @ (ApiError::Conflict(_) | ApiError::InvalidState(_))) => {
            let message = zh::problem(&e);
            admin_page(
                &viewer,
                &pool,
                AdminQuery::default(),
                StatusCode::CONFLICT,
                Some(message),
                FieldMessages::default(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
