//! Queries for products, SKUs, tiers and what a product page shows.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{Pricing, ProductStatus, SalesChannel, Storage, TextList};
use super::product::{Certification, ProductDraft, ProductInput, SkuInput, TierInput};
use super::search_index;
use crate::cooperatives::domain::CooperativeStatus;
use crate::db::schema::{categories, products, sku_tiers, skus};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{CategoryId, CooperativeId, ProductId, SkuId};
use crate::money::Money;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: ProductId,
    pub cooperative_id: CooperativeId,
    pub category_id: Option<CategoryId>,
    pub name: String,
    pub subtitle: Option<String>,
    pub description: Option<String>,
    pub origin: String,
    pub storage: Storage,
    pub shelf_life_days: Option<i32>,
    pub certifications: TextList,
    pub images: TextList,
    pub status: ProductStatus,
    pub version: i64,
    pub sort_price: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ProductRow {
    pub fn certifications(&self) -> Vec<String> {
        self.certifications.0.clone()
    }
    pub fn images(&self) -> Vec<String> {
        self.images.0.clone()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = skus)]
pub struct SkuRow {
    pub id: SkuId,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub net_weight_grams: i64,
    pub price: i64,
    pub sales_channel: SalesChannel,
    pub min_order_quantity: Option<i64>,
    pub low_stock_threshold: i64,
    pub version: i64,
    pub lot_tracked: bool,
    pub pricing: Pricing,
}

/// A product with everything its page shows.
#[derive(Debug, Clone)]
pub struct ProductDetail {
    pub product: ProductRow,
    pub cooperative_name: String,
    pub skus: Vec<SkuDetail>,
}

/// A SKU with its tiers (min quantity, unit price in fen).
#[derive(Debug, Clone)]
pub struct SkuDetail {
    pub sku: SkuRow,
    pub tiers: Vec<(i64, i64)>,
}

fn insert_skus(
    conn: &mut DbConn,
    product_id: ProductId,
    cooperative_id: CooperativeId,
    skus_in: &[(SkuId, &super::product::SkuDraft, i32)],
) -> Result<(), ApiError> {
    if skus_in.is_empty() {
        return Ok(());
    }
    let now = db::now();
    let rows: Vec<_> = skus_in
        .iter()
        .map(|(id, s, position)| {
            (
                skus::id.eq(*id),
                skus::product_id.eq(product_id),
                skus::cooperative_id.eq(cooperative_id),
                skus::code.eq(s.code.clone()),
                skus::name.eq(s.name.clone()),
                skus::unit.eq(s.unit.clone()),
                skus::net_weight_grams.eq(s.net_weight_grams),
                skus::price.eq(s.price.fen()),
                skus::sales_channel.eq(s.sales_channel),
                skus::min_order_quantity.eq(s.min_order_quantity),
                skus::low_stock_threshold.eq(s.low_stock_threshold),
                skus::lot_tracked.eq(s.lot_tracked),
                skus::pricing.eq(s.pricing),
                skus::position.eq(*position),
                skus::version.eq(1_i64),
                skus::created_at.eq(now),
                skus::updated_at.eq(now),
            )
        })
        .collect();
    crate::insert_rows!(conn, skus::table, rows).map_err(sku_conflict)?;
    let tiers: Vec<_> = skus_in
        .iter()
        .flat_map(|(id, s, _)| {
            s.tiers.iter().map(move |t| {
                (
                    sku_tiers::sku_id.eq(*id),
                    sku_tiers::min_quantity.eq(t.min_quantity),
                    sku_tiers::unit_price.eq(t.unit_price.fen()),
                )
            })
        })
        .collect();
    if !tiers.is_empty() {
        crate::insert_rows!(conn, sku_tiers::table, tiers)?;
    }
    Ok(())
}

fn sku_conflict(e: diesel::result::Error) -> ApiError {
    match ApiError::from(e) {
        ApiError::Conflict(_) => {
            ApiError::Conflict("A SKU with this code already exists in this cooperative.".into())
        }
        other => other,
    }
}

fn check_category(conn: &mut DbConn, draft: &ProductDraft) -> Result<(), ApiError> {
    if let Some(cat) = draft.category_id {
        let exists = categories::table
            .find(cat)
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if !exists {
            return Err(ApiError::field("category_id", "no such category"));
        }
    }
    Ok(())
}

