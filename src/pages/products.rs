//! The console's products: list with 上架/下架/归档, a new product with its first SKU, and
//! editing a product and its SKUs — through the API's draft rules (`ProductDraft`), its patch
//! (`ProductPatch::apply`) and its optimistic version check, each message beside its field.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::account::{FieldMessages, Nothing};
use super::console::{enter, Coop};
use super::error::PageError;
use super::layout::{see_other, Layout};
use super::session::{PageForm, Viewer};
use super::zh;
use crate::catalogue::domain::ProductStatus;
use crate::catalogue::product::{
    Certification, ProductDraft, ProductInput, ProductPatch, SkuInput,
};
use crate::catalogue::repo::{self as products, products_of_cooperative};
use crate::catalogue::routes::{change_product_status, create_product, patch_product};
use crate::catalogue::{SalesChannel, Storage};
use crate::db::DbPool;
use crate::http::blocking;
use crate::http::error::{ApiError, FieldError};
use crate::http::text::{Line, Prose, SkuCode};
use crate::ids::ProductId;
use crate::money::Money;

fn respond(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// A SKU row of a product form, as typed.
#[derive(Debug, Default, Clone)]
pub struct SkuRow {
    pub index: usize,
    pub existing: bool,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub weight: String,
    pub price: String,
    pub channel: String,
    pub lot_tracked: bool,
}

/// A product form, as typed.
#[derive(Debug, Default, Clone)]
pub struct ProductForm {
    pub name: String,
    pub subtitle: String,
    pub origin: String,
    pub storage: String,
    pub shelf_life_days: String,
    pub description: String,
    pub certifications: Vec<String>,
    pub version: String,
    pub skus: Vec<SkuRow>,
}

impl ProductForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut skus = Vec::new();
        for index in 0..50 {
            if !pairs.iter().any(|(k, _)| *k == format!("sku_code_{index}")) {
                break;
            }
            skus.push(SkuRow {
                index,
                existing: get(&format!("sku_existing_{index}")) == "1",
                code: get(&format!("sku_code_{index}")),
                name: get(&format!("sku_name_{index}")),
                unit: get(&format!("sku_unit_{index}")),
                weight: get(&format!("sku_weight_{index}")),
                price: get(&format!("sku_price_{index}")),
                channel: get(&format!("sku_channel_{index}")),
                lot_tracked: get(&format!("sku_lot_{index}")) == "1",
            });
        }
        ProductForm {
            name: get("name"),
            subtitle: get("subtitle"),
            origin: get("origin"),
            storage: get("storage"),
            shelf_life_days: get("shelf_life_days"),
            description: get("description"),
            certifications: pairs
                .iter()
                .filter(|(k, _)| k == "certifications")
                .map(|(_, v)| v.clone())
                .collect(),
            version: get("version"),
            skus,
        }
    }

    /// The SKU rows someone filled in (a blank new row is left out), as the API takes them;
    /// `base` keeps what the form does not show (tiers, minimums, pricing) of existing SKUs.
    fn sku_inputs(&self, base: &[SkuInput], errors: &mut Vec<FieldError>) -> Vec<SkuInput> {
        let mut out = Vec::new();
        for r in &self.skus {
            if !r.existing && r.code.trim().is_empty() && r.name.trim().is_empty() {
                continue;
            }
            let i = out.len();
            let price = r.price.trim().parse::<Money>().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    format!("skus[{i}].price"),
                    "应为金额，如 59.90",
                ));
                Money::ZERO
            });
            let weight = r.weight.trim().parse::<i64>().unwrap_or_else(|_| {
                errors.push(FieldError::new(
                    format!("skus[{i}].net_weight_grams"),
                    "应为克数，如 5000",
                ));
                0
            });
            let mut s = base
                .iter()
                .find(|b| b.code.0 == r.code)
                .cloned()
                .unwrap_or(SkuInput {
                    code: SkuCode(String::new()),
                    name: Line(String::new()),
                    unit: Line(String::new()),
                    net_weight_grams: 0,
                    price: Money::ZERO,
                    sales_channel: SalesChannel::Retail,
                    min_order_quantity: None,
                    tiers: Vec::new(),
                    low_stock_threshold: None,
                    lot_tracked: None,
                    pricing: None,
                });
            s.code = SkuCode(r.code.clone());
            s.name = Line(r.name.clone());
            s.unit = Line(r.unit.clone());
            s.net_weight_grams = weight;
            s.price = price;
            s.sales_channel = SalesChannel::parse(&r.channel).unwrap_or(SalesChannel::Retail);
            s.lot_tracked = Some(r.lot_tracked);
            out.push(s);
        }
        out
    }

    fn input(&self, base: &[SkuInput]) -> Result<ProductInput, ApiError> {
        let mut errors = Vec::new();
        let shelf = match self.shelf_life_days.trim() {
            "" => None,
            s => match s.parse::<i64>() {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new("shelf_life_days", "应为天数"));
                    None
                }
            },
        };
        let skus = self.sku_inputs(base, &mut errors);
        let storage = Storage::parse(&self.storage).unwrap_or_else(|| {
            errors.push(FieldError::new("storage", "请选择储运方式"));
            Storage::Ambient
        });
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let blank = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
        Ok(ProductInput {
            name: Line(self.name.clone()),
            subtitle: blank(&self.subtitle).map(Prose),
            description: blank(&self.description).map(Prose),
            category_id: None,
            origin: Line(self.origin.clone()),
            storage,
            shelf_life_days: shelf,
            certifications: self
                .certifications
                .iter()
                .filter_map(|c| Certification::parse(c))
                .collect(),
            images: Vec::new(),
            skus,
        })
    }
}

