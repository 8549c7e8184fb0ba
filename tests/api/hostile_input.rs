//! Hostile input gets a clear 422 naming the field: never a panic, a dropped connection or a
//! 500; and what the server writes out (CSV) cannot run as a formula.

use serde_json::json;

use crate::helpers::*;

const HUGE: &str = "79228162514264337593543950335";

#[actix_web::test]
async fn huge_amounts_are_a_422_naming_the_field_not_a_dropped_connection() {
    let app = spawn_app().await;
    for field in ["min_price", "max_price"] {
        let problem = app
            .get(&format!("/api/v1/products?{field}={HUGE}"), None)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let problem = app
        .post(
            &format!("/api/v1/cooperatives/{coop}/products"),
            Some(&owner.token),
            simple_product("有机大米", "RICE-HUGE", HUGE, "ambient"),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert!(
        problem.to_string().contains("price"),
        "the price is named: {problem}"
    );
    let buyer = app.register("chef@restaurant.cn").await;
    let org = app
        .post(
            "/api/v1/organizations",
            Some(&buyer.token),
            json!({"name": "汕头老牌潮菜馆", "business_license_no": "91440500MA4UXXXX1", "city": "汕头市", "contact_phone": "0754-88881234"}),
        )
        .await
        .expect(201);
    let admin = app.admin().await;
    app.post(
        &format!(
            "/api/v1/organizations/{}/approve",
            org["id"].as_str().unwrap()
        ),
        Some(&admin.token),
        json!({"payment_terms": "net_30", "credit_limit": format!("{HUGE}.99")}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.webhook(
        json!({"payment_id": uuid::Uuid::now_v7(), "status": "succeeded", "provider_reference": "SBX", "amount": HUGE}),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_line_over_the_ceiling_is_refused_by_its_index() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let warehouse = app.create_warehouse(&owner, &coop, false).await;
    let product = app
        .create_product(
            &owner,
            &coop,
            simple_product("金镶玉大米", "RICE-GOLD", "100000000.00", "ambient"),
        )
        .await;
    let product = app
        .publish_product(&owner, product["id"].as_str().unwrap())
        .await;
    let sku = product["skus"][0]["id"].as_str().unwrap().to_owned();
    app.receive(&owner, &coop, &sku, &warehouse, 10).await;
    let buyer = app.register("lin@shantou.cn").await;
    let problem = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 2}]))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "items[0]", "{problem}");
    assert_eq!(app.reserved(&sku), 0, "nothing reserved");
}

