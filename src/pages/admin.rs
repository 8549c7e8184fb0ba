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
    tab: &'static str,
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
        tab: "home",
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

#[derive(Template)]
#[template(path = "admin_rates.html")]
struct RatesPage {
    layout: Layout,
    tab: &'static str,
    rows: Vec<RateRow>,
    storages: Vec<(&'static str, &'static str)>,
    errors: FieldMessages,
    notice: Option<String>,
}

/// One row of the rate table as the form shows it (text, so a wrong value comes back as
/// typed).
#[derive(Debug, Default, Clone)]
pub struct RateRow {
    pub index: usize,
    pub province: String,
    pub storage: String,
    pub first_kg_fee: String,
    pub additional_kg_fee: String,
    pub free_over: String,
    pub transit_days: String,
}

/// Blank rows offered for new rates.
const SPARE_ROWS: usize = 3;

fn with_spares(mut rows: Vec<RateRow>) -> Vec<RateRow> {
    let n = rows.len();
    rows.extend((n..n + SPARE_ROWS).map(|index| RateRow {
        index,
        storage: "ambient".into(),
        ..RateRow::default()
    }));
    rows
}

fn storages() -> Vec<(&'static str, &'static str)> {
    crate::catalogue::Storage::ALL
        .iter()
        .map(|s| (s.as_str(), zh::storage(*s)))
        .collect()
}