fn new_row(index: usize) -> SkuRow {
    SkuRow {
        index,
        channel: "retail".into(),
        ..SkuRow::default()
    }
}

pub struct Listed {
    pub id: ProductId,
    pub name: String,
    pub status: &'static str,
    pub published: bool,
    pub price: String,
}

#[derive(Template)]
#[template(path = "console_products.html")]
struct ProductsPage {
    layout: Layout,
    coop: Coop,
    listed: Vec<Listed>,
    form: ProductForm,
    storages: Vec<(&'static str, &'static str)>,
    certifications: Vec<(&'static str, &'static str)>,
    errors: FieldMessages,
    notice: Option<String>,
    problem: Option<String>,
}

fn storages() -> Vec<(&'static str, &'static str)> {
    Storage::ALL
        .iter()
        .map(|s| (s.as_str(), zh::storage(*s)))
        .collect()
}

fn certification_choices() -> Vec<(&'static str, &'static str)> {
    Certification::ALL
        .iter()
        .map(|c| (c.as_str(), c.chinese_name()))
        .collect()
}

fn status_name(s: ProductStatus) -> &'static str {
    match s {
        ProductStatus::Published => "在售",
        ProductStatus::Unpublished => "未上架",
        ProductStatus::Archived => "已归档",
        ProductStatus::Draft => "草稿",
    }
}

#[allow(clippy::too_many_arguments)]
async fn products_page(
    viewer: &Viewer,
    pool: &DbPool,
    coop: Coop,
    status: StatusCode,
    form: ProductForm,
    errors: FieldMessages,
    notice: Option<String>,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    let id = coop.id;
    let rows = blocking::run(pool, move |conn| products_of_cooperative(conn, id)).await?;
    respond(
        status,
        &ProductsPage {
            layout: viewer.layout(format!("{} · 商品", coop.name)),
            coop,
            listed: rows
                .into_iter()
                .map(|p| Listed {
                    id: p.id,
                    name: p.name,
                    status: status_name(p.status),
                    published: p.status == ProductStatus::Published,
                    price: Money::from_fen(p.sort_price).to_string(),
                })
                .collect(),
            form,
            storages: storages(),
            certifications: certification_choices(),
            errors,
            notice,
            problem,
        },
    )
}

fn blank_form() -> ProductForm {
    ProductForm {
        storage: "ambient".into(),
        skus: vec![new_row(0)],
        ..ProductForm::default()
    }
}

