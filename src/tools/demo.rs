//! The demo marketplace: the Shantou–Hegang pairing as a newcomer would want to see it.
//! Loading is idempotent — everything is found by its natural key first — so running it twice
//! changes nothing.

use crate::auth::{self, Role};
use crate::catalogue::categories;
use crate::catalogue::domain::{ProductStatus, SalesChannel, Storage};
use crate::catalogue::for_sale;
use crate::catalogue::product::{Certification, ProductDraft, ProductInput, SkuInput, TierInput};
use crate::catalogue::repo as products;
use crate::cooperatives::domain::{NewCooperative, NewWarehouse};
use crate::cooperatives::repo as coops;
use crate::cooperatives::{access, CoopRole};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{CooperativeId, SkuId, UserId, WarehouseId};
use crate::inventory::domain::MovementKind;
use crate::inventory::lots::{self, domain::Receipt};
use crate::inventory::repo as stock;

/// A demo login printed at the end.
pub struct DemoAccount {
    pub email: &'static str,
    pub password: &'static str,
    pub what: &'static str,
}

pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        email: "admin@demo.shanhe.cn",
        password: "demo-admin-2026",
        what: "platform admin",
    },
    DemoAccount {
        email: "suibin@demo.shanhe.cn",
        password: "demo-coop-2026",
        what: "owner, 绥滨县黑土地水稻合作社 (鹤岗)",
    },
    DemoAccount {
        email: "luobei@demo.shanhe.cn",
        password: "demo-coop-2026",
        what: "owner, 萝北县冻梨合作社 (鹤岗)",
    },
    DemoAccount {
        email: "chaoyang@demo.shanhe.cn",
        password: "demo-coop-2026",
        what: "owner, 潮阳区农产品合作社 (汕头)",
    },
    DemoAccount {
        email: "shopper@demo.shanhe.cn",
        password: "demo-shopper-2026",
        what: "shopper in Shantou",
    },
];

struct CoopSpec {
    name: &'static str,
    province: &'static str,
    city: &'static str,
    county: &'static str,
    description: &'static str,
    owner: &'static str,
    warehouses: &'static [(&'static str, &'static str, bool)],
    /// The cold-truck timetable (JSON as `PUT /cooperatives/{id}/departures` takes it)
    departures: &'static str,
}

const COOPS: &[CoopSpec] = &[
    CoopSpec {
        name: "绥滨县黑土地水稻合作社",
        province: "黑龙江省",
        city: "鹤岗市",
        county: "绥滨县",
        description: "松花江与黑龙江交汇处的寒地黑土，一年一季有机稻。",
        owner: "suibin@demo.shanhe.cn",
        warehouses: &[("绥滨常温仓", "鹤岗市绥滨县绥滨镇粮库路 8 号", false)],
        departures: r#"{"departures":[{"weekday":2,"cutoff":"18:00","capacity_kg":2000},{"weekday":5,"cutoff":"18:00","capacity_kg":2000}]}"#,
    },
    CoopSpec {
        name: "萝北县冻梨合作社",
        province: "黑龙江省",
        city: "鹤岗市",
        county: "萝北县",
        description: "秋子梨自然冷冻，切片即食。",
        owner: "luobei@demo.shanhe.cn",
        warehouses: &[
            ("萝北冷库", "鹤岗市萝北县凤翔镇冷链园 2 号", true),
            ("萝北常温仓", "鹤岗市萝北县凤翔镇兴业街 5 号", false),
        ],
        departures: r#"{"departures":[{"weekday":1,"cutoff":"16:00","capacity_kg":1500},{"weekday":4,"cutoff":"16:00","capacity_kg":1500}]}"#,
    },
    CoopSpec {
        name: "潮阳区农产品合作社",
        province: "广东省",
        city: "汕头市",
        county: "潮阳区",
        description: "汕头特产北上：东湖菊花、潮阳丝苗米。",
        owner: "chaoyang@demo.shanhe.cn",
        warehouses: &[("潮阳仓", "汕头市潮阳区棉城镇东山大道 18 号", false)],
        departures: r#"{"departures":[{"weekday":3,"cutoff":"20:00","capacity_kg":800}]}"#,
    },
];

