use std::collections::HashSet;

use awc::http::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_new_product_is_a_hidden_draft_until_published() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨县黑土地水稻合作社").await;
    let product = app
        .create_product(&owner, &coop, rice_product("RICE"))
        .await;
    assert_eq!(product["status"], "draft");
    assert_eq!(product["cooperative_id"], coop);
    assert_eq!(product["version"], 1);
    assert_eq!(product["skus"].as_array().unwrap().len(), 3);
    assert_eq!(
        product["skus"][2]["tiers"][0],
        json!({"min_quantity": 10, "unit_price": "225.00"})
    );
    assert_eq!(product["skus"][0]["available"], 0);
    assert_eq!(product["price"], "59.90");
    let id = product["id"].as_str().unwrap();
    let path = format!("/api/v1/products/{id}");

    app.get(&path, None).await.expect_problem(404, "not_found");
    let stranger = app.register("shopper@example.cn").await;
    app.get(&path, Some(&stranger.token))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        names(&app.get("/api/v1/products", None).await.expect(200)),
        Vec::<String>::new()
    );
    app.get(&path, Some(&owner.token)).await.expect(200);
    app.get(&path, Some(&app.admin().await.token))
        .await
        .expect(200);

    let published = app.publish_product(&owner, id).await;
    assert_eq!(published["status"], "published");
    assert_eq!(published["version"], 2);
    let got = app.get(&path, None).await;
    assert_eq!(got.header("etag").as_deref(), Some("\"2\""));
    let got = got.expect(200);
    assert_eq!(got["cooperative"]["name"], "绥滨县黑土地水稻合作社");
    assert_eq!(
        names(&app.get("/api/v1/products", None).await.expect(200)),
        vec!["有机大米"]
    );

    app.post(&format!("{path}/unpublish"), Some(&owner.token), json!({}))
        .await
        .expect(200);
    app.get(&path, None).await.expect_problem(404, "not_found");
}

#[actix_web::test]
async fn chinese_search_finds_names_first_then_descriptions() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let mut chrysanthemum = simple_product("东湖菊花", "JH-1", "38.00", "ambient");
    chrysanthemum["description"] = json!("适合配大米粥一起食用");
    let c = app.create_product(&owner, &coop, chrysanthemum).await;
    let r = app
        .create_product(&owner, &coop, rice_product("RICE"))
        .await;
    let pear = app
        .create_product(
            &owner,
            &coop,
            simple_product("冻梨切片", "DL-1", "25.00", "frozen"),
        )
        .await;
    for p in [&c, &r, &pear] {
        app.publish_product(&owner, p["id"].as_str().unwrap()).await;
    }
    let list = app
        .get("/api/v1/products?q=%E5%A4%A7%E7%B1%B3", None)
        .await
        .expect(200);
    // 有机大米 matches by name, 东湖菊花 only by description: name matches rank first
    assert_eq!(names(&list), vec!["有机大米", "东湖菊花"]);
    let list = app
        .get("/api/v1/products?q=%E5%86%BB%E6%A2%A8", None)
        .await
        .expect(200);
    assert_eq!(names(&list), vec!["冻梨切片"]);
    // wildcards in the query match themselves
    let list = app.get("/api/v1/products?q=%25", None).await.expect(200);
    assert_eq!(names(&list), Vec::<String>::new());
}

