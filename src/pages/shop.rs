//! The storefront: `/` (search, filters, price sort, paging) and `/products/{id}`.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::layout::{html, Layout};
use super::session::Viewer;
use super::zh;
use crate::catalogue::categories::{self, CategoryView};
use crate::catalogue::product::Certification;
use crate::catalogue::routes::{browse, public_product, ProductSummary};
use crate::catalogue::search::{Search, SearchParams};
use crate::catalogue::{Pricing, Storage};
use crate::db::replicas::ReadPool;
use crate::http::blocking;
use crate::http::error::ApiError;
use crate::ids::{ProductId, SkuId};
use crate::inventory::lots::{self, domain::date_text};
use crate::organizations::access::memberships_of;
use crate::organizations::domain::OrganizationStatus;

/// The picture a product without one (or with one on another host) shows.
const PLACEHOLDER: &str = "/static/img/produce.svg";

/// Only pictures this server serves: a page never makes the browser ask another host.
pub fn picture(images: &[String]) -> String {
    images
        .iter()
        .find(|u| u.starts_with('/') && !u.starts_with("//"))
        .cloned()
        .unwrap_or_else(|| PLACEHOLDER.to_owned())
}

/// The storefront's query: every field text, so no query string fails to parse; the
/// catalogue's own rules then say what is wrong.
#[derive(Debug, Default, Deserialize)]
pub struct ShopQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    storage: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    cursor: String,
}

impl ShopQuery {
    fn search(&self) -> Result<Search, ApiError> {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Search::try_from(SearchParams {
            q: some(&self.q),
            category_id: some(&self.category_id),
            cooperative_id: None,
            storage: some(&self.storage),
            min_price: None,
            max_price: None,
            in_stock: None,
            sort: some(&self.sort),
            limit: Some(20),
            cursor: some(&self.cursor),
        })
    }

    /// This query on the next page.
    fn next_page(&self, cursor: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("category_id", &self.category_id),
            ("storage", &self.storage),
            ("sort", &self.sort),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        q.append_pair("cursor", cursor);
        format!("/?{}", q.finish())
    }
}

pub struct Card {
    pub href: String,
    pub name: String,
    pub cooperative: String,
    pub picture: String,
    pub price: String,
    pub cold: Option<&'static str>,
}

impl From<ProductSummary> for Card {
    fn from(p: ProductSummary) -> Self {
        Card {
            href: format!("/products/{}", p.id),
            picture: picture(&p.images),
            name: p.name,
            cooperative: p.cooperative.name,
            price: p.price.to_string(),
            cold: p
                .storage
                .needs_cold_chain()
                .then_some(zh::storage(p.storage)),
        }
    }
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    layout: Layout,
    query: ShopQuery,
    categories: Vec<CategoryView>,
    storages: Vec<(&'static str, &'static str)>,
    cards: Vec<Card>,
    next: Option<String>,
    problem: Option<String>,
}

/// `GET /`.
pub async fn index(
    req: HttpRequest,
    viewer: Viewer,
    reads: web::Data<ReadPool>,
    rare: web::Data<crate::catalogue::search::RareQueries>,
) -> Result<HttpResponse, PageError> {
    let query: ShopQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    // a search that does not parse is told on the page, not as an error page
    let search = query.search().map_err(|e| zh::problem(&e));
    let (categories, found) = blocking::read(&reads, move |conn| {
        let categories = categories::all(conn)?;
        let found = match &search {
            Ok(s) => Ok(browse(conn, s, &rare)?),
            Err(e) => Err(e.clone()),
        };
        Ok::<_, ApiError>((categories, found))
    })
    .await?;
    let (cards, next, problem) = match found {
        Ok(page) => (
            page.items.into_iter().map(Card::from).collect(),
            page.next_cursor.map(|c| query.next_page(&c)),
            None,
        ),
        Err(problem) => (Vec::new(), None, Some(problem)),
    };
    html(&IndexPage {
        layout: viewer.layout("鹤岗好物").at("shop"),
        query,
        categories,
        storages: Storage::ALL
            .iter()
            .map(|s| (s.as_str(), zh::storage(*s)))
            .collect(),
        cards,
        next,
        problem,
    })
}

pub struct SkuChoice {
    pub id: SkuId,
    pub name: String,
    pub price: String,
    pub per: &'static str,
    pub available: i64,
    pub tiers: Vec<String>,
    pub best_before: Option<String>,
    pub harvested_on: Option<String>,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    layout: Layout,
    id: ProductId,
    name: String,
    subtitle: Option<String>,
    description: Option<String>,
    origin: String,
    picture: String,
    cooperative: String,
    storage: &'static str,
    cold: bool,
    shelf_life_days: Option<i32>,
    certifications: Vec<&'static str>,
    skus: Vec<SkuChoice>,
    wholesale: bool,
    problem: Option<String>,
}

/// `GET /products/{id}`.
pub async fn product(
    viewer: Viewer,
    reads: web::Data<ReadPool>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id: ProductId = id.parse().map_err(|_| PageError::NotFound)?;
    product_page(viewer, &reads, id, None).await
}

/// The product page, with `problem` above the form (an add to cart that failed).
pub async fn product_page(
    viewer: Viewer,
    reads: &ReadPool,
    id: ProductId,
    problem: Option<String>,
) -> Result<HttpResponse, PageError> {
    let who = viewer.auth().cloned();
    let (view, fresh, wholesale) = blocking::read(reads, move |conn| {
        let view = public_product(conn, who.as_ref(), id)?;
        let ids: Vec<SkuId> = view.skus.iter().map(|s| s.id).collect();
        let today = date_text(lots::domain::today());
        let fresh = lots::repo::next_to_sell(conn, &ids, &today)?;
        // tier prices are for approved business buyers
        let wholesale = match &who {
            Some(u) => memberships_of(conn, u.id)?
                .iter()
                .any(|m| m.3 == OrganizationStatus::Approved),
            None => false,
        };
        Ok::<_, ApiError>((view, fresh, wholesale))
    })
    .await?;
    let skus = view
        .skus
        .into_iter()
        .map(|s| {
            let dates = fresh.get(&s.id);
            SkuChoice {
                id: s.id,
                per: match s.pricing {
                    Pricing::PerKg => "/公斤",
                    Pricing::PerUnit => "",
                },
                price: s.price.to_string(),
                name: format!("{}（{}）", s.name, s.unit),
                available: s.available,
                tiers: s
                    .tiers
                    .iter()
                    .map(|t| format!("满 {} 件 ¥{}", t.min_quantity, t.unit_price))
                    .collect(),
                best_before: dates.map(|d| d.0.clone()),
                harvested_on: dates.and_then(|d| d.1.clone()),
            }
        })
        .collect();
    html(&ProductPage {
        layout: viewer.layout(view.name.clone()).at("shop"),
        id: view.id,
        picture: picture(&view.images),
        subtitle: view.subtitle,
        description: view.description,
        origin: view.origin,
        cooperative: view.cooperative.name,
        storage: zh::storage(view.storage),
        cold: view.storage.needs_cold_chain(),
        shelf_life_days: view.shelf_life_days,
        certifications: view
            .certifications
            .iter()
            .filter_map(|c| Certification::parse(c))
            .map(Certification::chinese_name)
            .collect(),
        name: view.name,
        skus,
        wholesale,
        problem,
    })
}