#[actix_web::test]
async fn the_most_negative_delta_is_a_422() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let problem = app
        .post(
            &format!("/api/v1/cooperatives/{}/stock/adjustments", shop.coop),
            Some(&shop.owner.token),
            json!({"adjustments": [{"sku_id": shop.skus["5KG"], "warehouse_id": shop.warehouse,
                                    "delta": i64::MIN, "reason": "x"}]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "adjustments[0].delta");
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn formulas_in_names_are_neutralised_in_the_sales_csv() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let warehouse = app.create_warehouse(&owner, &coop, false).await;
    let mut skus = Vec::new();
    for (i, name) in [
        "=HYPERLINK(\"http://evil.example\")",
        "+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "-2+3",
    ]
    .into_iter()
    .enumerate()
    {
        let product = app
            .create_product(
                &owner,
                &coop,
                simple_product(name, &format!("F-{i}"), "10.00", "ambient"),
            )
            .await;
        let product = app
            .publish_product(&owner, product["id"].as_str().unwrap())
            .await;
        let sku = product["skus"][0]["id"].as_str().unwrap().to_owned();
        app.receive(&owner, &coop, &sku, &warehouse, 5).await;
        skus.push(sku);
    }
    let buyer = app.register("lin@shantou.cn").await;
    let items: Vec<_> = skus
        .iter()
        .map(|s| json!({"sku_id": s, "quantity": 1}))
        .collect();
    let order = app.place_order(&buyer, json!(items)).await.expect(201);
    app.pay(&buyer, order["id"].as_str().unwrap()).await;
    let admin = app.admin().await;
    let day = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    let csv = app
        .request(
            awc::http::Method::GET,
            &format!("/api/v1/reports/sales?from={day}&to={day}&group_by=product"),
            Some(&admin.token),
            None,
            &[("Accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.body.as_str().unwrap().to_owned();
    let labels: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(labels.len(), 4, "{text}");
    for label in labels {
        assert!(
            label.starts_with('\'') || label.starts_with("\"'"),
            "a formula cell is neutralised: {label:?} in {text}"
        );
    }
}

#[actix_web::test]
async fn control_characters_are_refused_by_field_on_both_databases() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let buyer = app.register("lin@shantou.cn").await;
    // query strings, anonymous and signed in
    let p = app
        .get("/api/v1/products?q=%00", None)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "q");
    let p = app
        .get(
            "/api/v1/orders?purchase_order_number=PO%00",
            Some(&buyer.token),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "purchase_order_number");
    // a cursor that decodes to text with a NUL in it
    for path in [
        "/api/v1/products?cursor=61626300",
        "/api/v1/orders?cursor=61626300",
    ] {
        let p = app
            .get(path, Some(&buyer.token))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], "cursor", "{path}");
    }
    let p = app
        .get(
            &format!("/api/v1/cooperatives/{}/stock?cursor=61626300", shop.coop),
            Some(&shop.owner.token),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "cursor");
    // ids in paths
    app.get("/api/v1/fulfilments/%00", Some(&shop.owner.token))
        .await
        .expect_problem(404, "not_found");
    app.post(
        "/api/v1/shipments/%00/events",
        Some(&shop.owner.token),
        json!({"status": "in_transit"}),
    )
    .await
    .expect_problem(404, "not_found");
    // JSON bodies: the field is named, whatever its depth
    let mut product = simple_product("有机\u{0}大米", "RICE-NUL", "10.00", "ambient");
    let p = app
        .post(
            &format!("/api/v1/cooperatives/{}/products", shop.coop),
            Some(&shop.owner.token),
            product.clone(),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "name");
    product["name"] = json!("有机大米");
    product["skus"][0]["code"] = json!("RICE\u{1}X");
    let p = app
        .post(
            &format!("/api/v1/cooperatives/{}/products", shop.coop),
            Some(&shop.owner.token),
            product,
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "skus[0].code");
    app.webhook(
        json!({"payment_id": "\u{0}", "status": "succeeded", "provider_reference": "SBX", "amount": "1.00"}),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect_problem(422, "validation_failed");
    // a spreadsheet line
    let order = json!({"shipping_address": shantou()});
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("order", &order.to_string())
        .finish();
    let p = app
        .send_raw(
            awc::http::Method::POST,
            &format!("/api/v1/orders/import?{query}"),
            Some(&buyer.token),
            "text/csv",
            "sku_code,quantity\nRICE-5KG\u{0},2\n".as_bytes().to_vec(),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "line 2", "{p}");
}

/// Members a request type does not have are never read or stored, so they are ignored
/// whatever they hold; the fields it has keep every rule, before and after trimming.
#[actix_web::test]
async fn unknown_members_are_ignored_and_known_fields_keep_their_rules() {
    let app = spawn_app().await;
    let owner = app.register("owner@shantou.cn").await;
    let body = |name: &str| {
        json!({
            "name": name, "business_license_no": "91440500MA4UXXXX1X", "city": "汕头市",
            "contact_phone": "0754-88881234",
            "extra\u{7}": {"nested\u{0}": ["\u{1}"]}, "note": "\u{0}"
        })
    };
    app.post(
        "/api/v1/organizations",
        Some(&owner.token),
        body("潮汕酒楼"),
    )
    .await
    .expect(201);
    for (name, message) in [
        ("潮汕\u{7}酒楼", "must not contain control characters"),
        ("\t潮汕酒楼", "must not contain control characters"),
        ("   ", "must not be empty"),
    ] {
        let p = app
            .post("/api/v1/organizations", Some(&owner.token), body(name))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], "name", "{name:?}");
        assert_eq!(p["errors"][0]["message"], message, "{name:?}");
    }
    // phones follow the documented pattern exactly
    let mut b = body("汕头海鲜坊");
    b["contact_phone"] = json!("\t13800138000");
    let p = app
        .post("/api/v1/organizations", Some(&owner.token), b)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "contact_phone");
}

/// JSON Schema counts `2.0` as an integer, so the server does too; an `order` that is not
/// JSON is the `order` field's fault (422), and a patch wrong on its own is told so even when
/// it names an old version.
#[actix_web::test]
async fn whole_floats_count_as_integers_and_bad_parts_are_named() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    let buyer = app.register("lin@shantou.cn").await;
    let cart = app
        .put(
            &format!("/api/v1/cart/items/{sku}"),
            Some(&buyer.token),
            json!({"quantity": 2.0}),
        )
        .await
        .expect(200);
    assert_eq!(cart["items"][0]["quantity"], 2);
    app.put(
        &format!("/api/v1/cart/items/{sku}"),
        Some(&buyer.token),
        json!({"quantity": 2.5}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let p = app
        .send_raw(
            awc::http::Method::POST,
            "/api/v1/orders/import?order=",
            Some(&buyer.token),
            "text/csv",
            b"RICE-5KG,1\n".to_vec(),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "order");
    let p = app
        .request(
            awc::http::Method::PATCH,
            &format!("/api/v1/products/{}", shop.product["id"].as_str().unwrap()),
            Some(&shop.owner.token),
            Some(json!({"subtitle": "\u{84}"})),
            &[("If-Match", "\"999\"")],
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "subtitle");
}