fn m(s: &str) -> crate::money::Money {
    s.parse().unwrap_or_default()
}

fn sku(
    code: &str,
    name: &str,
    unit: &str,
    grams: i64,
    price: &str,
    channel: SalesChannel,
) -> SkuInput {
    SkuInput {
        code: code.into(),
        name: name.into(),
        unit: unit.into(),
        net_weight_grams: grams,
        price: m(price),
        sales_channel: channel,
        min_order_quantity: None,
        tiers: vec![],
        low_stock_threshold: None,
        lot_tracked: None,
        pricing: None,
    }
}

/// A SKU whose stock is held in dated lots.
fn tracked(mut s: SkuInput) -> SkuInput {
    s.lot_tracked = Some(true);
    s
}

/// (co-op, category path, product, units to stock per SKU)
fn products() -> Vec<(&'static str, [&'static str; 2], ProductInput, i64)> {
    let mut sack = sku(
        "SB-RICE-25KG",
        "25 kg 麻袋（批发）",
        "袋",
        25_000,
        "240.00",
        SalesChannel::Wholesale,
    );
    sack.min_order_quantity = Some(4);
    sack.tiers = vec![
        TierInput {
            min_quantity: 10,
            unit_price: m("225.00"),
        },
        TierInput {
            min_quantity: 40,
            unit_price: m("210.00"),
        },
    ];
    let mut silk_sack = sku(
        "CY-SMM-20KG",
        "20 kg 袋（批发）",
        "袋",
        20_000,
        "150.00",
        SalesChannel::Wholesale,
    );
    silk_sack.min_order_quantity = Some(5);
    silk_sack.tiers = vec![TierInput {
        min_quantity: 20,
        unit_price: m("138.00"),
    }];
    vec![
        (
            "绥滨县黑土地水稻合作社",
            ["粮油", "大米"],
            ProductInput {
                name: "有机大米".into(),
                subtitle: Some("绥滨县寒地黑土当季新米".into()),
                description: Some("一年一季，稻花香型，有机认证。".into()),
                category_id: None,
                origin: "黑龙江省鹤岗市绥滨县".into(),
                storage: Storage::Ambient,
                shelf_life_days: Some(365),
                certifications: vec![
                    Certification::Organic,
                    Certification::GeographicalIndication,
                ],
                images: vec!["/static/img/rice.svg".into()],
                skus: vec![
                    tracked(sku(
                        "SB-RICE-5KG",
                        "5 kg 袋",
                        "袋",
                        5_000,
                        "59.90",
                        SalesChannel::Retail,
                    )),
                    tracked(sku(
                        "SB-RICE-10KG",
                        "10 kg 箱",
                        "箱",
                        10_000,
                        "109.00",
                        SalesChannel::Both,
                    )),
                    sack,
                ],
            },
            200,
        ),
        (
            "萝北县冻梨合作社",
            ["冻品", "冻果"],
            ProductInput {
                name: "冻梨切片".into(),
                subtitle: Some("萝北秋子梨，解冻即食".into()),
                description: Some("零下 18 度冷链直发汕头。".into()),
                category_id: None,
                origin: "黑龙江省鹤岗市萝北县".into(),
                storage: Storage::Frozen,
                shelf_life_days: Some(180),
                certifications: vec![Certification::GreenFood],
                images: vec!["/static/img/frozen-pear.svg".into()],
                skus: vec![
                    tracked(sku(
                        "LB-PEAR-500G",
                        "500 g 盒",
                        "盒",
                        500,
                        "29.90",
                        SalesChannel::Retail,
                    )),
                    tracked(sku(
                        "LB-PEAR-5KG",
                        "5 kg 箱",
                        "箱",
                        5_000,
                        "238.00",
                        SalesChannel::Both,
                    )),
                ],
            },
            150,
        ),
        (
            "潮阳区农产品合作社",
            ["茶饮", "花草茶"],
            ProductInput {
                name: "东湖菊花".into(),
                subtitle: Some("汕头东湖胎菊".into()),
                description: Some("清热降火，配冻梨更润。".into()),
                category_id: None,
                origin: "广东省汕头市".into(),
                storage: Storage::Ambient,
                shelf_life_days: Some(540),
                certifications: vec![],
                images: vec!["/static/img/chrysanthemum.svg".into()],
                skus: vec![sku(
                    "CY-JH-100G",
                    "100 g 罐",
                    "罐",
                    100,
                    "38.00",
                    SalesChannel::Retail,
                )],
            },
            120,
        ),
        (
            "潮阳区农产品合作社",
            ["粮油", "大米"],
            ProductInput {
                name: "潮阳丝苗米".into(),
                subtitle: Some("粒长晶莹，潮汕人家常米".into()),
                description: None,
                category_id: None,
                origin: "广东省汕头市潮阳区".into(),
                storage: Storage::Ambient,
                shelf_life_days: Some(365),
                certifications: vec![Certification::PollutionFree],
                images: vec!["/static/img/silk-rice.svg".into()],
                skus: vec![
                    sku(
                        "CY-SMM-5KG",
                        "5 kg 袋",
                        "袋",
                        5_000,
                        "45.50",
                        SalesChannel::Retail,
                    ),
                    silk_sack,
                ],
            },
            300,
        ),
    ]
}

