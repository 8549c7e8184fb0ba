use serde_json::{json, Value};

use crate::helpers::*;

fn today_cst() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

fn month_cst() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string()
}

/// Ships every item of an order's fulfilments and marks the parcels delivered.
async fn deliver(app: &TestApp, owner: &Session, order: &str) {
    let buyerless = app
        .get(&format!("/api/v1/orders/{order}"), Some(&owner.token))
        .await
        .expect(200);
    for f in buyerless["fulfilments"].as_array().unwrap() {
        let items: Vec<Value> = f["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| json!({"order_item_id": i["order_item_id"], "quantity": i["quantity"]}))
            .collect();
        let s = app
            .post(
                &format!(
                    "/api/v1/fulfilments/{}/shipments",
                    f["id"].as_str().unwrap()
                ),
                Some(&owner.token),
                json!({"carrier": "EMS", "tracking_number": "EMS-1", "items": items}),
            )
            .await
            .expect(201);
        app.post(
            &format!("/api/v1/shipments/{}/events", s["id"].as_str().unwrap()),
            Some(&owner.token),
            json!({"status": "delivered"}),
        )
        .await
        .expect(201);
    }
}

#[actix_web::test]
async fn sales_reports_add_up_to_the_orders_behind_them() {
    let app = spawn_app().await;
    let rice = app.shop("绥滨合作社", "RICE").await;
    let (pear_owner, pear_coop) = app.coop_owner("萝北冻梨合作社").await;
    let cold = app.create_warehouse(&pear_owner, &pear_coop, true).await;
    let pear = app
        .create_product(
            &pear_owner,
            &pear_coop,
            simple_product("冻梨切片", "PEAR-1", "25.00", "frozen"),
        )
        .await;
    let pear = app
        .publish_product(&pear_owner, pear["id"].as_str().unwrap())
        .await;
    let pear_sku = pear["skus"][0]["id"].as_str().unwrap().to_owned();
    app.receive(&pear_owner, &pear_coop, &pear_sku, &cold, 50)
        .await;
    for s in ["5KG", "10KG"] {
        app.receive(&rice.owner, &rice.coop, &rice.skus[s], &rice.warehouse, 50)
            .await;
    }
    let buyer = app.register("buyer@example.cn").await;
    let o1 = app
        .place_order(&buyer, json!([{"sku_id": rice.skus["5KG"], "quantity": 2}]))
        .await
        .expect(201);
    app.pay(&buyer, o1["id"].as_str().unwrap()).await;
    let o2 = app
        .place_order(&buyer, json!([{"sku_id": pear_sku, "quantity": 3}, {"sku_id": rice.skus["10KG"], "quantity": 1}]))
        .await
        .expect(201);
    app.pay(&buyer, o2["id"].as_str().unwrap()).await;
    // a paid order cancelled and refunded, and an unpaid one: neither is a sale
    let o3 = app
        .place_order(&buyer, json!([{"sku_id": rice.skus["5KG"], "quantity": 1}]))
        .await
        .expect(201);
    app.pay(&buyer, o3["id"].as_str().unwrap()).await;
    let c = app
        .post(
            &format!("/api/v1/orders/{}/cancel", o3["id"].as_str().unwrap()),
            Some(&buyer.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(c["payment_status"], "refunded");
    app.place_order(&buyer, json!([{"sku_id": rice.skus["5KG"], "quantity": 1}]))
        .await
        .expect(201);

    let admin = app.admin().await;
    let day = today_cst();
    let q = |by: &str| format!("/api/v1/reports/sales?from={day}&to={day}&group_by={by}");
    let by_coop = app
        .get(&q("cooperative"), Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(
        by_coop["rows"],
        json!([
            {"key": rice.coop, "label": "绥滨合作社", "orders": 2, "units": 3, "gross": "228.80", "refunds": "0.00"},
            {"key": pear_coop, "label": "萝北冻梨合作社", "orders": 1, "units": 3, "gross": "75.00", "refunds": "0.00"}
        ])
    );
    let expected: f64 = [&o1, &o2]
        .iter()
        .map(|o| o["subtotal"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(format!("{expected:.2}"), "303.80");
    let by_day = app.get(&q("day"), Some(&admin.token)).await.expect(200);
    assert_eq!(
        by_day["rows"],
        json!([{"key": day, "label": day, "orders": 2, "units": 6, "gross": "303.80", "refunds": "0.00"}])
    );
    let by_product = app.get(&q("product"), Some(&admin.token)).await.expect(200);
    assert_eq!(by_product["rows"][0]["key"], rice.product["id"]);
    assert_eq!(by_product["rows"][0]["gross"], "228.80");
    let csv = app
        .request(
            awc::http::Method::GET,
            &q("cooperative"),
            Some(&admin.token),
            None,
            &[("Accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.body.as_str().unwrap().to_owned();
    assert!(
        text.starts_with("key,label,orders,units,gross,refunds\n"),
        "{text}"
    );
    assert!(text.contains(",绥滨合作社,2,3,228.80,0.00\n"), "{text}");
    // a co-op owner gets only their own co-op; staff and shoppers get nothing
    let own = app
        .get(&q("cooperative"), Some(&pear_owner.token))
        .await
        .expect(200);
    assert_eq!(own["rows"].as_array().unwrap().len(), 1);
    assert_eq!(own["rows"][0]["key"], pear_coop.as_str());
    app.get(&q("cooperative"), Some(&buyer.token))
        .await
        .expect_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/reports/sales?from={day}&to=2000-01-01"),
        Some(&admin.token),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.get(
        "/api/v1/reports/sales?from=yesterday&to=today",
        Some(&admin.token),
    )
    .await
    .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn settlements_take_commission_rounded_half_up() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("潮阳区农产品合作社").await;
    let wh = app.create_warehouse(&owner, &coop, false).await;
    let p = app
        .create_product(
            &owner,
            &coop,
            simple_product("东湖菊花", "JH-100G", "12.50", "ambient"),
        )
        .await;
    let p = app.publish_product(&owner, p["id"].as_str().unwrap()).await;
    let sku = p["skus"][0]["id"].as_str().unwrap().to_owned();
    app.receive(&owner, &coop, &sku, &wh, 10).await;
    let buyer = app.register("buyer@example.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap();
    app.pay(&buyer, id).await;
    let path = format!(
        "/api/v1/cooperatives/{coop}/settlements?month={}",
        month_cst()
    );
    let before = app.get(&path, Some(&owner.token)).await.expect(200);
    assert_eq!(before["gross_sales"], "0.00", "nothing delivered yet");
    deliver(&app, &owner, id).await;
    let s = app.get(&path, Some(&owner.token)).await.expect(200);
    assert_eq!(
        s,
        json!({"cooperative_id": coop, "month": month_cst(), "gross_sales": "12.50", "refunds": "0.00",
               "commission_rate": "0.05", "commission": "0.63", "net_payable": "11.87", "orders": 1})
    );
    let admin = app.admin().await;
    app.put(
        &format!("/api/v1/cooperatives/{coop}/commission-rate"),
        Some(&admin.token),
        json!({"commission_rate": "0.03"}),
    )
    .await
    .expect(200);
    let s = app.get(&path, Some(&admin.token)).await.expect(200);
    // 12.50 × 0.03 = 0.375 → 0.38
    assert_eq!(
        (
            s["commission_rate"].as_str(),
            s["commission"].as_str(),
            s["net_payable"].as_str()
        ),
        (Some("0.03"), Some("0.38"), Some("12.12"))
    );
    app.put(
        &format!("/api/v1/cooperatives/{coop}/commission-rate"),
        Some(&owner.token),
        json!({"commission_rate": "0"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let (other, _) = app.coop_owner("别的合作社").await;
    app.get(&path, Some(&other.token))
        .await
        .expect_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/cooperatives/{coop}/settlements?month=2026-13"),
        Some(&owner.token),
    )
    .await
    .expect_problem(422, "validation_failed");
}

fn actions(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn every_staff_action_leaves_one_audit_event_and_a_failed_one_none() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let shop = app.shop("绥滨合作社", "RICE").await; // cooperative.created, member_added, product.published
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 5)
        .await; // stock.adjusted
    app.put(
        &format!("/api/v1/skus/{sku}/stock/{}", shop.warehouse),
        Some(&shop.owner.token),
        json!({"on_hand": 4, "reason": "盘点"}),
    )
    .await
    .expect(200); // stock.stocktake
    app.post(
        &format!(
            "/api/v1/products/{}/unpublish",
            shop.product["id"].as_str().unwrap()
        ),
        Some(&shop.owner.token),
        json!({}),
    )
    .await
    .expect(200); // product.unpublished
    let owner = app.register("org@example.cn").await;
    let org = app
        .post("/api/v1/organizations", Some(&owner.token), json!({"name": "酒楼", "business_license_no": "X1", "city": "汕头市", "contact_phone": "13800138000"}))
        .await
        .expect(201);
    let org_id = org["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/organizations/{org_id}/reject"),
        Some(&admin.token),
        json!({"reason": "资料不全"}),
    )
    .await
    .expect(200); // organization.rejected
    let second = app
        .post(
            "/api/v1/organizations",
            Some(&owner.token),
            json!({"name": "海鲜酒家", "business_license_no": "X2", "city": "汕头市", "contact_phone": "13800138000"}),
        )
        .await
        .expect(201);
    app.post(
        &format!(
            "/api/v1/organizations/{}/approve",
            second["id"].as_str().unwrap()
        ),
        Some(&admin.token),
        json!({"payment_terms": "prepaid"}),
    )
    .await
    .expect(200); // organization.approved
    let rates = app.get("/api/v1/shipping-rates", None).await.expect(200);
    app.put(
        "/api/v1/shipping-rates",
        Some(&admin.token),
        json!({"rates": rates["items"]}),
    )
    .await
    .expect(200); // shipping_rates.replaced
                  // failed actions: rolled back, no events
    app.post(
        &format!("/api/v1/organizations/{org_id}/approve"),
        Some(&admin.token),
        json!({"payment_terms": "prepaid"}),
    )
    .await
    .expect_problem(409, "invalid_state");
    app.post(
        &format!("/api/v1/cooperatives/{}/stock/adjustments", shop.coop),
        Some(&shop.owner.token),
        json!({"adjustments": [{"sku_id": sku, "warehouse_id": shop.warehouse, "delta": -100}]}),
    )
    .await
    .expect_problem(409, "conflict");
    // an admin cancels a buyer's order
    app.publish_product(&shop.owner, shop.product["id"].as_str().unwrap())
        .await; // product.published again
    let buyer = app.register("buyer@example.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/orders/{}/cancel", order["id"].as_str().unwrap()),
        Some(&admin.token),
        json!({"reason": "缺货"}),
    )
    .await
    .expect(200); // order.cancelled_by_staff

    let all = app
        .get("/api/v1/audit-events?limit=100", Some(&admin.token))
        .await
        .expect(200);
    let mut got = actions(&all);
    got.sort();
    let mut expected = vec![
        "admin.created",
        "cooperative.created",
        "cooperative.member_added",
        "order.cancelled_by_staff",
        "organization.approved",
        "organization.rejected",
        "product.published",
        "product.published",
        "product.unpublished",
        "shipping_rates.replaced",
        "stock.adjusted",
        "stock.stocktake",
    ];
    expected.sort();
    assert_eq!(got, expected);
    let by_target = app
        .get(
            &format!("/api/v1/audit-events?target_id={org_id}"),
            Some(&admin.token),
        )
        .await
        .expect(200);
    assert_eq!(actions(&by_target), vec!["organization.rejected"]);
    assert_eq!(by_target["items"][0]["actor_id"], admin.user_id);
    assert_eq!(by_target["items"][0]["details"]["reason"], "资料不全");
    let by_actor = app
        .get(
            &format!(
                "/api/v1/audit-events?actor_id={}&action=stock.stocktake",
                shop.owner.user_id
            ),
            Some(&admin.token),
        )
        .await
        .expect(200);
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 1);
    let day = today_cst();
    let window = app
        .get(
            &format!("/api/v1/audit-events?from={day}&to={day}&limit=2"),
            Some(&admin.token),
        )
        .await
        .expect(200);
    assert_eq!(window["items"].as_array().unwrap().len(), 2);
    assert!(window["next_cursor"].is_string());
    app.get("/api/v1/audit-events", Some(&shop.owner.token))
        .await
        .expect_problem(403, "forbidden");
}

#[actix_web::test]
async fn the_sales_period_defaults_to_thirty_days_and_blank_dates_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.get("/api/v1/reports/sales", Some(&admin.token))
        .await
        .expect(200);
    for q in ["to=", "from=", "from=&to=2026-11-29"] {
        app.get(&format!("/api/v1/reports/sales?{q}"), Some(&admin.token))
            .await
            .expect_problem(422, "validation_failed");
    }
}