#[actix_web::test]
async fn filters_and_price_sorts_use_the_lowest_retail_price() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let (owner2, coop2) = app.coop_owner("潮阳区丝苗米合作社").await;
    let grain = app
        .post(
            "/api/v1/categories",
            Some(&admin.token),
            json!({"name": "粮油"}),
        )
        .await
        .expect(201);
    let rice_cat = app
        .post(
            "/api/v1/categories",
            Some(&admin.token),
            json!({"name": "大米", "parent_id": grain["id"]}),
        )
        .await
        .expect(201);
    let mut rice = rice_product("RICE");
    rice["category_id"] = rice_cat["id"].clone();
    let items = [
        app.create_product(&owner, &coop, rice).await,
        app.create_product(
            &owner,
            &coop,
            simple_product("冻梨切片", "DL-1", "25.00", "frozen"),
        )
        .await,
        app.create_product(
            &owner2,
            &coop2,
            simple_product("潮阳丝苗米", "SM-1", "45.50", "ambient"),
        )
        .await,
    ];
    for (i, p) in items.iter().enumerate() {
        let by = if i == 2 { &owner2 } else { &owner };
        app.publish_product(by, p["id"].as_str().unwrap()).await;
    }
    let asc = app
        .get("/api/v1/products?sort=price_asc", None)
        .await
        .expect(200);
    assert_eq!(names(&asc), vec!["冻梨切片", "潮阳丝苗米", "有机大米"]);
    let desc = app
        .get("/api/v1/products?sort=price_desc", None)
        .await
        .expect(200);
    assert_eq!(names(&desc), vec!["有机大米", "潮阳丝苗米", "冻梨切片"]);
    let band = app
        .get(
            "/api/v1/products?min_price=30&max_price=59.90&sort=price_asc",
            None,
        )
        .await
        .expect(200);
    assert_eq!(names(&band), vec!["潮阳丝苗米", "有机大米"]);
    let frozen = app
        .get("/api/v1/products?storage=frozen", None)
        .await
        .expect(200);
    assert_eq!(names(&frozen), vec!["冻梨切片"]);
    let by_coop = app
        .get(&format!("/api/v1/products?cooperative_id={coop2}"), None)
        .await
        .expect(200);
    assert_eq!(names(&by_coop), vec!["潮阳丝苗米"]);
    // the parent category finds products filed under its children
    let by_cat = app
        .get(
            &format!(
                "/api/v1/products?category_id={}",
                grain["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(names(&by_cat), vec!["有机大米"]);
    let in_stock = app
        .get("/api/v1/products?in_stock=true", None)
        .await
        .expect(200);
    assert_eq!(names(&in_stock), Vec::<String>::new());
    let cats = app.get("/api/v1/categories", None).await.expect(200);
    assert_eq!(cats["items"].as_array().unwrap().len(), 2);
    for bad in [
        "sort=cheapest",
        "storage=warm",
        "min_price=-1",
        "min_price=1.234",
        "limit=0",
        "cursor=zz",
    ] {
        app.get(&format!("/api/v1/products?{bad}"), None)
            .await
            .expect_problem(422, "validation_failed");
    }
}

#[actix_web::test]
async fn walking_every_page_shows_each_product_once() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let mut all = HashSet::new();
    for i in 0..23 {
        // repeated prices make the id tie-break matter
        let price = format!("{}.00", 10 + i % 4);
        let name = if i % 3 == 0 {
            format!("大米 {i}")
        } else {
            format!("其他 {i}")
        };
        let mut body = simple_product(&name, &format!("P-{i}"), &price, "ambient");
        body["description"] = json!("大米相关");
        let p = app.create_product(&owner, &coop, body).await;
        app.publish_product(&owner, p["id"].as_str().unwrap()).await;
        all.insert(p["id"].as_str().unwrap().to_owned());
    }
    for query in [
        "sort=newest",
        "sort=price_asc",
        "sort=price_desc",
        "q=%E5%A4%A7%E7%B1%B3&sort=relevance",
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut prices = Vec::new();
        loop {
            let mut path = format!("/api/v1/products?{query}&limit=5");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get(&path, None).await.expect(200);
            for p in page["items"].as_array().unwrap() {
                seen.push(p["id"].as_str().unwrap().to_owned());
                prices.push(p["price"].as_str().unwrap().parse::<f64>().unwrap());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 23, "{query}: no repeats");
        assert_eq!(
            seen.iter().cloned().collect::<HashSet<_>>(),
            all,
            "{query}: no gaps"
        );
        if query == "sort=price_asc" {
            assert!(prices.windows(2).all(|w| w[0] <= w[1]));
        }
    }
}

#[actix_web::test]
async fn patch_honours_if_match_and_refuses_protected_fields() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let p = app
        .create_product(&owner, &coop, rice_product("RICE"))
        .await;
    let path = format!("/api/v1/products/{}", p["id"].as_str().unwrap());
    let r = app
        .request(
            Method::PATCH,
            &path,
            Some(&owner.token),
            Some(json!({"name": "有机大米（新米）", "subtitle": null})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    let body = r.expect(200);
    assert_eq!(body["name"], "有机大米（新米）");
    assert_eq!(body["subtitle"], Value::Null);
    assert_eq!(body["version"], 2);
    // a stale version is refused and nothing changes
    app.request(
        Method::PATCH,
        &path,
        Some(&owner.token),
        Some(json!({"name": "旧的"})),
        &[("If-Match", "\"1\"")],
    )
    .await
    .expect_problem(412, "precondition_failed");
    for field in ["status", "cooperative_id", "version", "id"] {
        let body = app
            .patch(&path, Some(&owner.token), json!({field: "published"}))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], field);
    }
    // SKUs upsert by code; the price rules apply to the patched result
    let body = app
        .patch(&path, Some(&owner.token), json!({"skus": [
            {"code": "RICE-5KG", "name": "5 kg 袋", "unit": "袋", "net_weight_grams": 5000, "price": "49.90", "sales_channel": "retail"},
            {"code": "RICE-1KG", "name": "1 kg 装", "unit": "袋", "net_weight_grams": 1000, "price": "12.90", "sales_channel": "retail"}
        ]}))
        .await
        .expect(200);
    assert_eq!(body["skus"].as_array().unwrap().len(), 4);
    assert_eq!(body["price"], "12.90");
    let got = app.get(&path, Some(&owner.token)).await.expect(200);
    assert_eq!(got["name"], "有机大米（新米）");
    assert_eq!(got["version"], 3);
}

#[actix_web::test]
async fn members_of_another_cooperative_are_refused() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let (other, other_coop) = app.coop_owner("萝北合作社").await;
    let p = app
        .create_product(&owner, &coop, rice_product("RICE"))
        .await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/api/v1/products/{id}");
    // a draft does not even exist for them
    app.patch(&path, Some(&other.token), json!({"name": "x"}))
        .await
        .expect_problem(404, "not_found");
    app.post(&format!("{path}/publish"), Some(&other.token), json!({}))
        .await
        .expect_problem(404, "not_found");
    app.publish_product(&owner, id).await;
    app.patch(&path, Some(&other.token), json!({"name": "x"}))
        .await
        .expect_problem(403, "forbidden");
    app.post(&format!("{path}/unpublish"), Some(&other.token), json!({}))
        .await
        .expect_problem(403, "forbidden");
    // nor may they list products into someone else's co-op
    app.post(
        &format!("/api/v1/cooperatives/{coop}/products"),
        Some(&other.token),
        rice_product("X"),
    )
    .await
    .expect_problem(403, "forbidden");
    // their own co-op may reuse the same SKU codes
    app.create_product(&other, &other_coop, rice_product("RICE"))
        .await;
    let got = app.get(&path, None).await.expect(200);
    assert_eq!(got["name"], "有机大米");
}

