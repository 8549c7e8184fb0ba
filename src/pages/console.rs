//! `/console`: a co-op's owners and staff at work — today's parcels and truck, stock running
//! low, lots near their date, open claims; shipping (`发货`), packing slips, receiving lots
//! (`入库`), holds and labels, claims (`同意`/`拒绝`), the month's settlement and members.
//! Every action goes through the function its API endpoint uses, with the same checks: a
//! co-op's pages answer 404 to anyone outside it, owner-only pages 403 to its staff.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::account::{FieldMessages, Nothing};
use super::error::PageError;
use super::layout::{see_other, Layout};
use super::session::{PageForm, PageUser, Viewer};
use super::zh;
use crate::aftersales::domain::{ClaimAction, ClaimStatus};
use crate::aftersales::routes::{act_on, claims_of};
use crate::auth::AuthUser;
use crate::catalogue::repo::skus_of_cooperative;
use crate::catalogue::Pricing;
use crate::config::{Config, PublicUrl};
use crate::cooperatives::access::{cooperative_role, memberships_of};
use crate::cooperatives::domain::{AddCooperativeMember, NewMember};
use crate::cooperatives::repo as coops;
use crate::cooperatives::routes::add_member_by_email;
use crate::cooperatives::CoopRole;
use crate::db::{DbConn, DbPool};
use crate::fulfilment::domain::{CreateShipment, NewShipment, ShipmentLine};
use crate::fulfilment::routes::{coop_queue, fulfilment_for, ship_fulfilment};
use crate::http::blocking;
use crate::http::error::ApiError;
use crate::http::pagination::Page;
use crate::ids::{ClaimId, CooperativeId, FulfilmentId, LotId, OrderItemId, SkuId};
use crate::inventory::domain::{Stocktake, StocktakeRequest};
use crate::inventory::lots::domain::{self as lot_domain, LotHold, LotStatus, Receipt, ReceiveLot};
use crate::inventory::lots::public::lot_label;
use crate::inventory::lots::repo::{self as lot_repo, LotFilter};
use crate::inventory::lots::routes::{change_hold, member_of_coop};
use crate::inventory::repo::{available_by_sku, StockFilter};
use crate::inventory::routes::{stock_of, take_stock};
use crate::orders::FulfilmentStatus;
use crate::reports::settlements::{settlement_for, settlement_lines};

