//! `/orders`, `/orders/{id}` and the sandbox payment page: the API's order reads and
//! payments, shown to the buyer.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::chart::{self, Reading};
use super::error::PageError;
use super::layout::{html, see_other, Layout};
use super::session::{PageForm, Viewer};
use super::zh;
use crate::aftersales::inspection::{inspect_parcel, InspectionLine};
use crate::config::Config;
use crate::cooperatives::repo as coops;
use crate::db::DbPool;
use crate::http::blocking;
use crate::http::error::ApiError;
use crate::http::pagination::Page;
use crate::ids::{OrderId, PaymentId};
use crate::money::Money;
use crate::orders::reads::{list_orders, order_for};
use crate::orders::repo::OrderFilter;
use crate::orders::views::{OrderView, Parcels};
use crate::orders::{OrderStatus, PaymentStatus};
use crate::payments::sandbox;
use actix_web::http::StatusCode;

const CHINA: i32 = 8 * 3600;

fn china_time(t: chrono::DateTime<chrono::Utc>) -> String {
    chrono::FixedOffset::east_opt(CHINA)
        .map(|z| t.with_timezone(&z).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub struct OrderRow {
    pub href: String,
    pub number: String,
    pub status: &'static str,
    pub total: String,
    pub created: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    layout: Layout,
    rows: Vec<OrderRow>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CursorQuery {
    #[serde(default)]
    cursor: String,
}

/// `GET /orders`: the signed-in buyer's own orders, newest first.
pub async fn list(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let q: CursorQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let cursor = Some(q.cursor.as_str()).filter(|c| !c.is_empty());
    let page = Page::parse(Some(20), cursor)
        .map_err(|_| PageError::BadRequest("翻页参数无效。".into()))?;
    let parcels = **parcels;
    let filter = OrderFilter {
        status: None,
        purchase_order_number: None,
    };
    // a buyer's own list, even for an admin (the admin pages list everyone's)
    let buyer = crate::auth::AuthUser {
        role: crate::auth::Role::Customer,
        ..user
    };
    let found = blocking::run(&pool, move |conn| {
        list_orders(conn, parcels, &buyer, None, &filter, &page)
    })
    .await?;
    let rows = found
        .items
        .iter()
        .map(|o| OrderRow {
            href: format!("/orders/{}", o.id),
            number: o.number.clone(),
            status: zh::order_status(o.status),
            total: o.total.to_string(),
            created: china_time(o.created_at),
            summary: o
                .items
                .iter()
                .map(|i| format!("{} × {}", i.product_name, i.quantity))
                .collect::<Vec<_>>()
                .join("、"),
        })
        .collect();
    html(&OrdersPage {
        layout: viewer.layout("我的订单").at("orders"),
        rows,
        next: found.next_cursor.map(|c| {
            format!(
                "/orders?cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            )
        }),
    })
}

pub struct ItemRow {
    pub name: String,
    pub quantity: i64,
    pub unit_price: String,
    pub line_total: String,
    pub lots: Vec<String>,
}

pub struct EventRow {
    pub when: String,
    pub status: &'static str,
    pub location: String,
    pub temperature: Option<String>,
    pub excursion: bool,
}

pub struct ParcelRow {
    pub id: crate::ids::ShipmentId,
    /// What the parcel carried: (order item, name, units), for a receiving inspection.
    pub lines: Vec<(crate::ids::OrderItemId, String, i64)>,
    /// Not yet delivered: a business buyer may count it at the door.
    pub open: bool,
    pub carrier: String,
    pub tracking_number: String,
    pub status: &'static str,
    pub cold: Option<&'static str>,
    pub excursions: i32,
    pub events: Vec<EventRow>,
    pub chart: Option<String>,
}

pub struct PartRow {
    pub cooperative: String,
    pub status: &'static str,
    pub ship_by: Option<String>,
    pub estimated_delivery: Option<String>,
    pub parcels: Vec<ParcelRow>,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    id: OrderId,
    number: String,
    status: &'static str,
    payment: &'static str,
    created: String,
    items: Vec<ItemRow>,
    subtotal: String,
    shipping_fee: String,
    total: String,
    refunded: Option<String>,
    address: String,
    parts: Vec<PartRow>,
    can_pay: bool,
    sandbox: bool,
    cancel_reason: Option<String>,
    /// An organization's order: its parcels may be counted at the door (验收).
    business: bool,
    problem: Option<String>,
}

fn parts(v: &OrderView, names: &[(crate::ids::CooperativeId, String)]) -> Vec<PartRow> {
    v.fulfilments
        .iter()
        .map(|f| PartRow {
            cooperative: names
                .iter()
                .find(|(id, _)| *id == f.cooperative_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            status: zh::fulfilment_status(f.status),
            ship_by: f.ship_by.clone(),
            estimated_delivery: f.estimated_delivery.clone(),
            parcels: f
                .shipments
                .iter()
                .map(|s| {
                    let readings: Vec<Reading> = s
                        .events
                        .iter()
                        .filter_map(|e| {
                            e.temperature_celsius.map(|c| Reading {
                                at: e.occurred_at,
                                celsius: c,
                                excursion: e.excursion,
                            })
                        })
                        .collect();
                    ParcelRow {
                        id: s.id,
                        lines: s
                            .items
                            .iter()
                            .map(|i| {
                                let name = v
                                    .items
                                    .iter()
                                    .find(|o| o.id == i.order_item_id)
                                    .map(|o| format!("{} · {}", o.product_name, o.sku_name))
                                    .unwrap_or_default();
                                (i.order_item_id, name, i.quantity)
                            })
                            .collect(),
                        open: s.status != crate::fulfilment::domain::ShipmentStatus::Delivered,
                        carrier: s.carrier.clone(),
                        tracking_number: s.tracking_number.clone(),
                        status: zh::shipment_status(s.status),
                        cold: s.cold_chain.then_some(zh::storage(s.storage)),
                        excursions: s.excursions,
                        chart: chart::temperature_svg(s.storage, &readings),
                        events: s
                            .events
                            .iter()
                            .rev()
                            .map(|e| EventRow {
                                when: china_time(e.occurred_at),
                                status: zh::shipment_status(e.status),
                                location: [e.location.as_deref(), e.note.as_deref()]
                                    .into_iter()
                                    .flatten()
                                    .collect::<Vec<_>>()
                                    .join(" · "),
                                temperature: e.temperature_celsius.map(|c| format!("{c:.1}°C")),
                                excursion: e.excursion,
                            })
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect()
}

/// `GET /orders/{id}`: another user's order is the 404 page, as in the API.
pub async fn show(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    config: web::Data<Config>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id: OrderId = id.parse().map_err(|_| PageError::NotFound)?;
    order_page(&viewer, &pool, **parcels, &config, id, StatusCode::OK, None).await
}

async fn order_page(
    viewer: &Viewer,
    pool: &DbPool,
    parcels: Parcels,
    config: &Config,
    id: OrderId,
    status: StatusCode,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let (v, names) = blocking::run(pool, move |conn| {
        let v = order_for(conn, parcels, &user, id)?;
        let mut names = Vec::new();
        for f in &v.fulfilments {
            names.push((f.cooperative_id, coops::name_of(conn, f.cooperative_id)?));
        }
        Ok::<_, ApiError>((v, names))
    })
    .await?;
    let a = &v.shipping_address;
    let page = OrderPage {
        layout: viewer.layout(format!("订单 {}", v.number)).at("orders"),
        id: v.id,
        number: v.number.clone(),
        status: zh::order_status(v.status),
        payment: zh::payment_status(v.payment_status),
        created: china_time(v.created_at),
        items: v
            .items
            .iter()
            .map(|i| ItemRow {
                name: format!("{} · {}", i.product_name, i.sku_name),
                quantity: i.quantity,
                unit_price: i.unit_price.to_string(),
                line_total: i.line_total.to_string(),
                lots: i
                    .lots
                    .iter()
                    .map(|l| format!("批次 {}（保质期至 {}）", l.code, l.best_before))
                    .collect(),
            })
            .collect(),
        subtotal: v.subtotal.to_string(),
        shipping_fee: v.shipping_fee.to_string(),
        total: v.total.to_string(),
        refunded: (v.refunded_total > Money::ZERO).then(|| v.refunded_total.to_string()),
        address: format!(
            "{} {} · {}{}{} {}",
            a.recipient, a.phone, a.province, a.city, a.district, a.line1
        ),
        parts: parts(&v, &names),
        can_pay: v.status == OrderStatus::PendingPayment
            && v.payment_status == PaymentStatus::Unpaid,
        sandbox: config.payment_sandbox,
        cancel_reason: v.cancel_reason.clone(),
        business: v.organization_id.is_some(),
        problem,
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// `POST /orders/{id}/parcels/{shipment}/inspect` (验收): `accepted_<item>`,
/// `rejected_<item>` and `reason_<item>` per line, by the API's inspection rules.
pub async fn inspect(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    parcels: web::Data<Parcels>,
    config: web::Data<Config>,
    path: web::Path<(String, String)>,
    form: PageForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    let (order, shipment) = path.into_inner();
    let order: OrderId = order.parse().map_err(|_| PageError::NotFound)?;
    let shipment: crate::ids::ShipmentId = shipment.parse().map_err(|_| PageError::NotFound)?;
    let fields: std::collections::HashMap<String, String> = form.0.into_iter().collect();
    let number = |k: String| {
        fields
            .get(&k)
            .map(|v| v.trim().parse::<i64>().unwrap_or(-1))
            .unwrap_or(0)
    };
    let lines: Vec<InspectionLine> = fields
        .keys()
        .filter_map(|k| k.strip_prefix("accepted_"))
        .filter_map(|item| item.parse::<crate::ids::OrderItemId>().ok())
        .map(|item| InspectionLine {
            order_item_id: item,
            accepted_quantity: number(format!("accepted_{item}")),
            rejected_quantity: number(format!("rejected_{item}")),
            reason: fields
                .get(&format!("reason_{item}"))
                .filter(|r| !r.trim().is_empty())
                .map(|r| crate::http::text::Prose(r.clone())),
        })
        .collect();
    let outcome = blocking::run(&pool, move |conn| {
        inspect_parcel(conn, &user, shipment, lines)
    })
    .await;
    match outcome {
        Ok(_) => Ok(see_other(&format!("/orders/{order}"))),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_) | ApiError::InvalidState(_))) => {
            let message = format!("验收未保存：{}", zh::problem(&e));
            order_page(
                &viewer,
                &pool,
                **parcels,
                &config,
                order,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /orders/{id}/pay` (去支付): the order's pending payment, or a new one, then the
/// sandbox provider's page.
pub async fn pay(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    id: web::Path<String>,
    _form: PageForm<super::account::Nothing>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    if !config.payment_sandbox {
        return Err(PageError::NotFound);
    }
    let id: OrderId = id.parse().map_err(|_| PageError::NotFound)?;
    match blocking::run(&pool, move |conn| sandbox::pay(conn, &user, id)).await {
        Ok(payment) => Ok(see_other(&format!("/pay/{payment}"))),
        // paid meanwhile, or cancelled: the order page says which
        Err(ApiError::InvalidState(_)) => Ok(see_other(&format!("/orders/{id}"))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage {
    layout: Layout,
    payment: PaymentId,
    order: OrderId,
    number: String,
    amount: String,
    pending: bool,
}

/// `GET /pay/{payment_id}`: the sandbox provider's page (only while the sandbox is on).
pub async fn sandbox_page(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    if !config.payment_sandbox {
        return Err(PageError::NotFound);
    }
    let id: PaymentId = id.parse().map_err(|_| PageError::NotFound)?;
    let (payment, order) =
        blocking::run(&pool, move |conn| sandbox::payment_of(conn, &user, id)).await?;
    html(&PayPage {
        layout: viewer.layout("沙箱支付"),
        payment: payment.id,
        order: order.id,
        number: order.number,
        amount: Money::from_fen(payment.amount).to_string(),
        pending: payment.status == crate::payments::domain::PaymentState::Pending,
    })
}

/// `POST /pay/{payment_id}` (确认支付): recorded exactly as the provider's signed webhook
/// would record it.
pub async fn sandbox_confirm(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    id: web::Path<String>,
    _form: PageForm<super::account::Nothing>,
) -> Result<HttpResponse, PageError> {
    let user = viewer.require()?.auth.clone();
    if !config.payment_sandbox {
        return Err(PageError::NotFound);
    }
    let id: PaymentId = id.parse().map_err(|_| PageError::NotFound)?;
    let order = blocking::run(&pool, move |conn| {
        sandbox::confirm(conn, &user, id)?;
        Ok::<_, ApiError>(sandbox::payment_of(conn, &user, id)?.1.id)
    })
    .await?;
    Ok(see_other(&format!("/orders/{order}")))
}
