//! `shanhe demo --products N`: tops the demo marketplace up to N products from many co-ops,
//! so catalogue pages can be measured at the size a real marketplace reaches. Names,
//! subtitles and descriptions are drawn from the produce both cities trade, so Chinese
//! searches (米, 大米, 有机大米, 黑土地冻梨) match as they would in life: some words
//! everywhere, some rare. Deterministic: the same N gives the same catalogue.
//!
//! Every product goes through the catalogue's own insert (so the search index is written as
//! it would be by a co-op), is published, and gets three SKUs with stock in nine of ten.

use crate::catalogue::categories;
use crate::catalogue::domain::{ProductStatus, SalesChannel, Storage};
use crate::catalogue::product::{ProductDraft, ProductInput, SkuInput};
use crate::catalogue::repo as products;
use crate::cooperatives::domain::{NewCooperative, NewWarehouse};
use crate::cooperatives::repo as coops;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::{CooperativeId, WarehouseId};

/// Products per generated co-op.
const PER_COOP: usize = 200;
/// Products written per transaction.
const BATCH: usize = 500;

struct Produce {
    word: &'static str,
    category: [&'static str; 2],
    storage: Storage,
    /// (pack name, unit, grams, price in yuan)
    packs: [(&'static str, &'static str, i64, i64); 3],
    image: &'static str,
    traits: [&'static str; 3],
}

const fn p(
    word: &'static str,
    category: [&'static str; 2],
    storage: Storage,
    packs: [(&'static str, &'static str, i64, i64); 3],
    image: &'static str,
    traits: [&'static str; 3],
) -> Produce {
    Produce {
        word,
        category,
        storage,
        packs,
        image,
        traits,
    }
}

const RICE: &str = "/static/img/rice.svg";
const PEAR: &str = "/static/img/frozen-pear.svg";
const TEA: &str = "/static/img/chrysanthemum.svg";
const SILK: &str = "/static/img/silk-rice.svg";
const BAG: [(&str, &str, i64, i64); 3] = [
    ("2.5kg 袋", "袋", 2_500, 39),
    ("5kg 袋", "袋", 5_000, 69),
    ("10kg 箱", "箱", 10_000, 129),
];
const BOX: [(&str, &str, i64, i64); 3] = [
    ("500g 盒", "盒", 500, 29),
    ("1kg 盒", "盒", 1_000, 49),
    ("2.5kg 箱", "箱", 2_500, 99),
];
const JAR: [(&str, &str, i64, i64); 3] = [
    ("250g 罐", "罐", 250, 38),
    ("500g 罐", "罐", 500, 68),
    ("1kg 礼盒", "盒", 1_000, 128),
];

const PRODUCE: &[Produce] = &[
    p(
        "大米",
        ["粮油", "大米"],
        Storage::Ambient,
        BAG,
        RICE,
        ["米粒饱满", "蒸饭香软", "一年一季"],
    ),
    p(
        "稻花香米",
        ["粮油", "大米"],
        Storage::Ambient,
        BAG,
        RICE,
        ["稻花香型", "寒地慢长", "粒长油润"],
    ),
    p(
        "丝苗米",
        ["粮油", "大米"],
        Storage::Ambient,
        BAG,
        SILK,
        ["米粒细长", "潮汕人家常吃", "煮粥绵滑"],
    ),
    p(
        "小米",
        ["粮油", "杂粮"],
        Storage::Ambient,
        BOX,
        RICE,
        ["金黄小粒", "熬粥起油", "旱地种植"],
    ),
    p(
        "玉米碴",
        ["粮油", "杂粮"],
        Storage::Ambient,
        BOX,
        RICE,
        ["粗细均匀", "东北家常", "熬粥顶饱"],
    ),
    p(
        "大豆",
        ["粮油", "杂粮"],
        Storage::Ambient,
        BAG,
        RICE,
        ["非转基因", "颗粒圆整", "磨浆出浆高"],
    ),
    p(
        "黑豆",
        ["粮油", "杂粮"],
        Storage::Ambient,
        BOX,
        RICE,
        ["青仁黑豆", "煲汤养人", "颗粒匀净"],
    ),
    p(
        "豆油",
        ["粮油", "食用油"],
        Storage::Ambient,
        JAR,
        RICE,
        ["物理压榨", "豆香浓郁", "清亮无沉淀"],
    ),
    p(
        "冻梨",
        ["冻品", "冻果"],
        Storage::Frozen,
        BOX,
        PEAR,
        ["自然冷冻", "化开汁多", "酸甜解腻"],
    ),
    p(
        "冻柿子",
        ["冻品", "冻果"],
        Storage::Frozen,
        BOX,
        PEAR,
        ["冻透再发", "冰沙口感", "东北年货"],
    ),
    p(
        "蓝莓",
        ["果蔬", "浆果"],
        Storage::Chilled,
        BOX,
        PEAR,
        ["野生小果", "花青素高", "冷链直达"],
    ),
    p(
        "黑木耳",
        ["山货", "菌菇"],
        Storage::Ambient,
        JAR,
        RICE,
        ["椴木秋耳", "泡发率高", "肉厚脆嫩"],
    ),
    p(
        "榛蘑",
        ["山货", "菌菇"],
        Storage::Ambient,
        JAR,
        RICE,
        ["林下采摘", "炖鸡提鲜", "晒干保存"],
    ),
    p(
        "椴树蜜",
        ["山货", "蜂蜜"],
        Storage::Ambient,
        JAR,
        TEA,
        ["结晶洁白", "椴树花期采", "清甜不腻"],
    ),
    p(
        "菊花",
        ["茶饮", "花草茶"],
        Storage::Ambient,
        JAR,
        TEA,
        ["东湖原产", "花朵完整", "清热下火"],
    ),
    p(
        "单丛茶",
        ["茶饮", "乌龙茶"],
        Storage::Ambient,
        JAR,
        TEA,
        ["凤凰山高山", "蜜兰香型", "耐泡回甘"],
    ),
    p(
        "牛肉丸",
        ["冻品", "潮汕风味"],
        Storage::Frozen,
        BOX,
        PEAR,
        ["手打起胶", "弹牙爆汁", "潮汕做法"],
    ),
    p(
        "鱼丸",
        ["冻品", "潮汕风味"],
        Storage::Frozen,
        BOX,
        PEAR,
        ["鲜鱼现打", "爽滑有嚼劲", "火锅常备"],
    ),
    p(
        "橄榄",
        ["果蔬", "水果"],
        Storage::Chilled,
        BOX,
        TEA,
        ["青橄榄", "先涩后甘", "潮汕茶配"],
    ),
    p(
        "土豆",
        ["果蔬", "蔬菜"],
        Storage::Ambient,
        BAG,
        RICE,
        ["黑土地沙瓤", "个大皮薄", "炖菜绵软"],
    ),
];

const PREFIXES: &[&str] = &[
    "有机",
    "黑土地",
    "绿色",
    "寒地",
    "东北",
    "鹤岗",
    "农家",
    "精选",
    "特级",
    "新季",
    "潮汕",
    "",
];

/// (province, city, county): where the generated co-ops are
const PLACES: &[(&str, &str, &str)] = &[
    ("黑龙江省", "鹤岗市", "绥滨县"),
    ("黑龙江省", "鹤岗市", "萝北县"),
    ("黑龙江省", "鹤岗市", "东山区"),
    ("黑龙江省", "鹤岗市", "兴山区"),
    ("黑龙江省", "鹤岗市", "向阳区"),
    ("黑龙江省", "鹤岗市", "工农区"),
    ("黑龙江省", "鹤岗市", "南山区"),
    ("黑龙江省", "鹤岗市", "兴安区"),
    ("广东省", "汕头市", "潮阳区"),
    ("广东省", "汕头市", "潮南区"),
    ("广东省", "汕头市", "澄海区"),
    ("广东省", "汕头市", "南澳县"),
];

/// A small deterministic generator (xorshift), so N products are the same N every time.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[(self.next() % from.len() as u64) as usize]
    }
}

fn product_input(n: usize, county: &str, draw: &mut Draw) -> (ProductInput, [&'static str; 2]) {
    let produce = draw.pick(PRODUCE);
    let prefix = draw.pick(PREFIXES);
    let [t1, t2, t3] = produce.traits;
    let lead = draw.pick(&produce.traits);
    let other = draw.pick(PRODUCE);
    let name = format!("{prefix}{} {}号", produce.word, n % 997 + 1);
    let subtitle = format!("{county}产地直发 · {lead}");
    let description = format!(
        "产自{county}的{}，{t1}，{t2}，{t3}。合作社统一收购、分拣、包装，{}。常和{}一起下单。",
        produce.word,
        match produce.storage {
            Storage::Frozen => "全程零下十八度冷链发往汕头",
            Storage::Chilled => "零到四度冷藏车发货",
            Storage::Ambient => "常温物流，阴凉干燥处保存",
        },
        other.word
    );
    let cents = (draw.next() % 20) as i64;
    let skus = produce
        .packs
        .iter()
        .enumerate()
        .map(|(i, (pack, unit, grams, yuan))| SkuInput {
            code: format!("BIG-{n:06}-{}", i + 1).into(),
            name: (*pack).into(),
            unit: (*unit).into(),
            net_weight_grams: *grams,
            price: crate::money::Money::from_fen(yuan * 100 + cents * 10),
            sales_channel: SalesChannel::Retail,
            min_order_quantity: None,
            tiers: vec![],
            low_stock_threshold: None,
            lot_tracked: None,
            pricing: None,
        })
        .collect();
    let input = ProductInput {
        category_id: None,
        name: name.into(),
        subtitle: Some(subtitle.into()),
        description: Some(description.into()),
        origin: county.into(),
        storage: produce.storage,
        shelf_life_days: match produce.storage {
            Storage::Frozen => Some(180),
            Storage::Chilled => Some(14),
            Storage::Ambient => Some(365),
        },
        certifications: vec![],
        images: vec![produce.image.into()],
        skus,
    };
    (input, produce.category)
}

/// A generated co-op with a cold and an ambient warehouse.
fn generated_coop(
    conn: &mut DbConn,
    k: usize,
) -> Result<(CooperativeId, &'static str, WarehouseId, WarehouseId), ApiError> {
    let (province, city, county) = PLACES[k % PLACES.len()];
    let name = format!("{county}第{}农产品合作社", k + 1);
    let id = match coops::find_by_name(conn, &name)? {
        Some(id) => id,
        None => {
            coops::insert(
                conn,
                &NewCooperative {
                    name: name.clone(),
                    province: province.into(),
                    city: city.into(),
                    county: county.into(),
                    description: Some(format!("{county}的农户合作社，产地直供汕头。")),
                    contact_phone: Some("13904680000".into()),
                },
            )?
            .id
        }
    };
    let mut found = coops::warehouses_of(conn, id)?;
    for cold in [true, false] {
        if !found.iter().any(|w| w.cold_storage == cold) {
            coops::insert_warehouse(
                conn,
                id,
                &NewWarehouse {
                    name: format!("{county}{}", if cold { "冷库" } else { "常温仓" }),
                    address: format!("{city}{county}物流园 {} 号", k + 1),
                    cold_storage: cold,
                },
            )?;
        }
    }
    found = coops::warehouses_of(conn, id)?;
    let of = |cold: bool| {
        found
            .iter()
            .find(|w| w.cold_storage == cold)
            .map(|w| w.id)
            .ok_or_else(|| ApiError::internal("generated co-op without its warehouses"))
    };
    Ok((id, county, of(true)?, of(false)?))
}

/// Adds generated products until the catalogue holds `target` products in all; returns how
/// many it added. `progress` hears the running total after each batch.
pub fn top_up(
    conn: &mut DbConn,
    target: usize,
    mut progress: impl FnMut(usize),
) -> Result<usize, ApiError> {
    let mut have = products::count_all(conn)?;
    let mut added = 0;
    while have < target {
        let batch = (target - have).min(BATCH);
        db::write_tx(conn, |conn| {
            let mut coop = None;
            for n in have..have + batch {
                let k = n / PER_COOP;
                if coop.as_ref().is_none_or(|(kk, _)| *kk != k) {
                    coop = Some((k, generated_coop(conn, k)?));
                }
                let Some((_, (coop_id, county, cold, ambient))) = coop else {
                    continue;
                };
                let mut draw =
                    Draw(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1).wrapping_mul(0x2545_F491));
                for _ in 0..3 {
                    draw.next();
                }
                let (mut input, [parent, child]) = product_input(n, county, &mut draw);
                let parent_id = categories::ensure(conn, parent, None)?;
                input.category_id = Some(categories::ensure(conn, child, Some(parent_id))?);
                let warehouse = if input.storage == Storage::Ambient {
                    ambient
                } else {
                    cold
                };
                let draft = ProductDraft::try_from(input)?;
                let product_id = products::insert_product(conn, coop_id, &draft)?;
                let row = products::find_product(conn, product_id)?.ok_or(ApiError::NotFound)?;
                products::change_status(conn, &row, ProductStatus::Published)?;
                for s in products::skus_of(conn, product_id)? {
                    // one SKU in ten sold out
                    if draw.next() % 10 == 0 {
                        continue;
                    }
                    let units = 20 + (draw.next() % 480) as i64;
                    super::demo::receive_units(conn, s.id, warehouse, coop_id, units)?;
                }
            }
            Ok::<_, ApiError>(())
        })?;
        have += batch;
        added += batch;
        progress(have);
    }
    if added > 0 {
        crate::catalogue::search_index::tidy(conn)?;
    }
    Ok(added)
}