fn respond(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// The co-op a console page is about, as the signed-in user stands to it.
pub struct Coop {
    pub id: CooperativeId,
    pub name: String,
    pub owner: bool,
    /// Which console tab is open.
    pub tab: &'static str,
}

/// The signed-in member (or admin) and the co-op; anyone else gets the 404 page.
pub(super) async fn enter(
    viewer: &Viewer,
    pool: &DbPool,
    id: &str,
    tab: &'static str,
) -> Result<(AuthUser, Coop), PageError> {
    let user = viewer.require()?.auth.clone();
    let id: CooperativeId = id.parse().map_err(|_| PageError::NotFound)?;
    let who = user.clone();
    let coop = blocking::run(pool, move |conn| {
        let row = coops::get(conn, id)?;
        let role = cooperative_role(conn, &who, id)?;
        if role.is_none() && !who.is_admin() {
            return Err(ApiError::NotFound);
        }
        Ok(Coop {
            id,
            name: row.name,
            owner: who.is_admin() || role == Some(CoopRole::Owner),
            tab,
        })
    })
    .await?;
    Ok((user, coop))
}

#[derive(Template)]
#[template(path = "console_pick.html")]
struct PickPage {
    layout: Layout,
    coops: Vec<(CooperativeId, String, &'static str)>,
}

/// `GET /console`: straight to the one co-op, or a choice among several.
pub async fn start(viewer: Viewer, pool: web::Data<DbPool>) -> Result<HttpResponse, PageError> {
    let user: &PageUser = viewer.require()?;
    let id = user.auth.id;
    let mine = blocking::run(&pool, move |conn| memberships_of(conn, id)).await?;
    match mine.as_slice() {
        [] => Err(PageError::Forbidden),
        [(only, _, _)] => Ok(see_other(&format!("/console/{only}"))),
        _ => respond(
            StatusCode::OK,
            &PickPage {
                layout: viewer.layout("合作社工作台"),
                coops: mine
                    .into_iter()
                    .map(|(id, name, role)| {
                        (
                            id,
                            name,
                            if role == CoopRole::Owner {
                                "负责人"
                            } else {
                                "员工"
                            },
                        )
                    })
                    .collect(),
            },
        ),
    }
}

pub struct ShipLine {
    pub item: OrderItemId,
    pub name: String,
    pub left: i64,
    pub quantity: i64,
    pub weighed: bool,
    pub lots: Vec<String>,
}

pub struct Parcel {
    pub id: FulfilmentId,
    pub number: String,
    pub ship_by: String,
    pub address: String,
    pub weight: String,
    pub lines: Vec<ShipLine>,
}

pub struct LotLine {
    pub id: LotId,
    pub sku: String,
    pub code: String,
    pub best_before: String,
    pub on_hand: i64,
    pub available: i64,
    pub status: &'static str,
    pub held: bool,
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct HomePage {
    layout: Layout,
    coop: Coop,
    today: String,
    truck_weight: String,
    truck_parcels: usize,
    parcels: Vec<Parcel>,
    low: Vec<(String, i64, i64)>,
    expiring: Vec<LotLine>,
    open_claims: usize,
    notice: Option<String>,
    problem: Option<String>,
}

fn kg(grams: i64) -> String {
    format!("{}.{:01} 公斤", grams / 1000, (grams % 1000) / 100)
}

fn lot_status(s: LotStatus) -> &'static str {
    match s {
        LotStatus::Active => "在售",
        LotStatus::Held => "已冻结",
        LotStatus::Expired => "已过期",
        LotStatus::Depleted => "已售罄",
    }
}

fn lot_lines(rows: Vec<lot_repo::LotRow>, names: &HashMap<SkuId, String>) -> Vec<LotLine> {
    let today = lot_domain::today();
    rows.into_iter()
        .map(|r| {
            let status = LotStatus::of(r.status, r.on_hand, &r.best_before, today);
            LotLine {
                id: r.id,
                sku: names.get(&r.sku_id).cloned().unwrap_or_default(),
                available: if status == LotStatus::Active {
                    r.on_hand - r.reserved
                } else {
                    0
                },
                code: r.code,
                best_before: r.best_before,
                on_hand: r.on_hand,
                status: lot_status(status),
                held: r.status == LotHold::Held,
            }
        })
        .collect()
}

/// SKU id → "product · SKU" for a co-op, and which are sold by weight.
fn sku_names(
    conn: &mut DbConn,
    coop: CooperativeId,
) -> Result<(HashMap<SkuId, String>, Vec<SkuId>), ApiError> {
    let skus = skus_of_cooperative(conn, coop)?;
    let weighed = skus
        .iter()
        .filter(|(s, _)| s.pricing == Pricing::PerKg)
        .map(|(s, _)| s.id)
        .collect();
    Ok((
        skus.into_iter()
            .map(|(s, p)| (s.id, format!("{p} · {}", s.name)))
            .collect(),
        weighed,
    ))
}

async fn home_page(
    viewer: &Viewer,
    pool: &DbPool,
    user: AuthUser,
    coop: Coop,
    status: StatusCode,
    notice: Option<String>,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    let id = coop.id;
    let today = lot_domain::date_text(lot_domain::today());
    let day = today.clone();
    let (queue, truck, names, weighed, low, expiring, open_claims) =
        blocking::run(pool, move |conn| {
            let page = Page::parse(Some(50), None)?;
            let queue = coop_queue(
                conn,
                &user,
                id,
                Some(FulfilmentStatus::AwaitingShipment),
                None,
                &page,
            )?;
            let truck = coop_queue(conn, &user, id, None, Some(&day), &page)?;
            let (names, weighed) = sku_names(conn, id)?;
            let skus = skus_of_cooperative(conn, id)?;
            let ids: Vec<SkuId> = skus.iter().map(|(s, _)| s.id).collect();
            let available = available_by_sku(conn, &ids)?;
            let low: Vec<(String, i64, i64)> = skus
                .iter()
                .filter_map(|(s, p)| {
                    let a = available.get(&s.id).copied().unwrap_or(0);
                    (a <= s.low_stock_threshold)
                        .then(|| (format!("{p} · {}", s.name), a, s.low_stock_threshold))
                })
                .collect();
            let expiring = lot_repo::list(
                conn,
                id,
                &LotFilter {
                    sku_id: None,
                    warehouse_id: None,
                    status: None,
                    expiring_within_days: Some(7),
                },
                lot_domain::today(),
                &page,
            )?;
            let claims = claims_of(conn, &user, id, Some(ClaimStatus::Open), &page)?;
            Ok::<_, ApiError>((
                queue,
                truck,
                names,
                weighed,
                low,
                expiring.items,
                claims.items.len(),
            ))
        })
        .await?;
    let parcels = queue
        .items
        .into_iter()
        .map(|f| {
            let a = &f.shipping_address;
            Parcel {
                id: f.id,
                number: f.order_number.clone(),
                ship_by: f.ship_by.clone().unwrap_or_else(|| "—".into()),
                address: format!(
                    "{} {} · {}{}{} {}",
                    a.recipient, a.phone, a.province, a.city, a.district, a.line1
                ),
                weight: kg(f.weight_grams),
                lines: f
                    .items
                    .iter()
                    .filter(|i| i.quantity > i.shipped_quantity)
                    .map(|i| ShipLine {
                        item: i.order_item_id,
                        name: names
                            .get(&i.sku_id)
                            .cloned()
                            .unwrap_or_else(|| i.product_name.clone()),
                        left: i.quantity - i.shipped_quantity,
                        quantity: i.quantity,
                        weighed: weighed.contains(&i.sku_id),
                        lots: i
                            .lots
                            .iter()
                            .map(|l| format!("{}（至 {}）× {}", l.code, l.best_before, l.quantity))
                            .collect(),
                    })
                    .collect(),
            }
        })
        .collect();
    respond(
        status,
        &HomePage {
            layout: viewer.layout(format!("{} · 工作台", coop.name)),
            truck_weight: kg(truck.total_weight_grams.unwrap_or(0)),
            truck_parcels: truck
                .items
                .iter()
                .filter(|f| f.status == FulfilmentStatus::AwaitingShipment)
                .count(),
            coop,
            today,
            parcels,
            low,
            expiring: lot_lines(expiring, &names),
            open_claims,
            notice,
            problem,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    done: String,
}

fn notice(req: &HttpRequest) -> Option<String> {
    let q: NoticeQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    match q.done.as_str() {
        "shipped" => Some("已发货，买家可在订单页看到运单号。".into()),
        "received" => Some("已入库。".into()),
        "counted" => Some("盘点已保存。".into()),
        "adjusted" => Some("批次数量已调整。".into()),
        "held" => Some("批次已冻结，不再销售。".into()),
        "released" => Some("批次已恢复销售。".into()),
        "approved" => Some("已同意，退款已记入。".into()),
        "rejected" => Some("已拒绝。".into()),
        "added" => Some("成员已添加。".into()),
        _ => None,
    }
}

/// `GET /console/{coop}`.
pub async fn home(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (user, coop) = enter(&viewer, &pool, &id, "home").await?;
    home_page(
        &viewer,
        &pool,
        user,
        coop,
        StatusCode::OK,
        notice(&req),
        None,
    )
    .await
}

/// `POST /console/{coop}/fulfilments/{id}/ship` (发货): carrier, tracking number, and per
/// line `qty_<item>` (and `weight_<item>` in grams for goods sold by weight).
pub async fn ship(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
    form: PageForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, fulfilment) = path.into_inner();
    let (user, coop) = enter(&viewer, &pool, &coop_id, "home").await?;
    let fulfilment: FulfilmentId = fulfilment.parse().map_err(|_| PageError::NotFound)?;
    let fields: HashMap<String, String> = form.0.into_iter().collect();
    let mut items = Vec::new();
    for (k, v) in &fields {
        let Some(item) = k.strip_prefix("qty_") else {
            continue;
        };
        let Ok(item) = item.parse::<OrderItemId>() else {
            continue;
        };
        let quantity = v.trim().parse::<i64>().unwrap_or(-1);
        if quantity == 0 {
            continue;
        }
        let weight = fields
            .get(&format!("weight_{item}"))
            .map(|w| w.trim())
            .filter(|w| !w.is_empty())
            .map(|w| w.parse::<i64>().unwrap_or(-1));
        items.push(ShipmentLine {
            order_item_id: item,
            quantity,
            actual_weight_grams: weight,
        });
    }
    let text = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let request = CreateShipment {
        carrier: text("carrier").into(),
        tracking_number: text("tracking_number").into(),
        items,
    };
    let who = user.clone();
    let outcome = match NewShipment::try_from(request) {
        Ok(new) => blocking::run(&pool, move |conn| {
            ship_fulfilment(conn, &who, fulfilment, &new)
        })
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/console/{}?done=shipped", coop.id))),
        Err(
            e @ (ApiError::Validation(_)
            | ApiError::Conflict(_)
            | ApiError::ConflictWith { .. }
            | ApiError::InvalidState(_)),
        ) => {
            let message = format!("发货失败：{}", zh::problem(&e));
            home_page(
                &viewer,
                &pool,
                user,
                coop,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct SlipLine {
    pub name: String,
    pub quantity: i64,
    pub labels: Vec<String>,
}

#[derive(Template)]
#[template(path = "console_slip.html")]
struct SlipPage {
    layout: Layout,
    coop: Coop,
    number: String,
    address: String,
    ship_by: String,
    lines: Vec<SlipLine>,
}

/// `GET /console/{coop}/fulfilments/{id}/slip`: a packing slip to print, with each lot's
/// label (its QR code leads to the lot's trace page).
pub async fn slip(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, fulfilment) = path.into_inner();
    let (user, coop) = enter(&viewer, &pool, &coop_id, "home").await?;
    let fulfilment: FulfilmentId = fulfilment.parse().map_err(|_| PageError::NotFound)?;
    let coop_id = coop.id;
    let public = public.into_inner();
    let (f, lines) = blocking::run(&pool, move |conn| {
        let f = fulfilment_for(conn, &user, fulfilment)?;
        if f.cooperative_id != coop_id {
            return Err(ApiError::NotFound);
        }
        let (names, _) = sku_names(conn, coop_id)?;
        let mut lines = Vec::new();
        for i in &f.items {
            let mut labels = Vec::new();
            for l in &i.lots {
                labels.push(lot_label(conn, &user, l.lot_id, &public)?);
            }
            lines.push(SlipLine {
                name: names
                    .get(&i.sku_id)
                    .cloned()
                    .unwrap_or_else(|| i.product_name.clone()),
                quantity: i.quantity,
                labels,
            });
        }
        Ok((f, lines))
    })
    .await?;
    let a = &f.shipping_address;
    respond(
        StatusCode::OK,
        &SlipPage {
            layout: viewer.layout(format!("装箱单 {}", f.order_number)),
            address: format!(
                "{} {} · {}{}{} {}",
                a.recipient, a.phone, a.province, a.city, a.district, a.line1
            ),
            number: f.order_number.clone(),
            ship_by: f.ship_by.clone().unwrap_or_default(),
            coop,
            lines,
        },
    )
}

#[derive(Template)]
#[template(path = "console_lots.html")]
struct LotsPage {
    layout: Layout,
    coop: Coop,
    skus: Vec<(SkuId, String)>,
    /// SKUs kept without lots, for the stocktake form.
    plain: Vec<(SkuId, String)>,
    /// Stock rows of those SKUs: (SKU id, warehouse id, name, warehouse name, on hand, reserved).
    stock: Vec<(SkuId, String, String, String, i64, i64)>,
    warehouses: Vec<(String, String)>,
    lots: Vec<LotLine>,
    form: ReceiveForm,
    errors: FieldMessages,
    notice: Option<String>,
    problem: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ReceiveForm {
    #[serde(default)]
    pub sku_id: String,
    #[serde(default)]
    pub warehouse_id: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub harvested_on: String,
    #[serde(default)]
    pub best_before: String,
}

#[allow(clippy::too_many_arguments)]
async fn lots_page(
    viewer: &Viewer,
    pool: &DbPool,
    user: AuthUser,
    coop: Coop,
    status: StatusCode,
    form: ReceiveForm,
    errors: FieldMessages,
    notice: Option<String>,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    let id = coop.id;
    let (skus, plain, warehouses, lots, stock) = blocking::run(pool, move |conn| {
        member_of_coop(conn, &user, id)?;
        let all = skus_of_cooperative(conn, id)?;
        let name = |s: &crate::catalogue::repo::SkuRow, p: &str| format!("{p} · {}", s.name);
        let skus: Vec<(SkuId, String)> = all
            .iter()
            .filter(|(s, _)| s.lot_tracked)
            .map(|(s, p)| (s.id, name(s, p)))
            .collect();
        let plain: Vec<(SkuId, String)> = all
            .iter()
            .filter(|(s, _)| !s.lot_tracked)
            .map(|(s, p)| (s.id, name(s, p)))
            .collect();
        let warehouses: Vec<(String, String)> = coops::warehouses_of(conn, id)?
            .into_iter()
            .map(|w| {
                (
                    w.id.to_string(),
                    if w.cold_storage {
                        format!("{}（冷库）", w.name)
                    } else {
                        w.name
                    },
                )
            })
            .collect();
        let page = Page::parse(Some(100), None)?;
        let lots = lot_repo::list(
            conn,
            id,
            &LotFilter {
                sku_id: None,
                warehouse_id: None,
                status: None,
                expiring_within_days: None,
            },
            lot_domain::today(),
            &page,
        )?;
        let rows = stock_of(
            conn,
            &user,
            id,
            &StockFilter {
                sku_id: None,
                warehouse_id: None,
                low_stock: false,
            },
            &Page::parse(Some(100), None)?,
        )?;
        let stock = rows
            .items
            .into_iter()
            .filter_map(|r| {
                let sku = plain.iter().find(|(id, _)| *id == r.sku_id)?;
                let wh = warehouses
                    .iter()
                    .find(|(id, _)| *id == r.warehouse_id.to_string())
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                Some((
                    r.sku_id,
                    r.warehouse_id.to_string(),
                    sku.1.clone(),
                    wh,
                    r.on_hand,
                    r.reserved,
                ))
            })
            .collect();
        Ok::<_, ApiError>((skus, plain, warehouses, lots.items, stock))
    })
    .await?;
    let names: HashMap<SkuId, String> = skus.iter().cloned().collect();
    respond(
        status,
        &LotsPage {
            layout: viewer.layout(format!("{} · 库存批次", coop.name)),
            coop,
            lots: lot_lines(lots, &names),
            skus,
            plain,
            stock,
            warehouses,
            form,
            errors,
            notice,
            problem,
        },
    )
}

/// `GET /console/{coop}/lots`.
pub async fn lots(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (user, coop) = enter(&viewer, &pool, &id, "lots").await?;
    lots_page(
        &viewer,
        &pool,
        user,
        coop,
        StatusCode::OK,
        ReceiveForm::default(),
        FieldMessages::default(),
        notice(&req),
        None,
    )
    .await
}

/// `POST /console/{coop}/lots` (入库): the API's receipt rules and `lots::receive`.
pub async fn receive(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
    form: PageForm<ReceiveForm>,
) -> Result<HttpResponse, PageError> {
    let (user, coop) = enter(&viewer, &pool, &id, "lots").await?;
    let f = form.0;
    let blank = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let request = serde_json::json!({
        "sku_id": f.sku_id.trim(),
        "warehouse_id": f.warehouse_id.trim(),
        "code": f.code,
        "quantity": f.quantity.trim().parse::<i64>().unwrap_or(0),
        "harvested_on": blank(&f.harvested_on),
        "best_before": blank(&f.best_before),
    });
    let today = lot_domain::today();
    let parsed = serde_json::from_value::<ReceiveLot>(request)
        .map_err(|_| {
            ApiError::Validation(vec![crate::http::error::FieldError::new(
                "sku_id",
                "请选择商品规格和仓库",
            )])
        })
        .and_then(|r| Receipt::parse(r, today));
    let (who, coop_id) = (user.clone(), coop.id);
    let outcome = match parsed {
        Ok(receipt) => blocking::run(&pool, move |conn| {
            crate::db::write_tx(conn, |conn| {
                member_of_coop(conn, &who, coop_id)?;
                crate::inventory::lots::receive(conn, coop_id, &receipt, Some(who.id))
            })
        })
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/console/{coop_id}/lots?done=received"))),
        Err(ApiError::Validation(e)) => {
            let errors = FieldMessages::from_errors(&e);
            lots_page(
                &viewer,
                &pool,
                user,
                coop,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                errors,
                None,
                None,
            )
            .await
        }
        Err(ApiError::ConflictWith { errors, .. }) => {
            let errors = FieldMessages::from_errors(&errors);
            lots_page(
                &viewer,
                &pool,
                user,
                coop,
                StatusCode::CONFLICT,
                f,
                errors,
                None,
                None,
            )
            .await
        }
        Err(e @ (ApiError::Conflict(_) | ApiError::NotFound)) => {
            let message = zh::problem(&e);
            lots_page(
                &viewer,
                &pool,
                user,
                coop,
                StatusCode::CONFLICT,
                f,
                FieldMessages::default(),
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/{coop}/lots/{id}/hold` and `…/release`.
pub async fn hold(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String, String)>,
    _form: PageForm<Nothing>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, lot, action) = path.into_inner();
    let (user, coop) = enter(&viewer, &pool, &coop_id, "lots").await?;
    let lot: LotId = lot.parse().map_err(|_| PageError::NotFound)?;
    let to = match action.as_str() {
        "hold" => LotHold::Held,
        "release" => LotHold::Active,
        _ => return Err(PageError::NotFound),
    };
    let coop_id = coop.id;
    blocking::run(&pool, move |conn| {
        let row = change_hold(conn, &user, lot, to, None)?;
        if row.cooperative_id != coop_id {
            return Err(ApiError::NotFound);
        }
        Ok(())
    })
    .await?;
    let done = if to == LotHold::Held {
        "held"
    } else {
        "released"
    };
    Ok(see_other(&format!("/console/{coop_id}/lots?done={done}")))
}

/// `GET /console/{coop}/lots/{id}/label.svg`: the lot's printable label.
pub async fn label(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    public: web::Data<PublicUrl>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, lot) = path.into_inner();
    let (user, _) = enter(&viewer, &pool, &coop_id, "lots").await?;
    let lot: LotId = lot.parse().map_err(|_| PageError::NotFound)?;
    let public = public.into_inner();
    let svg = blocking::run(&pool, move |conn| lot_label(conn, &user, lot, &public)).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .body(svg))
}

pub struct ClaimCard {
    pub id: ClaimId,
    pub kind: &'static str,
    pub reason: String,
    pub items: Vec<String>,
    pub amount: String,
    pub note: String,
    pub evidence: Vec<String>,
    pub readings: Vec<String>,
    pub created: String,
}

#[derive(Template)]
#[template(path = "console_claims.html")]
struct ClaimsPage {
    layout: Layout,
    coop: Coop,
    claims: Vec<ClaimCard>,
    notice: Option<String>,
    problem: Option<String>,
}

async fn claims_page(
    viewer: &Viewer,
    pool: &DbPool,
    user: AuthUser,
    coop: Coop,
    status: StatusCode,
    notice: Option<String>,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    let id = coop.id;
    let claims = blocking::run(pool, move |conn| {
        let page = Page::parse(Some(100), None)?;
        claims_of(conn, &user, id, Some(ClaimStatus::Open), &page)
    })
    .await?;
    let china = chrono::FixedOffset::east_opt(8 * 3600).ok_or(PageError::Internal)?;
    let cards = claims
        .items
        .into_iter()
        .map(|c| ClaimCard {
            id: c.id,
            kind: match c.kind.as_str() {
                "return_and_refund" => "退货退款",
                _ => "仅退款",
            },
            reason: c.reason.as_str().to_owned(),
            items: c
                .items
                .iter()
                .map(|i| format!("{} 件（¥{}）", i.quantity, i.amount))
                .collect(),
            amount: c.requested_amount.to_string(),
            note: c.note.clone().unwrap_or_default(),
            evidence: c
                .evidence
                .iter()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .cloned()
                .collect(),
            readings: c
                .readings
                .iter()
                .filter_map(|r| r.temperature_celsius.map(|t| format!("{t:.1}°C")))
                .collect(),
            created: c
                .created_at
                .with_timezone(&china)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        })
        .collect();
    respond(
        status,
        &ClaimsPage {
            layout: viewer.layout(format!("{} · 售后", coop.name)),
            coop,
            claims: cards,
            notice,
            problem,
        },
    )
}

/// `GET /console/{coop}/claims`: the open claims.
pub async fn claims(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (user, coop) = enter(&viewer, &pool, &id, "claims").await?;
    claims_page(
        &viewer,
        &pool,
        user,
        coop,
        StatusCode::OK,
        notice(&req),
        None,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    reason: String,
}

/// `POST /console/{coop}/claims/{id}/approve` (同意) and `…/reject` (拒绝, with a reason).
pub async fn decide(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String, String)>,
    form: PageForm<DecideForm>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, claim, action) = path.into_inner();
    let (user, coop) = enter(&viewer, &pool, &coop_id, "claims").await?;
    let claim: ClaimId = claim.parse().map_err(|_| PageError::NotFound)?;
    let action = match action.as_str() {
        "approve" => ClaimAction::Approve,
        "reject" => ClaimAction::Reject,
        _ => return Err(PageError::NotFound),
    };
    let reason = Some(form.0.reason.trim().to_owned()).filter(|r| !r.is_empty());
    if action == ClaimAction::Reject && reason.is_none() {
        let message = "拒绝时请写明理由。".to_owned();
        return claims_page(
            &viewer,
            &pool,
            user,
            coop,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(message),
        )
        .await;
    }
    let (who, coop_id) = (user.clone(), coop.id);
    let outcome = blocking::run(&pool, move |conn| {
        let view = act_on(conn, &who, claim, action, None, reason.as_deref())?;
        if view.cooperative_id != coop_id {
            return Err(ApiError::NotFound);
        }
        Ok(())
    })
    .await;
    match outcome {
        Ok(()) => {
            let done = if action == ClaimAction::Approve {
                "approved"
            } else {
                "rejected"
            };
            Ok(see_other(&format!("/console/{coop_id}/claims?done={done}")))
        }
        Err(e @ (ApiError::Validation(_) | ApiError::InvalidState(_) | ApiError::Conflict(_))) => {
            let message = zh::problem(&e);
            claims_page(
                &viewer,
                &pool,
                user,
                coop,
                StatusCode::CONFLICT,
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console_settlement.html")]
struct SettlementPage {
    layout: Layout,
    coop: Coop,
    month: String,
    rows: Vec<(&'static str, String)>,
    lines: Vec<(String, String, String)>,
    more: bool,
    problem: Option<String>,
    notice: Option<String>,
}

/// How many of a month's orders the settlement page lists (the CSV has them all).
const SHOWN_LINES: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// `GET /console/{coop}/settlement?month=YYYY-MM` (owner only, as the API).
pub async fn settlement(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    config: web::Data<Config>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (user, coop) = enter(&viewer, &pool, &id, "settlement").await?;
    if !coop.owner {
        return Err(PageError::Forbidden);
    }
    let q: MonthQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let month = if q.month.trim().is_empty() {
        lot_domain::today().format("%Y-%m").to_string()
    } else {
        q.month.trim().chars().take(7).collect()
    };
    let (m, coop_id, rate) = (month.clone(), coop.id, config.commission_rate);
    let found = blocking::run(&pool, move |conn| {
        let totals = settlement_for(conn, &user, coop_id, &m, rate);
        let lines = match &totals {
            Ok(_) => settlement_lines(conn, &user, coop_id, &m, None, SHOWN_LINES + 1)?,
            Err(_) => Vec::new(),
        };
        Ok::<_, ApiError>((totals, lines))
    })
    .await?;
    let china = chrono::FixedOffset::east_opt(8 * 3600).ok_or(PageError::Internal)?;
    let (found, mut lines) = found;
    let more = lines.len() as i64 > SHOWN_LINES;
    lines.truncate(SHOWN_LINES as usize);
    let lines = lines
        .into_iter()
        .map(|l| {
            (
                l.order_number,
                l.delivered_at
                    .and_utc()
                    .with_timezone(&china)
                    .format("%Y-%m-%d")
                    .to_string(),
                l.goods.to_string(),
            )
        })
        .collect();
    let (rows, problem) = match found {
        Ok(s) => (
            vec![
                ("订单数", s.orders.to_string()),
                ("货款", format!("¥{}", s.gross_sales)),
                ("退款", format!("¥{}", s.refunds)),
                ("佣金比例", s.commission_rate.clone()),
                ("平台佣金", format!("¥{}", s.commission)),
                ("应结算", format!("¥{}", s.net_payable)),
            ],
            None,
        ),
        Err(ApiError::Validation(_)) => (Vec::new(), Some("月份格式应为 YYYY-MM。".to_owned())),
        Err(e) => return Err(e.into()),
    };
    respond(
        StatusCode::OK,
        &SettlementPage {
            layout: viewer.layout(format!("{} · 结算", coop.name)),
            coop,
            month,
            rows,
            lines,
            more,
            problem,
            notice: None,
        },
    )
}

#[derive(Template)]
#[template(path = "console_members.html")]
struct MembersPage {
    layout: Layout,
    coop: Coop,
    email: String,
    errors: FieldMessages,
    notice: Option<String>,
}

/// `GET /console/{coop}/members` (owner only).
pub async fn members(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (_, coop) = enter(&viewer, &pool, &id, "members").await?;
    if !coop.owner {
        return Err(PageError::Forbidden);
    }
    respond(
        StatusCode::OK,
        &MembersPage {
            layout: viewer.layout(format!("{} · 成员", coop.name)),
            coop,
            email: String::new(),
            errors: FieldMessages::default(),
            notice: notice(&req),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    email: String,
}

/// `POST /console/{coop}/members`: adds staff by the email of an existing account.
pub async fn add_member(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
    form: PageForm<MemberForm>,
) -> Result<HttpResponse, PageError> {
    let (user, coop) = enter(&viewer, &pool, &id, "members").await?;
    if !coop.owner {
        return Err(PageError::Forbidden);
    }
    let email = form.0.email;
    let request = AddCooperativeMember {
        email: crate::http::text::EmailText(email.clone()),
        role: CoopRole::Staff,
    };
    let coop_id = coop.id;
    let outcome = match NewMember::try_from(request) {
        Ok(m) => blocking::run(&pool, move |conn| {
            add_member_by_email(conn, &user, coop_id, &m)
        })
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    let errors = match outcome {
        Ok(()) => return Ok(see_other(&format!("/console/{coop_id}/members?done=added"))),
        Err(ApiError::Validation(e)) => FieldMessages::from_errors(&e),
        Err(ApiError::Conflict(_)) => FieldMessages(vec![("email".into(), "已经是成员。".into())]),
        Err(e) => return Err(e.into()),
    };
    respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        &MembersPage {
            layout: viewer.layout(format!("{} · 成员", coop.name)),
            coop,
            email: email
                .chars()
                .filter(|c| !c.is_control())
                .take(254)
                .collect(),
            errors,
            notice: None,
        },
    )
}

/// `GET /console/{coop}/settlement.csv?month=YYYY-MM` (owner only): every order the month's
/// settlement counts, streamed a thousand orders at a time, so a long month never sits in
/// memory whole.
pub async fn settlement_csv(
    req: HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    use futures_util::{stream, StreamExt};
    let (user, coop) = enter(&viewer, &pool, &id, "settlement").await?;
    if !coop.owner {
        return Err(PageError::Forbidden);
    }
    let q: MonthQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let month: String = q.month.trim().chars().take(7).collect();
    if crate::reports::period::month_range(&month).is_none() {
        return Err(PageError::BadRequest("月份格式应为 YYYY-MM。".into()));
    }
    let coop_id = coop.id;
    let header = crate::http::csv::line(["order_number", "delivered_on", "goods"]);
    // None: finished; Some(after): the next chunk starts after this order
    let start: Option<Option<crate::ids::OrderId>> = Some(None);
    let body = stream::once(async move { Ok::<_, actix_web::Error>(web::Bytes::from(header)) })
        .chain(stream::unfold(
            (start, pool.clone(), user, month.clone()),
            move |(next, pool, user, month)| async move {
                let after = next?;
                let (u, m) = (user.clone(), month.clone());
                let chunk = blocking::run(&pool, move |conn| {
                    settlement_lines(conn, &u, coop_id, &m, after, 1000)
                })
                .await;
                match chunk {
                    Ok(lines) if lines.is_empty() => None,
                    Ok(lines) => {
                        let china = chrono::FixedOffset::east_opt(8 * 3600)?;
                        let mut out = String::new();
                        for l in &lines {
                            let day = l
                                .delivered_at
                                .and_utc()
                                .with_timezone(&china)
                                .format("%Y-%m-%d")
                                .to_string();
                            let goods = l.goods.to_string();
                            out.push_str(&crate::http::csv::line([
                                l.order_number.as_str(),
                                day.as_str(),
                                goods.as_str(),
                            ]));
                        }
                        let last = lines.last().map(|l| l.order_id);
                        let next = if lines.len() < 1000 { None } else { Some(last) };
                        Some((Ok(web::Bytes::from(out)), (next, pool, user, month)))
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "settlement export failed part way");
                        Some((
                            Err(actix_web::error::ErrorInternalServerError("export failed")),
                            (None, pool, user, month),
                        ))
                    }
                }
            },
        ));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"settlement-{month}.csv\""),
        ))
        .streaming(body))
}

#[derive(Debug, Default, Deserialize)]
pub struct CountForm {
    #[serde(default)]
    sku_id: String,
    #[serde(default)]
    warehouse_id: String,
    #[serde(default)]
    on_hand: String,
}

/// `POST /console/{coop}/stock` (盘点): sets a SKU's count in a warehouse, as the API's
/// stocktake does (not below what orders hold; lot-tracked SKUs move through their lots).
pub async fn count_stock(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
    form: PageForm<CountForm>,
) -> Result<HttpResponse, PageError> {
    let (user, coop) = enter(&viewer, &pool, &id, "lots").await?;
    let f = form.0;
    let sku: SkuId = f.sku_id.trim().parse().map_err(|_| PageError::NotFound)?;
    let wh: crate::ids::WarehouseId = f
        .warehouse_id
        .trim()
        .parse()
        .map_err(|_| PageError::NotFound)?;
    let on_hand = f.on_hand.trim().parse::<i64>().unwrap_or(-1);
    let request = StocktakeRequest {
        on_hand,
        reason: Some(crate::http::text::Prose("盘点".into())),
    };
    let who = user.clone();
    let outcome = match Stocktake::try_from(request) {
        Ok(count) => blocking::run(&pool, move |conn| {
            take_stock(conn, &who, sku, wh, &count, None)
        })
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    let coop_id = coop.id;
    match outcome {
        Ok(()) => Ok(see_other(&format!("/console/{coop_id}/lots?done=counted"))),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let message = format!("盘点未保存：{}", zh::problem(&e));
            lots_page(
                &viewer,
                &pool,
                user,
                coop,
                StatusCode::UNPROCESSABLE_ENTITY,
                ReceiveForm::default(),
                FieldMessages::default(),
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AdjustForm {
    #[serde(default)]
    delta: String,
    #[serde(default)]
    reason: String,
}

/// `POST /console/{coop}/lots/{id}/adjust` (调整): adds or takes units off a lot (breakage,
/// a recount) by the API's lot adjustment rules; never below what orders hold.
pub async fn adjust_lot(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
    form: PageForm<AdjustForm>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, lot) = path.into_inner();
    let (user, coop) = enter(&viewer, &pool, &coop_id, "lots").await?;
    let lot: LotId = lot.parse().map_err(|_| PageError::NotFound)?;
    let f = form.0;
    let request = lot_domain::LotAdjustment {
        delta: f.delta.trim().parse::<i64>().unwrap_or(0),
        reason: Some(crate::http::text::Prose(f.reason)).filter(|r| !r.0.trim().is_empty()),
    };
    let (who, coop_id) = (user.clone(), coop.id);
    let outcome = match request.check() {
        Ok((delta, reason)) => blocking::run(&pool, move |conn| {
            crate::db::write_tx(conn, |conn| {
                let row = crate::inventory::lots::routes::visible_lot(conn, &who, lot)?;
                if row.cooperative_id != coop_id {
                    return Err(ApiError::NotFound);
                }
                crate::inventory::lots::adjust(conn, &row, delta, reason.as_deref(), who.id)
            })
        })
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/console/{coop_id}/lots?done=adjusted"))),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let message = format!("调整未保存：{}", zh::problem(&e));
            lots_page(
                &viewer,
                &pool,
                user,
                coop,
                StatusCode::UNPROCESSABLE_ENTITY,
                ReceiveForm::default(),
                FieldMessages::default(),
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