/// `GET /admin/rates`: the shipping rate table, editable.
pub async fn rates(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&viewer)?;
    let current = blocking::run(&pool, crate::orders::shipping::load).await?;
    let rows = current
        .into_iter()
        .enumerate()
        .map(|(index, r)| RateRow {
            index,
            province: r.province,
            storage: r.storage.as_str().to_owned(),
            first_kg_fee: r.first_kg_fee.to_string(),
            additional_kg_fee: r.additional_kg_fee.to_string(),
            free_over: r.free_over.map(|m| m.to_string()).unwrap_or_default(),
            transit_days: r.transit_days.to_string(),
        })
        .collect();
    let page = RatesPage {
        layout: viewer.layout("运费设置"),
        tab: "rates",
        rows: with_spares(rows),
        storages: storages(),
        errors: FieldMessages::default(),
        notice: req
            .query_string()
            .contains("done=saved")
            .then(|| "运费表已保存。".to_owned()),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// `POST /admin/rates`: replaces the table with the rows given (blank rows are left out),
/// by the API's rules; a wrong cell is named beside its row.
pub async fn save_rates(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    form: PageForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let user = admin(&viewer)?;
    let fields: std::collections::HashMap<String, String> = form.0.into_iter().collect();
    let get = |k: String| {
        fields
            .get(&k)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    for index in 0..200 {
        if !fields.contains_key(&format!("province_{index}")) {
            break;
        }
        let row = RateRow {
            index,
            province: get(format!("province_{index}")),
            storage: get(format!("storage_{index}")),
            first_kg_fee: get(format!("first_kg_fee_{index}")),
            additional_kg_fee: get(format!("additional_kg_fee_{index}")),
            free_over: get(format!("free_over_{index}")),
            transit_days: get(format!("transit_days_{index}")),
        };
        if !row.province.is_empty() {
            rows.push(row);
        }
    }
    // cells that are not even numbers are named here; the rest is the API's `check`
    let mut errors = Vec::new();
    let mut rates = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let money = |field: &str, v: &str, errors: &mut Vec<FieldError>| match v.parse::<Money>() {
            Ok(m) if m >= Money::ZERO => Some(m),
            _ => {
                errors.push(FieldError::new(
                    format!("rates[{i}].{field}"),
                    "应为金额，如 12.00",
                ));
                None
            }
        };
        let first = money("first_kg_fee", &r.first_kg_fee, &mut errors);
        let extra = money("additional_kg_fee", &r.additional_kg_fee, &mut errors);
        let free = if r.free_over.is_empty() {
            Some(None)
        } else {
            money("free_over", &r.free_over, &mut errors).map(Some)
        };
        let days = r.transit_days.parse::<i32>().ok();
        if days.is_none() {
            errors.push(FieldError::new(
                format!("rates[{i}].transit_days"),
                "应为天数",
            ));
        }
        let storage = crate::catalogue::Storage::parse(&r.storage);
        if storage.is_none() {
            errors.push(FieldError::new(
                format!("rates[{i}].storage"),
                "请选择储运方式",
            ));
        }
        if let (Some(first), Some(extra), Some(free), Some(days), Some(storage)) =
            (first, extra, free, days, storage)
        {
            rates.push(crate::orders::shipping::Rate {
                province: r.province.clone(),
                storage,
                first_kg_fee: first,
                additional_kg_fee: extra,
                free_over: free,
                transit_days: days,
            });
        }
    }
    let outcome = if errors.is_empty() {
        blocking::run(&pool, move |conn| {
            crate::orders::shipping::replace_rates(conn, &user, rates)
        })
        .await
        .map(|_| ())
    } else {
        Err(ApiError::Validation(errors))
    };
    match outcome {
        Ok(()) => Ok(see_other("/admin/rates?done=saved")),
        Err(ApiError::Validation(e)) => {
            // the API names rows by their place among the rows given: name them by the form's
            let renamed: Vec<FieldError> = e
                .into_iter()
                .map(|x| {
                    let field = match x
                        .field
                        .strip_prefix("rates[")
                        .and_then(|r| r.split_once(']'))
                    {
                        Some((n, rest)) => {
                            match n.parse::<usize>().ok().and_then(|n| rows.get(n)) {
                                Some(row) => format!("row{}{}", row.index, rest),
                                None => x.field.clone(),
                            }
                        }
                        None => x.field.clone(),
                    };
                    FieldError::new(field, x.message)
                })
                .collect();
            let page = RatesPage {
                layout: viewer.layout("运费设置"),
                tab: "rates",
                rows: with_spares(
                    rows.into_iter()
                        .enumerate()
                        .map(|(i, r)| RateRow { index: i, ..r })
                        .collect(),
                ),
                storages: storages(),
                errors: FieldMessages::from_errors(&renamed),
                notice: None,
            };
            Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/html; charset=utf-8")
                .body(page.render()?))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    layout: Layout,
    tab: &'static str,
    events: Vec<(String, String, String, String)>,
    next: Option<String>,
}

/// `GET /admin/audit?cursor=`: who changed what, newest first.
pub async fn audit(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&viewer)?;
    #[derive(Deserialize, Default)]
    struct Q {
        #[serde(default)]
        cursor: String,
    }
    let q: Q = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let page = Page::parse(Some(50), blank(&q.cursor))
        .map_err(|_| PageError::BadRequest("翻页参数无效。".into()))?;
    let found = blocking::run(&pool, move |conn| {
        crate::reports::audit_log::events(
            conn,
            &crate::reports::audit_log::AuditFilter::default(),
            &page,
        )
    })
    .await?;
    let china = chrono::FixedOffset::east_opt(8 * 3600).ok_or(PageError::Internal)?;
    let page = AuditPage {
        layout: viewer.layout("审计日志"),
        tab: "audit",
        events: found
            .items
            .into_iter()
            .map(|e| {
                (
                    e.created_at
                        .with_timezone(&china)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    e.action,
                    format!("{} {}", e.target_type, e.target_id),
                    e.details.to_string(),
                )
            })
            .collect(),
        next: found.next_cursor.map(|c| {
            format!(
                "/admin/audit?cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            )
        }),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

#[derive(Template)]
#[template(path = "admin_coops.html")]
struct CoopsPage {
    layout: Layout,
    tab: &'static str,
    coops: Vec<(crate::ids::CooperativeId, String, String, String)>,
    form: CoopForm,
    errors: FieldMessages,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct CoopForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    county: String,
    #[serde(default)]
    contact_phone: String,
}

async fn coops_page(
    viewer: &Viewer,
    pool: &DbPool,
    status: StatusCode,
    form: CoopForm,
    errors: FieldMessages,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    admin(viewer)?;
    let rows = blocking::run(pool, move |conn| {
        Ok::<_, ApiError>(coops::list(conn, &Page::parse(Some(100), None)?)?.items)
    })
    .await?;
    let page = CoopsPage {
        layout: viewer.layout("合作社"),
        tab: "coops",
        coops: rows
            .into_iter()
            .map(|c| {
                (
                    c.id,
                    c.name,
                    format!("{}{}{}", c.province, c.city, c.county),
                    c.commission_rate.map(|r| r.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
        form,
        errors,
        notice,
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// `GET /admin/cooperatives`.
pub async fn cooperatives(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let notice = match req.query_string() {
        q if q.contains("done=created") => Some("合作社已创建。".to_owned()),
        q if q.contains("done=rate") => Some("佣金比例已更新。".to_owned()),
        q if q.contains("done=member") => Some("成员已添加。".to_owned()),
        _ => None,
    };
    coops_page(
        &viewer,
        &pool,
        StatusCode::OK,
        CoopForm::default(),
        FieldMessages::default(),
        notice,
    )
    .await
}

/// `POST /admin/cooperatives`: a new co-op, by the API's rules.
pub async fn create_cooperative(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    form: PageForm<CoopForm>,
) -> Result<HttpResponse, PageError> {
    let user = admin(&viewer)?;
    let f = form.0;
    let request = crate::cooperatives::domain::CreateCooperative {
        name: crate::http::text::Line(f.name.clone()),
        province: crate::http::text::Line(f.province.clone()),
        city: crate::http::text::Line(f.city.clone()),
        county: crate::http::text::Line(f.county.clone()),
        description: None,
        contact_phone: blank(&f.contact_phone).map(|p| crate::http::text::MaybePhone(p.to_owned())),
    };
    let outcome = match crate::cooperatives::domain::NewCooperative::try_from(request) {
        Ok(new) => blocking::run(&pool, move |conn| {
            crate::cooperatives::routes::create_cooperative(conn, &user, &new)
        })
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other("/admin/cooperatives?done=created")),
        Err(ApiError::Validation(e)) => {
            coops_page(
                &viewer,
                &pool,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                FieldMessages::from_errors(&e),
                None,
            )
            .await
        }
        Err(e @ ApiError::Conflict(_)) => {
            let errors = FieldMessages(vec![("name".into(), zh::problem(&e))]);
            coops_page(&viewer, &pool, StatusCode::CONFLICT, f, errors, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RateForm {
    #[serde(default)]
    commission_rate: String,
}

/// `POST /admin/cooperatives/{id}/commission`: a co-op's own rate (blank: the default).
pub async fn set_commission(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
    form: PageForm<RateForm>,
) -> Result<HttpResponse, PageError> {
    let user = admin(&viewer)?;
    let id: crate::ids::CooperativeId = id.parse().map_err(|_| PageError::NotFound)?;
    let rate = blank(&form.0.commission_rate).map(str::to_owned);
    match blocking::run(&pool, move |conn| {
        crate::cooperatives::routes::set_commission(conn, &user, id, rate.as_deref())
    })
    .await
    {
        Ok(_) => Ok(see_other("/admin/cooperatives?done=rate")),
        Err(ApiError::Validation(_)) => {
            let errors = FieldMessages(vec![(
                format!("rate_{id}"),
                "应为 0 到 1 之间的小数，如 0.03".into(),
            )]);
            coops_page(
                &viewer,
                &pool,
                StatusCode::UNPROCESSABLE_ENTITY,
                CoopForm::default(),
                errors,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CoopMemberForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// `POST /admin/cooperatives/{id}/members`: makes an existing account the co-op's owner or
/// staff (the API's `add_member_by_email`).
pub async fn add_coop_member(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
    form: PageForm<CoopMemberForm>,
) -> Result<HttpResponse, PageError> {
    let user = admin(&viewer)?;
    let id: crate::ids::CooperativeId = id.parse().map_err(|_| PageError::NotFound)?;
    let f = form.0;
    let role = if f.role == "owner" {
        crate::cooperatives::CoopRole::Owner
    } else {
        crate::cooperatives::CoopRole::Staff
    };
    let request = crate::cooperatives::domain::AddCooperativeMember {
        email: crate::http::text::EmailText(f.email),
        role,
    };
    let outcome = match crate::cooperatives::domain::NewMember::try_from(request) {
        Ok(m) => blocking::run(&pool, move |conn| {
            crate::cooperatives::routes::add_member_by_email(conn, &user, id, &m)
        })
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    let key = format!("member_{id}");
    let message = match outcome {
        Ok(()) => return Ok(see_other("/admin/cooperatives?done=member")),
        Err(ApiError::Validation(e)) => e
            .first()
            .map(zh::message)
            .unwrap_or_else(|| "邮箱有误".into()),
        Err(ApiError::Conflict(_)) => "已经是成员。".into(),
        Err(e) => return Err(e.into()),
    };
    coops_page(
        &viewer,
        &pool,
        StatusCode::UNPROCESSABLE_ENTITY,
        CoopForm::default(),
        FieldMessages(vec![(key, message)]),
        None,
    )
    .await
}