fn ensure_user(conn: &mut DbConn, account: &DemoAccount, role: Role) -> Result<UserId, ApiError> {
    if let Some(u) = auth::repo::find_by_email(conn, account.email)? {
        return Ok(u.id);
    }
    let hash = auth::password::hash(account.password).map_err(ApiError::internal)?;
    let now = db::now();
    let id = UserId::generate();
    auth::repo::insert_user(
        conn,
        &auth::repo::NewUser {
            id,
            email: account.email,
            display_name: account.email.split('@').next().unwrap_or("demo"),
            phone: None,
            role,
            password_hash: &hash,
            created_at: now,
            updated_at: now,
        },
    )?;
    Ok(id)
}

fn ensure_coop(conn: &mut DbConn, spec: &CoopSpec) -> Result<CooperativeId, ApiError> {
    let id = match coops::find_by_name(conn, spec.name)? {
        Some(id) => id,
        None => {
            coops::insert(
                conn,
                &NewCooperative {
                    name: spec.name.into(),
                    province: spec.province.into(),
                    city: spec.city.into(),
                    county: spec.county.into(),
                    description: Some(spec.description.into()),
                    contact_phone: Some("13904680000".into()),
                },
            )?
            .id
        }
    };
    let account = ACCOUNTS
        .iter()
        .find(|a| a.email == spec.owner)
        .ok_or_else(|| ApiError::internal("demo owner missing"))?;
    let owner = ensure_user(conn, account, Role::Customer)?;
    if !access::is_member(conn, id, owner)? {
        access::add_member(conn, id, owner, CoopRole::Owner)?;
    }
    if coops::departures_of(conn, id)?.is_none() {
        let timetable: crate::delivery::departures::Timetable =
            serde_json::from_str(spec.departures).map_err(|e| ApiError::internal(e.to_string()))?;
        crate::delivery::departures::parse(&timetable)?;
        coops::set_departures(conn, id, Some(spec.departures))?;
    }
    let existing = coops::warehouses_of(conn, id)?;
    for (name, address, cold) in spec.warehouses {
        if !existing.iter().any(|w| w.name == *name) {
            coops::insert_warehouse(
                conn,
                id,
                &NewWarehouse {
                    name: (*name).into(),
                    address: (*address).into(),
                    cold_storage: *cold,
                },
            )?;
        }
    }
    Ok(id)
}

