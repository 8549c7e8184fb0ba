//! `/business`: a restaurant's or supermarket's buyers — apply for a business account, see its
//! status, terms and credit, its orders with purchase-order numbers, and order from a
//! spreadsheet: `订单文件` + `上传` shows every bad line as `第N行` and places nothing until
//! the file is clean, then a preview with the tier prices and the delivery date, then
//! `提交订单`. The file is checked by the API's own import rules (`import::check_file`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::account::FieldMessages;
use super::cart::{Delivery, Region};
use super::error::PageError;
use super::layout::{see_other, Layout};
use super::session::{PageForm, PageUpload, Viewer};
use super::zh;
use crate::auth::AuthUser;
use crate::config::Config;
use crate::db::DbPool;
use crate::http::blocking;
use crate::http::error::{ApiError, FieldError};
use crate::http::idempotency;
use crate::http::pagination::Page;
use crate::http::text::{Line, Phone, Prose};
use crate::ids::{OrderId, OrganizationId};
use crate::money::Money;
use crate::orders::import::check_file;
use crate::orders::lines::LineInput;
use crate::orders::place::{self, CreateOrder, OrderRequest};
use crate::orders::reads::list_orders;
use crate::orders::repo::OrderFilter;
use crate::orders::routes::{preview_order, PreviewView};
use crate::orders::views::Parcels;
use crate::organizations::access::memberships_of;
use crate::organizations::repo as orgs;
use crate::organizations::routes::{apply_organization, Apply};
use crate::organizations::{OrganizationStatus, PaymentTerms};