pub fn insert_product(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    draft: &ProductDraft,
) -> Result<ProductId, ApiError> {
    check_category(conn, draft)?;
    let id = ProductId::generate();
    let now = db::now();
    diesel::insert_into(products::table)
        .values((
            products::id.eq(id),
            products::cooperative_id.eq(cooperative_id),
            products::category_id.eq(draft.category_id),
            products::name.eq(&draft.name),
            products::subtitle.eq(&draft.subtitle),
            products::description.eq(&draft.description),
            products::origin.eq(&draft.origin),
            products::storage.eq(draft.storage),
            products::shelf_life_days.eq(draft.shelf_life_days),
            products::certifications.eq(TextList(draft.certifications.clone())),
            products::images.eq(TextList(draft.images.clone())),
            products::status.eq(ProductStatus::Draft),
            products::version.eq(1_i64),
            products::sort_price.eq(draft.sort_price().fen()),
            products::created_at.eq(now),
            products::updated_at.eq(now),
        ))
        .execute(conn)?;
    search_index::write(
        conn,
        &search_index::Entry {
            product: id,
            name: &draft.name,
            subtitle: draft.subtitle.as_deref(),
            description: draft.description.as_deref(),
            sort_price: draft.sort_price().fen(),
            created_at: now,
        },
    )?;
    let with_ids: Vec<_> = draft
        .skus
        .iter()
        .enumerate()
        .map(|(i, s)| (SkuId::generate(), s, i as i32))
        .collect();
    insert_skus(conn, id, cooperative_id, &with_ids)?;
    Ok(id)
}

/// Products of every status, for tools that size the catalogue.
pub fn count_all(conn: &mut DbConn) -> Result<usize, ApiError> {
    let n: i64 = products::table.count().get_result(conn)?;
    Ok(usize::try_from(n).unwrap_or(0))
}