/// Three lots of a lot-tracked SKU, so first-expired-first-out shows: one a week from its
/// date (on the co-op console's 7-day list, and still sold first: from the pear co-op's
/// twice-weekly truck a Guangdong parcel arrives within 7 days whatever the day it is ordered;
/// with 5 days left it was refused, correctly, on the days the next truck was further off),
/// one half-way, one just packed.
fn receive_demo_lots(
    conn: &mut DbConn,
    coop: CooperativeId,
    code: &str,
    sku_id: SkuId,
    warehouse_id: WarehouseId,
    units: i64,
    shelf_life_days: i64,
) -> Result<(), ApiError> {
    let today = lots::domain::today();
    let days = chrono::Duration::days;
    let ages = [shelf_life_days - 7, shelf_life_days / 2, 2];
    let shares = [units / 5, units * 2 / 5, units - units / 5 - units * 2 / 5];
    for (i, (age, quantity)) in ages.into_iter().zip(shares).enumerate() {
        let packed_on = today - days(age.max(0));
        let receipt = Receipt {
            sku_id,
            warehouse_id,
            code: format!("{code}-L{}", i + 1),
            quantity,
            harvested_on: Some(packed_on - days(3)),
            packed_on,
            best_before: Some(packed_on + days(shelf_life_days)),
            origin: None,
            certificate_no: None,
        };
        lots::receive(conn, coop, &receipt, None)?;
    }
    Ok(())
}

/// Receives `units` of an untracked SKU into a warehouse, as a recorded receipt.
pub(crate) fn receive_units(
    conn: &mut DbConn,
    sku: SkuId,
    warehouse: WarehouseId,
    coop: CooperativeId,
    units: i64,
) -> Result<(), ApiError> {
    stock::ensure_row(conn, sku, warehouse, coop)?;
    stock::apply_delta(
        conn,
        sku,
        warehouse,
        units,
        MovementKind::Receipt,
        Some("演示数据入库"),
        None,
    )?;
    Ok(())
}

/// What loading did, for the command's output.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub products_created: usize,
}

/// Loads the demo marketplace in one transaction.
pub fn load(conn: &mut DbConn) -> Result<Loaded, ApiError> {
    db::write_tx(conn, |conn| {
        for a in ACCOUNTS {
            let role = if a.email.starts_with("admin@") {
                Role::Admin
            } else {
                Role::Customer
            };
            ensure_user(conn, a, role)?;
        }
        let mut coop_ids = std::collections::HashMap::new();
        for spec in COOPS {
            coop_ids.insert(spec.name, ensure_coop(conn, spec)?);
        }
        for name in ["粮油", "果蔬", "冻品", "茶饮"] {
            categories::ensure(conn, name, None)?;
        }
        let mut loaded = Loaded::default();
        for (coop_name, [parent, child], mut input, units) in products() {
            let coop = *coop_ids
                .get(coop_name)
                .ok_or_else(|| ApiError::internal("demo co-op missing"))?;
            let first_code = input.skus[0].code.clone();
            let exists = for_sale::by_codes(conn, &[first_code.0.as_str()])?
                .iter()
                .any(|(_, _, c)| *c == coop);
            if exists {
                continue;
            }
            let parent_id = categories::ensure(conn, parent, None)?;
            let child_id = categories::ensure(conn, child, Some(parent_id))?;
            input.category_id = Some(child_id);
            let cold = input.storage != Storage::Ambient;
            let shelf_life = input.shelf_life_days.unwrap_or(365);
            let draft = ProductDraft::try_from(input)?;
            let product_id = products::insert_product(conn, coop, &draft)?;
            let row = products::find_product(conn, product_id)?.ok_or(ApiError::NotFound)?;
            products::change_status(conn, &row, ProductStatus::Published)?;
            let warehouse: WarehouseId = coops::warehouses_of(conn, coop)?
                .into_iter()
                .find(|w| w.cold_storage == cold)
                .map(|w| w.id)
                .ok_or_else(|| ApiError::internal("demo co-op without a fitting warehouse"))?;
            for s in products::skus_of(conn, product_id)? {
                if s.lot_tracked {
                    receive_demo_lots(conn, coop, &s.code, s.id, warehouse, units, shelf_life)?;
                    continue;
                }
                receive_units(conn, s.id, warehouse, coop, units)?;
            }
            loaded.products_created += 1;
        }
        Ok(loaded)
    })
}
