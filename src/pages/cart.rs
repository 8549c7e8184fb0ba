//! `/cart` and `/checkout`: the cart's own functions and the order placement the API uses
//! (`place::place` under an idempotency key carried in the form, so a double click or a
//! reload never places two orders).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::account::FieldMessages;
use super::error::PageError;
use super::layout::{see_other, Layout};
use super::session::{PageForm, Viewer};
use super::{shop, zh};
use crate::auth::AuthUser;
use crate::config::Config;
use crate::db::{replicas::ReadPool, DbPool};
use crate::delivery::divisions::{self, Division};
use crate::http::blocking;
use crate::http::error::ApiError;
use crate::http::idempotency;
use crate::http::text::{Line, Mobile, Prose};
use crate::ids::{OrderId, ProductId, SkuId};
use crate::orders::cart::{self, CartView, Change};
use crate::orders::domain::{Address, AddressInput};
use crate::orders::place::{self, CreateOrder, OrderRequest};
use crate::orders::routes::preview_order;

fn respond(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// A quantity typed into a form: a whole number, else the domain's own range message.
fn quantity(raw: &str) -> i64 {
    raw.trim().parse::<i64>().unwrap_or(0)
}

pub struct CartRow {
    pub sku_id: SkuId,
    pub name: String,
    pub unit_price: String,
    pub quantity: i64,
    pub line_total: String,
    pub note: Option<&'static str>,
}

fn rows(v: &CartView) -> Vec<CartRow> {
    v.items
        .iter()
        .map(|l| CartRow {
            sku_id: l.sku_id,
            name: format!("{} · {}", l.product_name, l.sku_name),
            unit_price: l.unit_price.to_string(),
            quantity: l.quantity,
            line_total: l.line_total.to_string(),
            note: if !l.for_sale {
                Some("已下架，无法购买")
            } else if l.available < l.quantity {
                Some("库存不足")
            } else {
                None
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    layout: Layout,
    rows: Vec<CartRow>,
    subtotal: String,
    problem: Option<String>,
}

async fn cart_page(
    viewer: &Viewer,
    pool: &DbPool,
    status: StatusCode,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.id;
    let v = blocking::run(pool, move |conn| cart::view(conn, user)).await?;
    respond(
        status,
        &CartPage {
            layout: viewer.layout("购物车").at("cart"),
            rows: rows(&v),
            subtotal: v.subtotal.to_string(),
            problem,
        },
    )
}

/// `GET /cart`.
pub async fn show(viewer: Viewer, pool: web::Data<DbPool>) -> Result<HttpResponse, PageError> {
    cart_page(&viewer, &pool, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    sku_id: String,
    #[serde(default)]
    quantity: String,
}

/// `POST /cart/items` (the product page's 加入购物车): adds to what the cart has.
pub async fn add(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    reads: web::Data<ReadPool>,
    form: PageForm<AddForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.0;
    let product: Option<ProductId> = f.product_id.parse().ok();
    let back = product.map_or("/".to_owned(), |p| format!("/products/{p}"));
    let Some(user) = viewer.user.as_ref() else {
        return Err(PageError::Login { next: back });
    };
    let sku: SkuId = f.sku_id.parse().map_err(|_| PageError::NotFound)?;
    let (user_id, qty) = (user.auth.id, quantity(&f.quantity));
    let outcome = blocking::run(&pool, move |conn| {
        cart::set_quantity(conn, user_id, sku, Change::Add(qty))
    })
    .await;
    match (outcome, product) {
        (Ok(_), _) => Ok(see_other("/cart")),
        (Err(ApiError::Validation(e)), Some(p)) => {
            let mut res = shop::product_page(
                viewer,
                &reads,
                p,
                Some(zh::problem(&ApiError::Validation(e))),
            )
            .await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        (Err(e), _) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct QuantityForm {
    #[serde(default)]
    quantity: String,
}

/// `POST /cart/items/{sku_id}`: sets a line's quantity.
pub async fn update(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    sku: web::Path<String>,
    form: PageForm<QuantityForm>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.id;
    let sku: SkuId = sku.parse().map_err(|_| PageError::NotFound)?;
    let qty = quantity(&form.0.quantity);
    match blocking::run(&pool, move |conn| {
        cart::set_quantity(conn, user, sku, Change::To(qty))
    })
    .await
    {
        Ok(_) => Ok(see_other("/cart")),
        Err(e @ ApiError::Validation(_)) => {
            cart_page(
                &viewer,
                &pool,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(zh::problem(&e)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /cart/items/{sku_id}/remove`.
pub async fn remove(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    sku: web::Path<String>,
    _form: PageForm<super::account::Nothing>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.id;
    let sku: SkuId = sku.parse().map_err(|_| PageError::NotFound)?;
    blocking::run(&pool, move |conn| cart::remove_line(conn, user, sku)).await?;
    Ok(see_other("/cart"))
}

/// The 省/市/区 choices for what is picked so far: a pick that does not belong under the
/// one above it is dropped.
pub struct Region {
    pub provinces: Vec<&'static Division>,
    pub cities: Vec<&'static Division>,
    pub districts: Vec<&'static Division>,
    pub province: String,
    pub city: String,
    pub district: String,
    /// On the business upload form: narrowing answers the selects only (no cart totals).
    pub business: bool,
}

impl Region {
    pub fn pick(province: &str, city: &str, district: &str) -> Region {
        let t = divisions::table();
        let provinces: Vec<&'static Division> = t.children(None).collect();
        let province = provinces
            .iter()
            .find(|d| d.code == province)
            .map(|d| d.code.to_owned())
            .unwrap_or_default();
        let cities: Vec<&'static Division> = if province.is_empty() {
            Vec::new()
        } else {
            t.children(Some(&province)).collect()
        };
        let city = cities
            .iter()
            .find(|d| d.code == city)
            .map(|d| d.code.to_owned())
            .unwrap_or_default();
        let mut districts: Vec<&'static Division> = if city.is_empty() {
            Vec::new()
        } else {
            t.children(Some(&city)).collect()
        };
        if districts.is_empty() && !city.is_empty() {
            // a city without districts (东莞, 中山) is its own 区
            districts = cities.iter().filter(|d| d.code == city).copied().collect();
        }
        let district = districts
            .iter()
            .find(|d| d.code == district)
            .map(|d| d.code.to_owned())
            .unwrap_or_default();
        Region {
            provinces,
            cities,
            districts,
            province,
            city,
            district,
            business: false,
        }
    }

    /// The place picked, once a 区 is.
    pub fn place(&self) -> Option<divisions::Place> {
        divisions::table().place(&self.district)
    }
}

/// What the order will cost, as the server works it out for the chosen 区.
pub struct Summary {
    pub subtotal: String,
    pub shipping_fee: Option<String>,
    pub total: Option<String>,
    pub delivery: Option<String>,
    pub problem: Option<String>,
}

fn summary(
    conn: &mut crate::db::DbConn,
    user: &AuthUser,
    region: &Region,
) -> Result<Summary, ApiError> {
    let cart = cart::view(conn, user.id)?;
    let mut s = Summary {
        subtotal: cart.subtotal.to_string(),
        shipping_fee: None,
        total: None,
        delivery: None,
        problem: None,
    };
    let Some(place) = region.place() else {
        return Ok(s);
    };
    // the fee and dates depend only on the place; who receives it is checked at 提交订单
    let request = OrderRequest {
        items: None,
        address: Address {
            recipient: String::new(),
            phone: String::new(),
            province: place.province.to_owned(),
            city: place.city.to_owned(),
            district: place.district.to_owned(),
            district_code: Some(place.district_code.to_owned()),
            line1: String::new(),
            postal_code: None,
        },
        buyer_note: None,
        purchase_order_number: None,
        organization_id: None,
    };
    match preview_order(conn, user, request) {
        Ok(p) => {
            s.subtotal = p.subtotal.to_string();
            s.shipping_fee = Some(p.shipping_fee.to_string());
            s.total = Some(p.total.to_string());
            s.delivery = p
                .fulfilments
                .iter()
                .filter_map(|f| f.estimated_delivery)
                .max()
                .map(|d| d.format("%-m月%-d日").to_string());
        }
        Err(ApiError::Internal(m)) => return Err(ApiError::Internal(m)),
        Err(e) => s.problem = Some(zh::problem(&e)),
    }
    Ok(s)
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    layout: Layout,
    rows: Vec<CartRow>,
    region: Region,
    summary: Summary,
    form: CheckoutForm,
    errors: FieldMessages,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "region.html")]
struct RegionFragment {
    region: Region,
    summary: Summary,
}

#[derive(Template)]
#[template(path = "region_fields.html")]
struct RegionOnly {
    region: Region,
}

/// Where an order goes, as a form has it (checkout, the business upload): the 区 is a
/// division code from the 省/市/区 selects.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct Delivery {
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub line1: String,
}

impl Delivery {
    /// The address as the API takes it (checked when the order is).
    pub fn address(&self) -> AddressInput {
        AddressInput {
            recipient: Line(self.recipient.clone()),
            phone: Mobile(self.phone.clone()),
            province: None,
            city: None,
            district: None,
            district_code: Some(self.district.clone()),
            line1: Line(self.line1.clone()),
            postal_code: None,
        }
    }

    /// What was typed, without control characters, cut to each field's length, to show
    /// again beside the messages.
    pub fn cleaned(&self) -> Delivery {
        let clean = |s: &str, n: usize| -> String {
            s.chars().filter(|c| !c.is_control()).take(n).collect()
        };
        Delivery {
            recipient: clean(&self.recipient, 50),
            phone: clean(&self.phone, 20),
            line1: clean(&self.line1, 200),
            ..self.clone()
        }
    }

    pub fn region(&self) -> Region {
        Region::pick(&self.province, &self.city, &self.district)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CheckoutForm {
    #[serde(flatten)]
    pub delivery: Delivery,
    #[serde(default)]
    pub buyer_note: String,
    #[serde(default)]
    pub idempotency_key: String,
}

async fn checkout_page(
    viewer: &Viewer,
    pool: &DbPool,
    form: CheckoutForm,
    status: StatusCode,
    errors: FieldMessages,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let region = form.delivery.region();
    let (cart, summary, region) = blocking::run(pool, move |conn| {
        let cart = cart::view(conn, user.id)?;
        let summary = summary(conn, &user, &region)?;
        Ok::<_, ApiError>((cart, summary, region))
    })
    .await?;
    if cart.items.is_empty() {
        return Ok(see_other("/cart"));
    }
    let form = CheckoutForm {
        delivery: form.delivery.cleaned(),
        buyer_note: form
            .buyer_note
            .chars()
            .filter(|c| !c.is_control())
            .take(500)
            .collect(),
        idempotency_key: if form.idempotency_key.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            form.idempotency_key
        },
    };
    respond(
        status,
        &CheckoutPage {
            layout: viewer.layout("结算"),
            rows: rows(&cart),
            region,
            summary,
            form,
            errors,
            problem,
        },
    )
}

/// `GET /checkout`.
pub async fn checkout(viewer: Viewer, pool: web::Data<DbPool>) -> Result<HttpResponse, PageError> {
    checkout_page(
        &viewer,
        &pool,
        CheckoutForm::default(),
        StatusCode::OK,
        FieldMessages::default(),
        None,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct RegionQuery {
    #[serde(default)]
    province: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    business: String,
}

/// `GET /checkout/region`: the 省/市/区 selects narrowed to what is picked, and the totals
/// for it (htmx swaps both in).
pub async fn region(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let q: RegionQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let mut region = Region::pick(&q.province, &q.city, &q.district);
    if !q.business.is_empty() {
        region.business = true;
        return respond(StatusCode::OK, &RegionOnly { region });
    }
    let (region, summary) = blocking::run(&pool, move |conn| {
        let s = summary(conn, &user, &region)?;
        Ok::<_, ApiError>((region, s))
    })
    .await?;
    respond(StatusCode::OK, &RegionFragment { region, summary })
}

/// An idempotency key from a form: what `GET /checkout` put there (a UUID), nothing else.
fn form_key(raw: &str) -> Result<String, PageError> {
    uuid::Uuid::parse_str(raw.trim())
        .map(|u| u.to_string())
        .map_err(|_| PageError::BadRequest("表单已失效，请刷新结算页面后再提交。".into()))
}

/// `POST /checkout` (提交订单): places the cart's order under the form's idempotency key and
/// goes to the order's page.
pub async fn place_order(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    form: PageForm<CheckoutForm>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let f = form.0;
    let key = form_key(&f.idempotency_key)?;
    let create = CreateOrder {
        items: None,
        shipping_address: f.delivery.address(),
        buyer_note: Some(Prose(f.buyer_note.clone())).filter(|p| !p.0.trim().is_empty()),
        purchase_order_number: None,
        organization_id: None,
    };
    let hash = idempotency::fingerprint("POST", "/checkout", &create);
    let outcome = match OrderRequest::try_from(create) {
        Ok(request) => {
            place::place(&pool, config.into_inner(), user, Some(key), hash, request).await
        }
        Err(e) => Err(e),
    };
    let (status, errors, problem) = match outcome {
        Ok(stored) => {
            let id = stored.field("id").and_then(|s| s.parse::<OrderId>().ok());
            return match id {
                Some(id) => Ok(see_other(&format!("/orders/{id}"))),
                None => Err(PageError::Internal),
            };
        }
        Err(ApiError::Validation(e)) => {
            let mut errors = FieldMessages::from_errors(&e);
            // the address's place is the 区 choice on this form
            for (field, _) in errors.0.iter_mut() {
                if field.ends_with("district_code")
                    || field.ends_with("province")
                    || field.ends_with("city")
                {
                    *field = "district".into();
                }
            }
            let banner = e
                .iter()
                .any(|x| !x.field.starts_with("shipping_address") && x.field != "buyer_note")
                .then(|| zh::problem(&ApiError::Validation(e.clone())));
            (StatusCode::UNPROCESSABLE_ENTITY, errors, banner)
        }
        Err(
            e @ (ApiError::InsufficientStock { .. }
            | ApiError::Conflict(_)
            | ApiError::ConflictWith { .. }
            | ApiError::InvalidState(_)
            | ApiError::IdempotencyConflict),
        ) => (
            StatusCode::CONFLICT,
            FieldMessages::default(),
            Some(zh::problem(&e)),
        ),
        Err(e) => return Err(e.into()),
    };
    checkout_page(&viewer, &pool, f, status, errors, problem).await
}