/// `GET /console/{coop}/products`.
pub async fn list(
    req: actix_web::HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (_, coop) = enter(&viewer, &pool, &id, "products").await?;
    let notice = match req.query_string() {
        q if q.contains("done=created") => Some("商品已创建（未上架）。".to_owned()),
        q if q.contains("done=saved") => Some("已保存。".to_owned()),
        q if q.contains("done=status") => Some("状态已更新。".to_owned()),
        _ => None,
    };
    products_page(
        &viewer,
        &pool,
        coop,
        StatusCode::OK,
        blank_form(),
        FieldMessages::default(),
        notice,
        None,
    )
    .await
}

/// `POST /console/{coop}/products`: a new product with its first SKU.
pub async fn create(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    id: web::Path<String>,
    form: PageForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (user, coop) = enter(&viewer, &pool, &id, "products").await?;
    let form = ProductForm::from_pairs(&form.0);
    let coop_id = coop.id;
    let outcome = match form.input(&[]).and_then(ProductDraft::try_from) {
        Ok(draft) => blocking::run(&pool, move |conn| {
            create_product(conn, &user, coop_id, &draft)
        })
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/console/{coop_id}/products?done=created"
        ))),
        Err(ApiError::Validation(e)) | Err(ApiError::ConflictWith { errors: e, .. }) => {
            let errors = FieldMessages::from_errors(&e);
            products_page(
                &viewer,
                &pool,
                coop,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
                None,
                None,
            )
            .await
        }
        Err(e @ ApiError::Conflict(_)) => {
            let message = zh::problem(&e);
            products_page(
                &viewer,
                &pool,
                coop,
                StatusCode::CONFLICT,
                form,
                FieldMessages::default(),
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/{coop}/products/{id}/{publish|unpublish|archive}`.
pub async fn set_status(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String, String)>,
    _form: PageForm<Nothing>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, product, action) = path.into_inner();
    let (user, coop) = enter(&viewer, &pool, &coop_id, "products").await?;
    let product: ProductId = product.parse().map_err(|_| PageError::NotFound)?;
    let to = match action.as_str() {
        "publish" => ProductStatus::Published,
        "unpublish" => ProductStatus::Unpublished,
        "archive" => ProductStatus::Archived,
        _ => return Err(PageError::NotFound),
    };
    let coop_id = coop.id;
    let outcome = blocking::run(&pool, move |conn| {
        let row = products::find_product(conn, product)?.ok_or(ApiError::NotFound)?;
        if row.cooperative_id != coop_id {
            return Err(ApiError::NotFound);
        }
        change_product_status(conn, &user, product, to, None)
    })
    .await;
    match outcome {
        Ok(_) => Ok(see_other(&format!(
            "/console/{coop_id}/products?done=status"
        ))),
        Err(e @ (ApiError::InvalidState(_) | ApiError::Conflict(_))) => {
            let message = zh::problem(&e);
            products_page(
                &viewer,
                &pool,
                coop,
                StatusCode::CONFLICT,
                blank_form(),
                FieldMessages::default(),
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console_product.html")]
struct EditPage {
    layout: Layout,
    coop: Coop,
    id: ProductId,
    form: ProductForm,
    storages: Vec<(&'static str, &'static str)>,
    certifications: Vec<(&'static str, &'static str)>,
    errors: FieldMessages,
    problem: Option<String>,
    notice: Option<String>,
}

/// The product as its edit form shows it (with one blank row for a new SKU).
fn form_of(input: &ProductInput, version: i64) -> ProductForm {
    let mut skus: Vec<SkuRow> = input
        .skus
        .iter()
        .enumerate()
        .map(|(index, s)| SkuRow {
            index,
            existing: true,
            code: s.code.0.clone(),
            name: s.name.0.clone(),
            unit: s.unit.0.clone(),
            weight: s.net_weight_grams.to_string(),
            price: s.price.to_string(),
            channel: s.sales_channel.as_str().to_owned(),
            lot_tracked: s.lot_tracked.unwrap_or(false),
        })
        .collect();
    skus.push(new_row(skus.len()));
    ProductForm {
        name: input.name.0.clone(),
        subtitle: input
            .subtitle
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_default(),
        origin: input.origin.0.clone(),
        storage: input.storage.as_str().to_owned(),
        shelf_life_days: input
            .shelf_life_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
        description: input
            .description
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_default(),
        certifications: input
            .certifications
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        version: version.to_string(),
        skus,
    }
}

/// The product's current input and version, if it is this co-op's.
async fn current(
    pool: &DbPool,
    coop: &Coop,
    id: ProductId,
) -> Result<(ProductInput, i64), PageError> {
    let coop_id = coop.id;
    Ok(blocking::run(pool, move |conn| {
        let row = products::find_product(conn, id)?.ok_or(ApiError::NotFound)?;
        if row.cooperative_id != coop_id || row.status == ProductStatus::Archived {
            return Err(ApiError::NotFound);
        }
        let version = row.version;
        let detail = products::detail(conn, row)?;
        Ok((products::as_input(&detail)?, version))
    })
    .await?)
}

/// `GET /console/{coop}/products/{id}`.
pub async fn edit(
    req: actix_web::HttpRequest,
    viewer: Viewer,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, product) = path.into_inner();
    let (_, coop) = enter(&viewer, &pool, &coop_id, "products").await?;
    let id: ProductId = product.parse().map_err(|_| PageError::NotFound)?;
    let (input, version) = current(&pool, &coop, id).await?;
    respond(
        StatusCode::OK,
        &EditPage {
            layout: viewer.layout(format!("编辑 {}", input.name.0)),
            form: form_of(&input, version),
            coop,
            id,
            storages: storages(),
            certifications: certification_choices(),
            errors: FieldMessages::default(),
            problem: None,
            notice: req
                .query_string()
                .contains("done=saved")
                .then(|| "已保存。".to_owned()),
        },
    )
}

/// `POST /console/{coop}/products/{id}`: the form as a patch, refused (412 page) when the
/// product changed since the form was shown.
pub async fn save(
    viewer: Viewer,
    pool: web::Data<DbPool>,
    path: web::Path<(String, String)>,
    form: PageForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (coop_id, product) = path.into_inner();
    let (user, coop) = enter(&viewer, &pool, &coop_id, "products").await?;
    let id: ProductId = product.parse().map_err(|_| PageError::NotFound)?;
    let form = ProductForm::from_pairs(&form.0);
    let (base, _) = current(&pool, &coop, id).await?;
    let expected = form.version.trim().parse::<i64>().ok();
    let outcome = match form.input(&base.skus) {
        Ok(input) => {
            let patch = ProductPatch {
                name: Some(input.name),
                subtitle: Some(input.subtitle),
                description: Some(input.description),
                category_id: None,
                origin: Some(input.origin),
                storage: Some(input.storage),
                shelf_life_days: Some(input.shelf_life_days),
                certifications: Some(input.certifications),
                images: None,
                skus: Some(input.skus),
            };
            blocking::run(&pool, move |conn| {
                patch_product(conn, &user, id, patch, expected)
            })
            .await
            .map(|_| ())
        }
        Err(e) => Err(e),
    };
    let coop_id = coop.id;
    let (status, errors, problem) = match outcome {
        Ok(()) => {
            return Ok(see_other(&format!(
                "/console/{coop_id}/products/{id}?done=saved"
            )))
        }
        Err(ApiError::Validation(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldMessages::from_errors(&e),
            None,
        ),
        Err(ApiError::ConflictWith { errors, detail }) => (
            StatusCode::CONFLICT,
            FieldMessages::from_errors(&errors),
            Some(detail),
        ),
        Err(ApiError::PreconditionFailed) => (
            StatusCode::PRECONDITION_FAILED,
            FieldMessages::default(),
            Some("这个商品刚被别人修改过：请刷新页面，在最新内容上再改。".to_owned()),
        ),
        Err(e @ ApiError::Conflict(_)) => (
            StatusCode::CONFLICT,
            FieldMessages::default(),
            Some(zh::problem(&e)),
        ),
        Err(e) => return Err(e.into()),
    };
    respond(
        status,
        &EditPage {
            layout: viewer.layout(format!("编辑 {}", form.name)),
            coop,
            id,
            form,
            storages: storages(),
            certifications: certification_choices(),
            errors,
            problem,
            notice: None,
        },
    )
}
