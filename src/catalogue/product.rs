//! What a product and its SKUs may be: the request shapes, the patch, and the checked draft
//! every create and update goes through.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::{Pricing, SalesChannel, Storage};
use crate::http::error::ApiError;
use crate::http::text::{ImageUrl, Line, Prose, SkuCode};
use crate::http::validate::Fields;
use crate::ids::CategoryId;
use crate::money::Money;

crate::vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    /// The certifications a product may claim; a request may name one by its Chinese name.
    pub enum Certification as "certification" {
        #[serde(alias = "有机产品")]
        Organic = "organic",
        #[serde(alias = "绿色食品")]
        GreenFood = "green_food",
        #[serde(alias = "农产品地理标志")]
        GeographicalIndication = "geographical_indication",
        #[serde(alias = "无公害农产品")]
        PollutionFree = "pollution_free",
        #[serde(alias = "富硒")]
        SeleniumRich = "selenium_rich",
    }
}

impl Certification {
    pub fn chinese_name(self) -> &'static str {
        match self {
            Certification::Organic => "有机产品",
            Certification::GreenFood => "绿色食品",
            Certification::GeographicalIndication => "农产品地理标志",
            Certification::PollutionFree => "无公害农产品",
            Certification::SeleniumRich => "富硒",
        }
    }
}

const MAX_IMAGES: usize = 10;
const MAX_SKUS: usize = 50;
const MAX_TIERS: usize = 10;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TierInput {
    #[schema(minimum = 1)]
    pub min_quantity: i64,
    pub unit_price: Money,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct SkuInput {
    pub code: SkuCode,
    pub name: Line<100>,
    pub unit: Line<20>,
    #[schema(minimum = 1, maximum = 2_000_000)]
    pub net_weight_grams: i64,
    pub price: Money,
    pub sales_channel: SalesChannel,
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub min_order_quantity: Option<i64>,
    /// Lower prices from a quantity up: strictly increasing `min_quantity`, no `unit_price`
    /// above the SKU's `price`.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub tiers: Vec<TierInput>,
    /// Stock level under which the co-op's stock list flags the SKU (default 10).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub low_stock_threshold: Option<i64>,
    /// Stock held in lots with dates, sold first-expired-first-out (default false). May only
    /// change while the SKU has no stock.
    pub lot_tracked: Option<bool>,
    /// `per_kg`: `price` and tier prices are per kilogram and `net_weight_grams` is a piece's
    /// nominal weight (default `per_unit`).
    pub pricing: Option<Pricing>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ProductInput {
    pub name: Line<120>,
    pub subtitle: Option<Prose<200>>,
    pub description: Option<Prose<5000>>,
    pub category_id: Option<CategoryId>,
    pub origin: Line<100>,
    pub storage: Storage,
    #[schema(minimum = 1, maximum = 3650)]
    pub shelf_life_days: Option<i64>,
    #[serde(default)]
    pub certifications: Vec<Certification>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub images: Vec<ImageUrl>,
    /// One to fifty SKUs with distinct codes.
    #[schema(min_items = 1, max_items = 50)]
    pub skus: Vec<SkuInput>,
}

/// A partial update. Fields that may be cleared take `null`; `status`, `cooperative_id`,
/// `version` and ids are not fields of this type, so sending them is a 422.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub name: Option<Line<120>>,
    #[serde(default, deserialize_with = "nullable")]
    pub subtitle: Option<Option<Prose<200>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<Prose<5000>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CategoryId>)]
    pub category_id: Option<Option<CategoryId>>,
    pub origin: Option<Line<100>>,
    pub storage: Option<Storage>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(minimum = 1, maximum = 3650)]
    pub shelf_life_days: Option<Option<i64>>,
    pub certifications: Option<Vec<Certification>>,
    #[schema(max_items = 10)]
    pub images: Option<Vec<ImageUrl>>,
    /// SKUs to create or update, matched by `code`; SKUs not listed stay as they are.
    #[schema(max_items = 50)]
    pub skus: Option<Vec<SkuInput>>,
}