pub fn find_product(conn: &mut DbConn, id: ProductId) -> Result<Option<ProductRow>, ApiError> {
    Ok(products::table
        .find(id)
        .select(ProductRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn skus_of(conn: &mut DbConn, product_id: ProductId) -> Result<Vec<SkuRow>, ApiError> {
    Ok(skus::table
        .filter(skus::product_id.eq(product_id))
        .order(skus::position.asc())
        .select(SkuRow::as_select())
        .load(conn)?)
}

/// Tiers per SKU id, ascending by quantity.
pub fn tiers_of(
    conn: &mut DbConn,
    sku_ids: &[SkuId],
) -> Result<HashMap<SkuId, Vec<(i64, i64)>>, ApiError> {
    let rows: Vec<(SkuId, i64, i64)> = sku_tiers::table
        .filter(sku_tiers::sku_id.eq_any(sku_ids))
        .order((sku_tiers::sku_id.asc(), sku_tiers::min_quantity.asc()))
        .select((
            sku_tiers::sku_id,
            sku_tiers::min_quantity,
            sku_tiers::unit_price,
        ))
        .load(conn)?;
    let mut map: HashMap<SkuId, Vec<(i64, i64)>> = HashMap::new();
    for (sku, q, p) in rows {
        map.entry(sku).or_default().push((q, p));
    }
    Ok(map)
}

pub fn detail(conn: &mut DbConn, product: ProductRow) -> Result<ProductDetail, ApiError> {
    let cooperative_name = crate::cooperatives::repo::name_of(conn, product.cooperative_id)?;
    let sku_rows = skus_of(conn, product.id)?;
    let ids: Vec<SkuId> = sku_rows.iter().map(|s| s.id).collect();
    let mut tiers = tiers_of(conn, &ids)?;
    let skus = sku_rows
        .into_iter()
        .map(|s| SkuDetail {
            tiers: tiers.remove(&s.id).unwrap_or_default(),
            sku: s,
        })
        .collect();
    Ok(ProductDetail {
        product,
        cooperative_name,
        skus,
    })
}

/// The stored product in the shape a create request has, so a patch can be applied to it and
/// the result checked by the same rules as a new product.
pub fn as_input(detail: &ProductDetail) -> Result<ProductInput, ApiError> {
    let p = &detail.product;
    Ok(ProductInput {
        name: p.name.clone().into(),
        subtitle: p.subtitle.clone().map(Into::into),
        description: p.description.clone().map(Into::into),
        category_id: p.category_id,
        origin: p.origin.clone().into(),
        storage: p.storage,
        shelf_life_days: p.shelf_life_days.map(i64::from),
        certifications: p
            .certifications()
            .iter()
            .map(|c| {
                Certification::parse(c).ok_or_else(|| {
                    ApiError::internal(format!(
                        "unknown certification (products.certifications) {c:?}"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        images: p.images().into_iter().map(Into::into).collect(),
        skus: detail
            .skus
            .iter()
            .map(|SkuDetail { sku: s, tiers, .. }| SkuInput {
                code: s.code.clone().into(),
                name: s.name.clone().into(),
                unit: s.unit.clone().into(),
                net_weight_grams: s.net_weight_grams,
                price: Money::from_fen(s.price),
                sales_channel: s.sales_channel,
                min_order_quantity: s.min_order_quantity,
                tiers: tiers
                    .iter()
                    .map(|(q, p)| TierInput {
                        min_quantity: *q,
                        unit_price: Money::from_fen(*p),
                    })
                    .collect(),
                low_stock_threshold: Some(s.low_stock_threshold),
                lot_tracked: Some(s.lot_tracked),
                pricing: Some(s.pricing),
            })
            .collect(),
    })
}

/// Writes a patched product when its version is still `expected`; 412 otherwise.
pub fn update_product(
    conn: &mut DbConn,
    current: &ProductDetail,
    expected_version: i64,
    draft: &ProductDraft,
) -> Result<(), ApiError> {
    check_category(conn, draft)?;
    let p = &current.product;
    let now = db::now();
    let n = diesel::update(
        products::table
            .filter(products::id.eq(p.id))
            .filter(products::version.eq(expected_version)),
    )
    .set((
        products::category_id.eq(draft.category_id),
        products::name.eq(&draft.name),
        products::subtitle.eq(&draft.subtitle),
        products::description.eq(&draft.description),
        products::origin.eq(&draft.origin),
        products::storage.eq(draft.storage),
        products::shelf_life_days.eq(draft.shelf_life_days),
        products::certifications.eq(TextList(draft.certifications.clone())),
        products::images.eq(TextList(draft.images.clone())),
        products::sort_price.eq(draft.sort_price().fen()),
        products::version.eq(products::version + 1),
        products::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    search_index::write(
        conn,
        &search_index::Entry {
            product: p.id,
            name: &draft.name,
            subtitle: draft.subtitle.as_deref(),
            description: draft.description.as_deref(),
            sort_price: draft.sort_price().fen(),
            created_at: p.created_at,
        },
    )?;
    let mut new_skus = Vec::new();
    let next_position = current.skus.len() as i32;
    for s in &draft.skus {
        match current.skus.iter().find(|d| d.sku.code == s.code) {
            Some(SkuDetail { sku: row, .. }) => {
                diesel::update(skus::table.find(row.id))
                    .set((
                        skus::name.eq(&s.name),
                        skus::unit.eq(&s.unit),
                        skus::net_weight_grams.eq(s.net_weight_grams),
                        skus::price.eq(s.price.fen()),
                        skus::sales_channel.eq(s.sales_channel),
                        skus::min_order_quantity.eq(s.min_order_quantity),
                        skus::low_stock_threshold.eq(s.low_stock_threshold),
                        skus::lot_tracked.eq(s.lot_tracked),
                        skus::pricing.eq(s.pricing),
                        skus::version.eq(skus::version + 1),
                        skus::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                diesel::delete(sku_tiers::table.filter(sku_tiers::sku_id.eq(row.id)))
                    .execute(conn)?;
                let tiers: Vec<_> = s
                    .tiers
                    .iter()
                    .map(|t| {
                        (
                            sku_tiers::sku_id.eq(row.id),
                            sku_tiers::min_quantity.eq(t.min_quantity),
                            sku_tiers::unit_price.eq(t.unit_price.fen()),
                        )
                    })
                    .collect();
                if !tiers.is_empty() {
                    crate::insert_rows!(conn, sku_tiers::table, tiers)?;
                }
            }
            None => new_skus.push((SkuId::generate(), s, next_position + new_skus.len() as i32)),
        }
    }
    insert_skus(conn, p.id, p.cooperative_id, &new_skus)
}

/// Moves a product to `to` if its status still allows it (checked by the domain rule and
/// again by the conditional update, so two racing requests cannot both pass).
pub fn change_status(
    conn: &mut DbConn,
    product: &ProductRow,
    to: ProductStatus,
) -> Result<(), ApiError> {
    let from = product.status;
    if from == to {
        return Ok(());
    }
    from.transition(to)?;
    let n = diesel::update(
        products::table
            .filter(products::id.eq(product.id))
            .filter(products::status.eq(from)),
    )
    .set((
        products::status.eq(to),
        products::version.eq(products::version + 1),
        products::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(ApiError::InvalidState(
            "the product changed meanwhile; read it again".into(),
        ));
    }
    Ok(())
}

/// Whether the public may see the product: published, and its co-op active.
pub fn is_public(conn: &mut DbConn, product: &ProductRow) -> Result<bool, ApiError> {
    if product.status != ProductStatus::Published {
        return Ok(false);
    }
    let co_op = crate::cooperatives::repo::get(conn, product.cooperative_id)?;
    Ok(co_op.status == CooperativeStatus::Active)
}

/// The storage classes of these SKUs' products (for how a parcel of them travels).
pub fn storage_of(conn: &mut DbConn, sku_ids: &[SkuId]) -> Result<Vec<Storage>, ApiError> {
    Ok(skus::table
        .inner_join(products::table)
        .filter(skus::id.eq_any(sku_ids))
        .select(products::storage)
        .load(conn)?)
}

/// A co-op's SKUs on products not archived: (SKU, product name), by product then code.
pub fn skus_of_cooperative(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
) -> Result<Vec<(SkuRow, String)>, ApiError> {
    Ok(skus::table
        .inner_join(products::table)
        .filter(products::cooperative_id.eq(cooperative_id))
        .filter(products::status.ne(ProductStatus::Archived))
        .order((products::name.asc(), skus::code.asc()))
        .select((SkuRow::as_select(), products::name))
        .load(conn)?)
}

/// A co-op's products not archived, by name.
pub fn products_of_cooperative(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
) -> Result<Vec<ProductRow>, ApiError> {
    Ok(products::table
        .filter(products::cooperative_id.eq(cooperative_id))
        .filter(products::status.ne(ProductStatus::Archived))
        .order(products::name.asc())
        .select(ProductRow::as_select())
        .load(conn)?)
}