#[actix_web::test]
async fn prices_and_skus_are_validated() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let path = format!("/api/v1/cooperatives/{coop}/products");
    for (price, field) in [
        (json!(59.9), "skus[0].price"),
        (json!("-1.00"), "skus[0].price"),
        (json!("1.234"), "skus[0].price"),
    ] {
        let mut body = rice_product("A");
        body["skus"][0]["price"] = price;
        let problem = app
            .post(&path, Some(&owner.token), body)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let mut body = rice_product("A");
    body["skus"][2]["tiers"][0]["unit_price"] = json!("999.00");
    body["storage"] = json!("ambient");
    let problem = app
        .post(&path, Some(&owner.token), body)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "skus[2].tiers[0].unit_price");
    let mut body = rice_product("A");
    body["storage"] = json!("warm");
    let problem = app
        .post(&path, Some(&owner.token), body)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "storage");
    let mut body = rice_product("A");
    body["skus"] = json!([]);
    app.post(&path, Some(&owner.token), body)
        .await
        .expect_problem(422, "validation_failed");
    // a SKU code is unique within the co-op
    app.create_product(&owner, &coop, rice_product("A")).await;
    app.post(
        &path,
        Some(&owner.token),
        simple_product("别的", "A-5KG", "1.00", "ambient"),
    )
    .await
    .expect_problem(409, "conflict");
    let list = app.get("/api/v1/products", None).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn status_changes_follow_the_rules() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let p = app
        .create_product(&owner, &coop, rice_product("RICE"))
        .await;
    let path = format!("/api/v1/products/{}", p["id"].as_str().unwrap());
    app.post(&format!("{path}/unpublish"), Some(&owner.token), json!({}))
        .await
        .expect_problem(409, "invalid_state");
    app.post(&format!("{path}/archive"), Some(&owner.token), json!({}))
        .await
        .expect(200);
    app.post(&format!("{path}/publish"), Some(&owner.token), json!({}))
        .await
        .expect_problem(409, "invalid_state");
}