fn respond(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

pub struct OrgCard {
    pub id: OrganizationId,
    pub name: String,
    /// The signed-in user owns it (may add members).
    pub owner: bool,
    pub status: &'static str,
    pub approved: bool,
    pub terms: String,
    pub credit: Option<(String, String, String)>,
    pub orders: Vec<(OrderId, String, String, &'static str, String)>,
}

/// The delivery and reference fields of a spreadsheet order (the upload form and the
/// preview's hidden fields).
#[derive(Debug, Default, Deserialize, Clone)]
pub struct OrderFields {
    #[serde(flatten)]
    pub delivery: Delivery,
    #[serde(default)]
    pub purchase_order_number: String,
}

impl OrderFields {
    fn from_parts(p: &std::collections::HashMap<String, String>) -> Self {
        let get = |k: &str| p.get(k).cloned().unwrap_or_default();
        OrderFields {
            delivery: Delivery {
                recipient: get("recipient"),
                phone: get("phone"),
                province: get("province"),
                city: get("city"),
                district: get("district"),
                line1: get("line1"),
            },
            purchase_order_number: get("purchase_order_number"),
        }
    }

    fn create(&self, org: OrganizationId, items: Vec<LineInput>) -> CreateOrder {
        CreateOrder {
            items: Some(items),
            shipping_address: self.delivery.address(),
            buyer_note: None,
            purchase_order_number: Some(Prose(self.purchase_order_number.clone()))
                .filter(|p| !p.0.trim().is_empty()),
            organization_id: Some(org),
        }
    }
}

#[derive(Template)]
#[template(path = "business.html")]
struct BusinessPage {
    layout: Layout,
    orgs: Vec<OrgCard>,
    apply: ApplyForm,
    errors: FieldMessages,
    upload: OrderFields,
    region: Region,
    bad_lines: Vec<String>,
    read: Option<(usize, usize)>,
    problem: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct ApplyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    business_license_no: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    contact_phone: String,
}

/// What a page about the business side starts from.
struct Outcome {
    status: StatusCode,
    apply: ApplyForm,
    errors: FieldMessages,
    upload: OrderFields,
    bad_lines: Vec<String>,
    read: Option<(usize, usize)>,
    problem: Option<String>,
    notice: Option<String>,
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome {
            status: StatusCode::OK,
            apply: ApplyForm::default(),
            errors: FieldMessages::default(),
            upload: OrderFields::default(),
            bad_lines: Vec::new(),
            read: None,
            problem: None,
            notice: None,
        }
    }
}

async fn business_page(
    viewer: &Viewer,
    pool: &DbPool,
    parcels: Parcels,
    o: Outcome,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let cards = blocking::run(pool, move |conn| {
        let mut cards = Vec::new();
        for (id, name, role, status) in memberships_of(conn, user.id)? {
            let row = orgs::find(conn, id)?.ok_or(ApiError::NotFound)?;
            let page = Page::parse(Some(20), None)?;
            let filter = OrderFilter {
                status: None,
                purchase_order_number: None,
            };
            let orders = list_orders(conn, parcels, &user, Some(id), &filter, &page)?;
            cards.push(OrgCard {
                id,
                name,
                owner: role == crate::organizations::OrgRole::Owner,
                approved: status == OrganizationStatus::Approved,
                status: match status {
                    OrganizationStatus::Pending => "待平台审核",
                    OrganizationStatus::Approved => "已批准",
                    OrganizationStatus::Rejected => "未通过",
                },
                terms: match row.payment_terms {
                    Some(PaymentTerms::Net30) => "月结 30 天".into(),
                    Some(PaymentTerms::Prepaid) => "先款后货".into(),
                    None => String::new(),
                },
                credit: match (row.payment_terms, row.credit_limit) {
                    (Some(PaymentTerms::Net30), Some(limit)) => Some((
                        Money::from_fen(limit).to_string(),
                        Money::from_fen(row.credit_used).to_string(),
                        Money::from_fen((limit - row.credit_used).max(0)).to_string(),
                    )),
                    _ => None,
                },
                orders: orders
                    .items
                    .iter()
                    .map(|v| {
                        (
                            v.id,
                            v.number.clone(),
                            v.purchase_order_number.clone().unwrap_or_default(),
                            zh::order_status(v.status),
                            v.total.to_string(),
                        )
                    })
                    .collect(),
            });
        }
        Ok::<_, ApiError>(cards)
    })
    .await?;
    let mut region = o.upload.delivery.region();
    region.business = true;
    respond(
        o.status,
        &BusinessPage {
            layout: viewer.layout("企业采购"),
            orgs: cards,
            apply: o.apply,
            errors: o.errors,
            upload: o.upload,
            region,
            bad_lines: o.bad_lines,
            read: o.read,
            problem: o.problem,
            notice: o.notice,
        },
    )
}

/// `GET /business`.
pub async fn home(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
) -> Result<HttpResponse, PageError> {
    let notice = match req.query_string() {
        q if q.contains("done=applied") => Some("申请已提交，平台审核后即可下单。".to_owned()),
        q if q.contains("done=member") => Some("成员已添加。".to_owned()),
        _ => None,
    };
    business_page(
        &viewer,
        &pool,
        **parcels,
        Outcome {
            notice,
            ..Outcome::default()
        },
    )
    .await
}

/// `POST /business/apply`.
pub async fn apply(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    form: PageForm<ApplyForm>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let f = form.0;
    let a = Apply {
        name: Line(f.name.clone()),
        business_license_no: Line(f.business_license_no.clone()),
        city: Line(f.city.clone()),
        contact_phone: Phone(f.contact_phone.clone()),
    };
    match blocking::run(&pool, move |conn| apply_organization(conn, &user, &a)).await {
        Ok(_) => Ok(see_other("/business?done=applied")),
        Err(ApiError::Validation(e)) => {
            let o = Outcome {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                apply: f,
                errors: FieldMessages::from_errors(&e),
                ..Outcome::default()
            };
            business_page(&viewer, &pool, **parcels, o).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The organization, if the signed-in user belongs to it (404 otherwise).
async fn own_org(pool: &DbPool, user: &AuthUser, id: &str) -> Result<OrganizationId, PageError> {
    let id: OrganizationId = id.parse().map_err(|_| PageError::NotFound)?;
    let uid = user.id;
    let mine = blocking::run(pool, move |conn| memberships_of(conn, uid)).await?;
    if mine.iter().any(|m| m.0 == id) {
        Ok(id)
    } else {
        Err(PageError::NotFound)
    }
}

/// "第3行：…" for each bad line of a file (the API names them `line 3`).
fn line_messages(errors: &[FieldError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| match e.field.strip_prefix("line ") {
            Some(n) => format!("第{n}行：{}", line_reason(&e.message)),
            None => format!("{}：{}", e.field, zh::message(e)),
        })
        .collect()
}

fn line_reason(m: &str) -> String {
    if m.starts_with("no SKU") {
        format!(
            "没有在售的商品编码 {}",
            m.trim_start_matches("no SKU ")
                .trim_end_matches(" is for sale")
        )
    } else if m.starts_with("below the minimum order quantity of") {
        format!(
            "低于起订量 {}",
            m.trim_start_matches("below the minimum order quantity of ")
        )
    } else if m.contains("quantity") {
        format!("数量有误（{m}）")
    } else {
        m.to_owned()
    }
}

pub struct PreviewLine {
    pub code: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: String,
    pub line_total: String,
}

#[derive(Template)]
#[template(path = "business_preview.html")]
struct PreviewPage {
    layout: Layout,
    org: OrganizationId,
    lines: Vec<PreviewLine>,
    subtotal: String,
    shipping_fee: String,
    total: String,
    delivery: String,
    csv: String,
    fields: OrderFields,
    key: String,
}

/// Checks a file and its order for `org`: the preview, or what is wrong.
async fn check(
    pool: &DbPool,
    user: &AuthUser,
    org: OrganizationId,
    csv: String,
    fields: &OrderFields,
) -> Result<(Vec<LineInput>, OrderRequest, PreviewView), ApiError> {
    let who = user.clone();
    let (lines, view, request) = {
        let fields = fields.clone();
        blocking::run(pool, move |conn| {
            let lines = check_file(conn, &who, Some(org), &csv)?;
            let request = OrderRequest::try_from(fields.create(org, lines.clone()))?;
            let view = preview_order(conn, &who, request.clone())?;
            Ok::<_, ApiError>((lines, view, request))
        })
        .await?
    };
    Ok((lines, request, view))
}

/// `POST /business/{org}/upload` (上传): the file's bad lines, or the preview.
pub async fn upload(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    id: web::Path<String>,
    form: PageUpload,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let org = own_org(&pool, &user, &id).await?;
    let parts = form.0;
    let csv = parts.get("file").cloned().unwrap_or_default();
    let fields = OrderFields::from_parts(&parts);
    let data_lines = csv.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
    match check(&pool, &user, org, csv.clone(), &fields).await {
        Ok((_, _, view)) => {
            let lines = view
                .items
                .iter()
                .map(|i| PreviewLine {
                    code: i.sku_code.clone(),
                    name: i.product_name.clone(),
                    quantity: i.quantity,
                    unit_price: i.unit_price.to_string(),
                    line_total: i.line_total.to_string(),
                })
                .collect();
            respond(
                StatusCode::OK,
                &PreviewPage {
                    layout: viewer.layout("确认订单"),
                    org,
                    lines,
                    subtotal: view.subtotal.to_string(),
                    shipping_fee: view.shipping_fee.to_string(),
                    total: view.total.to_string(),
                    delivery: view
                        .fulfilments
                        .iter()
                        .filter_map(|f| f.estimated_delivery)
                        .max()
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    csv,
                    fields,
                    key: uuid::Uuid::new_v4().to_string(),
                },
            )
        }
        Err(ApiError::Validation(e)) => {
            let (file_errors, other): (Vec<FieldError>, Vec<FieldError>) =
                e.into_iter().partition(|x| x.field.starts_with("line "));
            let bad = file_errors.len();
            let o = Outcome {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: FieldMessages::from_errors(&other),
                bad_lines: line_messages(&file_errors),
                read: Some((data_lines, bad)),
                problem: (bad > 0).then(|| {
                    format!("文件有 {bad} 行需要修改，改好后重新上传；在此之前不会下单。")
                }),
                upload: fields,
                ..Outcome::default()
            };
            business_page(&viewer, &pool, **parcels, o).await
        }
        Err(
            e @ (ApiError::Forbidden(_)
            | ApiError::InsufficientStock { .. }
            | ApiError::Conflict(_)
            | ApiError::ConflictWith { .. }),
        ) => {
            let o = Outcome {
                status: StatusCode::CONFLICT,
                problem: Some(match e {
                    ApiError::Forbidden(_) => "机构通过审核后才能下单。".to_owned(),
                    other => zh::problem(&other),
                }),
                upload: fields,
                read: Some((data_lines, 0)),
                ..Outcome::default()
            };
            business_page(&viewer, &pool, **parcels, o).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csv: String,
    #[serde(default)]
    idempotency_key: String,
    #[serde(flatten)]
    fields: OrderFields,
}

/// `POST /business/{org}/orders` (提交订单): the previewed file, checked again and placed
/// under the preview's idempotency key (a second click is the same order).
pub async fn confirm(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    id: web::Path<String>,
    form: PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let org = own_org(&pool, &user, &id).await?;
    let f = form.0;
    let key = uuid::Uuid::parse_str(f.idempotency_key.trim())
        .map(|u| u.to_string())
        .map_err(|_| PageError::BadRequest("表单已失效，请重新上传文件。".into()))?;
    let (lines, request, _) = check(&pool, &user, org, f.csv.clone(), &f.fields)
        .await
        .map_err(|e| match e {
            ApiError::Validation(_) => PageError::BadRequest("文件或地址有误，请重新上传。".into()),
            other => other.into(),
        })?;
    let hash = idempotency::fingerprint("POST", "/business/orders", &f.fields.create(org, lines));
    match place::place(&pool, config.into_inner(), user, Some(key), hash, request).await {
        Ok(stored) => {
            let id = stored
                .field("id")
                .and_then(|s| s.parse::<OrderId>().ok())
                .ok_or(PageError::Internal)?;
            Ok(see_other(&format!("/orders/{id}")))
        }
        Err(
            e @ (ApiError::InsufficientStock { .. }
            | ApiError::Conflict(_)
            | ApiError::ConflictWith { .. }
            | ApiError::InvalidState(_)),
        ) => Err(PageError::BadRequest(zh::problem(&e))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    email: String,
}

/// `POST /business/{org}/members` (owner): adds a colleague by the email of their account.
pub async fn add_member(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    id: web::Path<String>,
    form: PageForm<MemberForm>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let org = own_org(&pool, &user, &id).await?;
    let outcome = match crate::auth::domain::Email::parse(&form.0.email) {
        Ok(email) => blocking::run(&pool, move |conn| {
            crate::organizations::routes::add_org_member(conn, &user, org, &email)
        })
        .await
        .map(|_| ()),
        Err(m) => Err(ApiError::field("email", m)),
    };
    let errors = match outcome {
        Ok(()) => return Ok(see_other("/business?done=member")),
        Err(ApiError::Validation(e)) => FieldMessages::from_errors(&e),
        Err(ApiError::Conflict(_)) => FieldMessages(vec![("email".into(), "已经是成员。".into())]),
        Err(e) => return Err(e.into()),
    };
    let o = Outcome {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        ..Outcome::default()
    };
    business_page(&viewer, &pool, **parcels, o).await
}