/// Present-and-null becomes `Some(None)`; absent stays `None` (via `default`).
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl ProductPatch {
    /// The product as it would be after this patch.
    pub fn apply(self, mut current: ProductInput) -> ProductInput {
        if let Some(v) = self.name {
            current.name = v;
        }
        if let Some(v) = self.subtitle {
            current.subtitle = v;
        }
        if let Some(v) = self.description {
            current.description = v;
        }
        if let Some(v) = self.category_id {
            current.category_id = v;
        }
        if let Some(v) = self.origin {
            current.origin = v;
        }
        if let Some(v) = self.storage {
            current.storage = v;
        }
        if let Some(v) = self.shelf_life_days {
            current.shelf_life_days = v;
        }
        if let Some(v) = self.certifications {
            current.certifications = v;
        }
        if let Some(v) = self.images {
            current.images = v;
        }
        if let Some(skus) = self.skus {
            for sku in skus {
                match current
                    .skus
                    .iter_mut()
                    .find(|s| s.code.0.trim() == sku.code.0.trim())
                {
                    Some(existing) => *existing = sku,
                    None => current.skus.push(sku),
                }
            }
        }
        current
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub min_quantity: i64,
    pub unit_price: Money,
}

#[derive(Debug, Clone)]
pub struct SkuDraft {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub net_weight_grams: i64,
    pub price: Money,
    pub sales_channel: SalesChannel,
    pub min_order_quantity: Option<i64>,
    pub tiers: Vec<Tier>,
    pub low_stock_threshold: i64,
    pub lot_tracked: bool,
    pub pricing: Pricing,
}

#[derive(Debug, Clone)]
pub struct ProductDraft {
    pub name: String,
    pub subtitle: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<CategoryId>,
    pub origin: String,
    pub storage: Storage,
    pub shelf_life_days: Option<i32>,
    pub certifications: Vec<String>,
    pub images: Vec<String>,
    pub skus: Vec<SkuDraft>,
}

impl ProductDraft {
    /// What price sorts and filters use: the lowest retail price, or the lowest price when
    /// no SKU sells retail.
    pub fn sort_price(&self) -> Money {
        let retail = self
            .skus
            .iter()
            .filter(|s| s.sales_channel.sells_retail())
            .map(|s| s.price)
            .min();
        retail
            .or_else(|| self.skus.iter().map(|s| s.price).min())
            .unwrap_or(Money::ZERO)
    }
}

fn parse_sku(f: &mut Fields, at: &str, s: SkuInput) -> Option<SkuDraft> {
    let code = f.check(&format!("{at}.code"), s.code.parse());
    let name = f.check(&format!("{at}.name"), s.name.parse());
    let unit = f.check(&format!("{at}.unit"), s.unit.parse());
    if s.net_weight_grams <= 0 || s.net_weight_grams > 2_000_000 {
        f.push(
            format!("{at}.net_weight_grams"),
            "must be between 1 and 2,000,000 grams",
        );
    }
    if let Some(moq) = s.min_order_quantity {
        if !(1..=1_000_000).contains(&moq) {
            f.push(
                format!("{at}.min_order_quantity"),
                "must be between 1 and 1,000,000",
            );
        }
    }
    let threshold = s.low_stock_threshold.unwrap_or(10);
    if !(0..=1_000_000).contains(&threshold) {
        f.push(
            format!("{at}.low_stock_threshold"),
            "must be between 0 and 1,000,000",
        );
    }
    if s.tiers.len() > MAX_TIERS {
        f.push(format!("{at}.tiers"), format!("at most {MAX_TIERS} tiers"));
    }
    let mut previous = 0;
    for (j, t) in s.tiers.iter().enumerate() {
        if t.min_quantity < 1 {
            f.push(
                format!("{at}.tiers[{j}].min_quantity"),
                "must be at least 1",
            );
        } else if t.min_quantity <= previous {
            f.push(
                format!("{at}.tiers[{j}].min_quantity"),
                "tiers must have strictly increasing min_quantity",
            );
        }
        previous = previous.max(t.min_quantity);
        if t.unit_price > s.price {
            f.push(
                format!("{at}.tiers[{j}].unit_price"),
                "a tier price may not be above the SKU's price",
            );
        }
    }
    Some(SkuDraft {
        code: code?,
        name: name?,
        unit: unit?,
        net_weight_grams: s.net_weight_grams,
        price: s.price,
        sales_channel: s.sales_channel,
        min_order_quantity: s.min_order_quantity,
        tiers: s
            .tiers
            .iter()
            .map(|t| Tier {
                min_quantity: t.min_quantity,
                unit_price: t.unit_price,
            })
            .collect(),
        low_stock_threshold: threshold,
        lot_tracked: s.lot_tracked.unwrap_or(false),
        pricing: s.pricing.unwrap_or_default(),
    })
}

impl TryFrom<ProductInput> for ProductDraft {
    type Error = ApiError;

    fn try_from(p: ProductInput) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let name = f.check("name", p.name.parse());
        let subtitle = f.check("subtitle", Prose::parse_opt(&p.subtitle));
        let description = f.check("description", Prose::parse_opt(&p.description));
        let origin = f.check("origin", p.origin.parse());
        let shelf_life_days = match p.shelf_life_days {
            None => Some(None),
            Some(d) if (1..=3650).contains(&d) => Some(Some(d as i32)),
            Some(_) => {
                f.push("shelf_life_days", "must be between 1 and 3650");
                None
            }
        };
        let mut certifications = Vec::new();
        for c in &p.certifications {
            if !certifications.iter().any(|x| x == c.as_str()) {
                certifications.push(c.as_str().to_owned());
            }
        }
        if p.images.len() > MAX_IMAGES {
            f.push("images", format!("at most {MAX_IMAGES} images"));
        }
        let images: Vec<String> = p
            .images
            .iter()
            .enumerate()
            .filter_map(|(i, u)| f.check(&format!("images[{i}]"), u.parse()))
            .collect();
        if p.skus.is_empty() {
            f.push("skus", "a product needs at least one SKU");
        }
        if p.skus.len() > MAX_SKUS {
            f.push("skus", format!("at most {MAX_SKUS} SKUs"));
        }
        let mut skus = Vec::new();
        let mut duplicate = None;
        for (i, s) in p.skus.into_iter().enumerate() {
            let at = format!("skus[{i}]");
            if let Some(sku) = parse_sku(&mut f, &at, s) {
                if skus.iter().any(|x: &SkuDraft| x.code == sku.code) {
                    duplicate = Some(sku.code.clone());
                }
                skus.push(sku);
            }
        }
        // a code given twice is the contract's duplicate-code conflict, once all else is valid
        if let (Some(code), true) = (duplicate, f.is_empty()) {
            return Err(ApiError::Conflict(format!(
                "the SKU code {code} appears twice in this product"
            )));
        }
        let value = (|| {
            Some(ProductDraft {
                name: name?,
                subtitle: subtitle?,
                description: description?,
                category_id: p.category_id,
                origin: origin?,
                storage: p.storage,
                shelf_life_days: shelf_life_days?,
                certifications,
                images,
                skus,
            })
        })();
        f.finish(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(code: &str, price: &str, channel: SalesChannel) -> SkuInput {
        SkuInput {
            code: code.into(),
            name: "5 kg 袋".into(),
            unit: "袋".into(),
            net_weight_grams: 5000,
            price: price.parse().unwrap(),
            sales_channel: channel,
            min_order_quantity: None,
            tiers: vec![],
            low_stock_threshold: None,
            lot_tracked: None,
            pricing: None,
        }
    }

    fn product(skus: Vec<SkuInput>) -> ProductInput {
        ProductInput {
            name: "有机大米".into(),
            subtitle: None,
            description: None,
            category_id: None,
            origin: "黑龙江鹤岗绥滨县".into(),
            storage: Storage::Ambient,
            shelf_life_days: Some(365),
            certifications: vec![Certification::Organic],
            images: vec!["https://img.example.cn/rice.jpg".into()],
            skus,
        }
    }

    #[test]
    fn sort_price_prefers_retail() {
        let d = ProductDraft::try_from(product(vec![
            sku("W", "10.00", SalesChannel::Wholesale),
            sku("R", "59.90", SalesChannel::Retail),
        ]))
        .unwrap();
        assert_eq!(d.sort_price(), "59.90".parse().unwrap());
        let d = ProductDraft::try_from(product(vec![sku("W", "10.00", SalesChannel::Wholesale)]))
            .unwrap();
        assert_eq!(d.sort_price(), "10.00".parse().unwrap());
    }

    #[test]
    fn tiers_must_increase_and_stay_below_price() {
        let mut s = sku("R25", "200.00", SalesChannel::Both);
        s.tiers = vec![
            TierInput {
                min_quantity: 10,
                unit_price: "190.00".parse().unwrap(),
            },
            TierInput {
                min_quantity: 10,
                unit_price: "180.00".parse().unwrap(),
            },
            TierInput {
                min_quantity: 50,
                unit_price: "210.00".parse().unwrap(),
            },
        ];
        let err = ProductDraft::try_from(product(vec![s])).unwrap_err();
        let ApiError::Validation(errors) = err else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "skus[0].tiers[1].min_quantity",
                "skus[0].tiers[2].unit_price"
            ]
        );
    }

    #[test]
    fn bad_images_are_named() {
        let mut p = product(vec![sku("A", "1.00", SalesChannel::Retail)]);
        p.images = vec!["https://a.cn/x.jpg".into(), "javascript:alert(1)".into()];
        let ApiError::Validation(errors) = ProductDraft::try_from(p).unwrap_err() else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["images[1]"]);
    }

    #[test]
    fn patch_overlays_and_upserts_skus_by_code() {
        let base = product(vec![sku("A", "1.00", SalesChannel::Retail)]);
        let patch = ProductPatch {
            name: Some("新米".into()),
            subtitle: Some(Some("当季".into())),
            skus: Some(vec![
                sku("A", "2.00", SalesChannel::Retail),
                sku("B", "3.00", SalesChannel::Retail),
            ]),
            ..Default::default()
        };
        let after = patch.apply(base);
        assert_eq!(after.name.0, "新米");
        assert_eq!(after.subtitle.map(|s| s.0).as_deref(), Some("当季"));
        assert_eq!(after.skus.len(), 2);
        assert_eq!(after.skus[0].price, "2.00".parse().unwrap());
    }
}