#[actix_web::test]
async fn a_sku_code_given_twice_is_a_conflict() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let mut body = rice_product("A");
    body["skus"][1]["code"] = body["skus"][0]["code"].clone();
    app.post(
        &format!("/api/v1/cooperatives/{coop}/products"),
        Some(&owner.token),
        body,
    )
    .await
    .expect_problem(409, "conflict");
}

/// Every page of `query`, walked two at a time: the ids in order.
async fn walk(app: &TestApp, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/products?{query}&limit=2");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path, None).await.expect(200);
        for p in page["items"].as_array().unwrap() {
            seen.push(p["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
}

#[actix_web::test]
async fn search_pages_are_the_same_from_the_index_and_from_walking_the_catalogue() {
    let app = spawn_app().await;
    // one instance never asks the index, one asks it only for queries matching at most three
    let walker = app.sibling(|c| c.search_candidates = 0);
    let narrow = app.sibling(|c| c.search_candidates = 3);
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let products = [
        (
            "有机大米 5KG",
            Some("黑土地稻花香"),
            Some("五常的大米，一年一季"),
        ),
        ("黑土地冻梨", Some("冻梨 2.5kg"), Some("冬天的味道")),
        ("大米礼盒", None, Some("送礼")),
        ("东湖菊花", Some("菊花茶"), Some("潮汕人冬天喝的米黄色花茶")),
        ("潮阳丝苗米", Some("丝苗米 10kg"), None),
        ("黑木耳", None, Some("黑土地上的木耳，配大米饭")),
        ("50%_off 蜂蜜", None, Some("椴树蜜")),
    ];
    let mut ids = Vec::new();
    for (i, (name, subtitle, description)) in products.iter().enumerate() {
        let mut body = simple_product(
            name,
            &format!("S-{i}"),
            &format!("{}.00", 30 - i),
            "ambient",
        );
        body["subtitle"] = json!(subtitle);
        body["description"] = json!(description);
        let p = app.create_product(&owner, &coop, body).await;
        app.publish_product(&owner, p["id"].as_str().unwrap()).await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    // a renamed product is found by its new name only
    app.request(
        Method::PATCH,
        &format!("/api/v1/products/{}", ids[2]),
        Some(&owner.token),
        Some(json!({"name": "稻米礼盒"})),
        &[("If-Match", "\"2\"")],
    )
    .await
    .expect(200);

    let expected: [(&str, &[&str]); 9] = [
        // names first (newest first), then matches in subtitles and descriptions
        (
            "米",
            &[
                "潮阳丝苗米",
                "稻米礼盒",
                "有机大米 5KG",
                "黑木耳",
                "东湖菊花",
            ],
        ),
        ("大米", &["有机大米 5KG", "黑木耳"]),
        ("土地冻梨", &["黑土地冻梨"]),
        ("黑土地", &["黑土地冻梨", "黑木耳", "有机大米 5KG"]),
        ("5kg", &["有机大米 5KG", "黑土地冻梨"]),
        // a query without cased letters is tested on the text as it is, capitals and all
        ("5", &["50%_off 蜂蜜", "有机大米 5KG", "黑土地冻梨"]),
        ("礼盒", &["稻米礼盒"]),
        ("50%_", &["50%_off 蜂蜜"]),
        ("没有这个", &[]),
    ];
    for (q, want) in expected {
        let q = utf8_percent(q);
        let found = walk(&app, &format!("q={q}")).await;
        assert_eq!(found, want, "q={q}");
        for sort in ["relevance", "newest", "price_asc", "price_desc"] {
            let query = format!("q={q}&sort={sort}");
            let indexed = walk(&app, &query).await;
            assert_eq!(walk(&walker, &query).await, indexed, "{query}: walking");
            assert_eq!(walk(&narrow, &query).await, indexed, "{query}: narrow");
            let mut sorted = indexed.clone();
            sorted.sort();
            let mut want_sorted: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            want_sorted.sort();
            assert_eq!(sorted, want_sorted, "{query}: same products in any order");
        }
    }
}

/// A rare query's page first takes a few candidates in page order by the index's copies of
/// the sort keys: when filters leave fewer than a page of those, it must read on, and a
/// changed price or name must move the product in the order at once.
#[actix_web::test]
async fn a_rare_search_reads_past_candidates_its_filters_refuse_and_follows_price_changes() {
    let app = spawn_app().await;
    let walker = app.sibling(|c| c.search_candidates = 0);
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    // the two oldest frozen, then six ambient: newest first, the first page's worth of
    // candidates (two pages of three) are all ambient
    let mut ids = Vec::new();
    for i in 0..8 {
        let storage = if i < 2 { "frozen" } else { "ambient" };
        let body = simple_product(
            &format!("有机大米 {i}号"),
            &format!("R-{i}"),
            &format!("{}.00", 20 + i),
            storage,
        );
        let p = app.create_product(&owner, &coop, body).await;
        app.publish_product(&owner, p["id"].as_str().unwrap()).await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    let q = utf8_percent("大米");
    for sort in ["relevance", "newest", "price_asc", "price_desc"] {
        let query = format!("q={q}&storage=frozen&sort={sort}");
        let mut found = walk(&app, &query).await;
        assert_eq!(walk(&walker, &query).await, found, "{query}");
        found.sort();
        assert_eq!(found, ["有机大米 0号", "有机大米 1号"], "{query}");
    }
    // the dearest becomes the cheapest, and a renamed product keeps its place newest first
    app.request(
        Method::PATCH,
        &format!("/api/v1/products/{}", ids[7]),
        Some(&owner.token),
        Some(
            json!({"skus": [{"code": "R-7", "name": "1 件", "unit": "件",
            "net_weight_grams": 1000, "price": "1.00", "sales_channel": "retail"}]}),
        ),
        &[("If-Match", "\"2\"")],
    )
    .await
    .expect(200);
    app.request(
        Method::PATCH,
        &format!("/api/v1/products/{}", ids[3]),
        Some(&owner.token),
        Some(json!({"name": "有机糙米 3号"})),
        &[("If-Match", "\"2\"")],
    )
    .await
    .expect(200);
    for (sort, first) in [
        ("price_asc", "有机大米 7号"),
        ("price_desc", "有机大米 6号"),
        ("newest", "有机大米 7号"),
    ] {
        let query = format!("q={q}&sort={sort}");
        let found = walk(&app, &query).await;
        assert_eq!(walk(&walker, &query).await, found, "{query}");
        assert_eq!(found.len(), 7, "{query}: {found:?}");
        assert_eq!(found[0], first, "{query}: {found:?}");
    }
    let query = format!("q={}&sort=relevance", utf8_percent("米"));
    let found = walk(&app, &query).await;
    assert_eq!(walk(&walker, &query).await, found, "{query}");
    assert_eq!(found.len(), 8);
}

fn utf8_percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[actix_web::test]
async fn products_written_before_the_search_index_are_indexed_at_start_up() {
    use diesel::RunQueryDsl;
    use shanhe::db::DbConn;
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let body = simple_product("寒地蓝莓干", "LM-1", "20.00", "ambient");
    let p = app.create_product(&owner, &coop, body).await;
    app.publish_product(&owner, p["id"].as_str().unwrap()).await;
    let indexed = |conn: &mut DbConn| -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT count(*) AS n FROM product_search_keys")
            .get_result::<N>(conn)
            .unwrap()
            .n
    };
    {
        // as if the product had been written before the index existed
        let mut conn = app.conn();
        assert_eq!(indexed(&mut conn), 1);
        let wipe: &[&str] = match &*conn {
            DbConn::Pg(_) => &["DELETE FROM product_search_keys"],
            DbConn::Sqlite(_) => &[
                "DELETE FROM product_search",
                "DELETE FROM product_search_keys",
            ],
        };
        for sql in wipe {
            diesel::sql_query(*sql).execute(&mut *conn).unwrap();
        }
        assert_eq!(indexed(&mut conn), 0);
    }
    // an instance starting on this database indexes it, and finds it through the index
    let restarted = app.sibling(|_| {});
    assert_eq!(indexed(&mut app.conn()), 1);
    assert_eq!(
        walk(&restarted, &format!("q={}", utf8_percent("蓝莓"))).await,
        ["寒地蓝莓干"]
    );
}
