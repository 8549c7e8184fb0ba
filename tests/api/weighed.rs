//! Weighed goods (catch weight): charged at the nominal weight, settled on the packed weight
//! (多退少补, buyer-friendly), refunds in one ledger, and settlements netting them.

use serde_json::{json, Value};

use crate::helpers::*;

/// A co-op selling frozen pears by the kilo in nominal 5 kg boxes (12.35 a kilo, 11.80 from
/// 10 boxes for businesses).
struct Scale {
    owner: Session,
    coop: String,
    sku: String,
}

async fn pear_scale(app: &TestApp) -> Scale {
    let (owner, coop) = app.coop_owner("萝北冻梨合作社").await;
    let cold = app.create_warehouse(&owner, &coop, true).await;
    let product = app
        .create_product(
            &owner,
            &coop,
            json!({"name": "萝北冻梨（称重）", "origin": "萝北县", "storage": "frozen", "shelf_life_days": 180,
                   "skus": [{"code": "PEAR-KG", "name": "约 5 kg 箱", "unit": "箱", "net_weight_grams": 5000,
                             "price": "12.35", "sales_channel": "both", "pricing": "per_kg",
                             "tiers": [{"min_quantity": 10, "unit_price": "11.80"}]}]}),
        )
        .await;
    assert_eq!(product["skus"][0]["pricing"], "per_kg");
    app.publish_product(&owner, product["id"].as_str().unwrap())
        .await;
    let sku = product["skus"][0]["id"].as_str().unwrap().to_owned();
    app.receive(&owner, &coop, &sku, &cold, 100).await;
    Scale { owner, coop, sku }
}

fn ship_body(item: &Value, quantity: i64, grams: Option<i64>, tracking: &str) -> Value {
    let mut line = json!({"order_item_id": item["id"], "quantity": quantity});
    if let Some(g) = grams {
        line["actual_weight_grams"] = json!(g);
    }
    json!({"carrier": "顺丰冷运", "tracking_number": tracking, "items": [line]})
}

async fn ship(app: &TestApp, s: &Scale, order: &Value, body: Value) -> crate::helpers::Resp {
    app.post(
        &format!(
            "/api/v1/fulfilments/{}/shipments",
            order["fulfilments"][0]["id"].as_str().unwrap()
        ),
        Some(&s.owner.token),
        body,
    )
    .await
}

#[actix_web::test]
async fn a_lighter_parcel_refunds_the_difference_once_and_a_heavier_one_costs_nothing() {
    let app = spawn_app().await;
    let s = pear_scale(&app).await;
    let buyer = app.register("lin@shantou.cn").await;
    // the cart shows a box's price, not the price of a kilo
    app.put(
        &format!("/api/v1/cart/items/{}", s.sku),
        Some(&buyer.token),
        json!({"quantity": 4}),
    )
    .await
    .expect(200);
    let cart = app
        .get("/api/v1/cart", Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(cart["items"][0]["unit_price"], "61.75");
    assert_eq!(cart["items"][0]["line_total"], "247.00");
    let order = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 4}]))
        .await
        .expect(201);
    let item = order["items"][0].clone();
    // 12.35 × 5 kg = 61.75 a box, four boxes
    assert_eq!(item["unit_price"], "61.75");
    assert_eq!(item["line_total"], "247.00");
    assert_eq!(item["final_total"], "247.00");
    assert_eq!(item["pricing"], "per_kg");
    assert_eq!(item["nominal_weight_grams"], 5000);
    assert_eq!(order["refunded_total"], "0.00");
    app.pay(&buyer, order["id"].as_str().unwrap()).await;

    // a weighed line needs its packed weight, within 20 % of nominal
    let p = ship(&app, &s, &order, ship_body(&item, 2, None, "SF1"))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "items[0].actual_weight_grams");
    let p = ship(&app, &s, &order, ship_body(&item, 2, Some(7_900), "SF1"))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "items[0]");
    ship(&app, &s, &order, ship_body(&item, 2, Some(12_100), "SF1"))
        .await
        .expect_problem(422, "validation_failed");

    // 8 % light: 9.2 kg × 12.35 = 113.62 for what was charged 123.50 → 9.88 back
    let parcel = ship(&app, &s, &order, ship_body(&item, 2, Some(9_200), "SF1"))
        .await
        .expect(201);
    assert_eq!(parcel["items"][0]["actual_weight_grams"], 9200);
    let now = app.read_order(&buyer, &order).await;
    assert_eq!(now["refunded_total"], "9.88");
    assert_eq!(now["items"][0]["final_total"], "237.12");
    assert_eq!(now["subtotal"], order["subtotal"]);
    assert_eq!(now["total"], order["total"]);
    let refunds = now["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["kind"], "weight_adjustment");
    assert_eq!(refunds[0]["amount"], "9.88");

    // heavy: nothing more to pay, nothing refunded
    ship(&app, &s, &order, ship_body(&item, 2, Some(10_600), "SF2"))
        .await
        .expect(201);
    let now = app.read_order(&buyer, &order).await;
    assert_eq!(now["refunded_total"], "9.88");
    assert_eq!(now["items"][0]["final_total"], "237.12");
    assert_eq!(now["refunds"].as_array().unwrap().len(), 1);
    // the co-op sees its refund too
    let theirs = app.read_order(&s.owner, &order).await;
    assert_eq!(theirs["refunded_total"], "9.88");
}

#[actix_web::test]
async fn on_payment_terms_a_lighter_parcel_lowers_what_is_owed_and_frees_credit() {
    let app = spawn_app().await;
    let s = pear_scale(&app).await;
    let owner = app.register("chef@restaurant.cn").await;
    let org = app
        .approved_organization(
            &owner,
            json!({"payment_terms": "net_30", "credit_limit": "5000.00"}),
        )
        .await;
    let admin = app.admin().await;
    let order = app
        .post(
            "/api/v1/orders",
            Some(&owner.token),
            json!({"items": [{"sku_id": s.sku, "quantity": 10}], "shipping_address": shantou(), "organization_id": org}),
        )
        .await
        .expect(201);
    // the tier price is per kilo too: 11.80 × 5 kg = 59.00 a box
    assert_eq!(order["items"][0]["unit_price"], "59.00");
    let total = order["total"].as_str().unwrap().to_owned();
    let credit = |v: &Value| v["credit_used"].as_str().unwrap().to_owned();
    let before = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&owner.token))
        .await
        .expect(200);
    assert_eq!(credit(&before), total);
    // 10 boxes packed at 46 kg: 46 × 11.80 = 542.80 for 590.00 charged → 47.20 back
    ship(
        &app,
        &s,
        &order,
        ship_body(&order["items"][0], 10, Some(46_000), "SF9"),
    )
    .await
    .expect(201);
    let now = app.read_order(&owner, &order).await;
    assert_eq!(now["refunded_total"], "47.20");
    let after = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&owner.token))
        .await
        .expect(200);
    let owed: rust_decimal::Decimal =
        total.parse::<rust_decimal::Decimal>().unwrap() - rust_decimal::Decimal::new(4720, 2);
    assert_eq!(credit(&after), owed.to_string());
    // paying what is owed gives the rest back: nothing stays used
    app.post(
        &format!("/api/v1/orders/{}/mark-paid", order["id"].as_str().unwrap()),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect(200);
    let paid = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&owner.token))
        .await
        .expect(200);
    assert_eq!(credit(&paid), "0.00");
}

fn month_cst() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string()
}

#[actix_web::test]
async fn settlements_net_weight_and_claim_refunds_but_not_cancellations_to_the_fen() {
    let app = spawn_app().await;
    let s = pear_scale(&app).await;
    let buyer = app.register("lin@shantou.cn").await;
    // delivered: 3 boxes at 61.75 = 185.25, packed at 14.1 kg (−6 %): 14.1 × 12.35 = 174.135
    // → 174.14, so 11.11 back
    let order = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 3}]))
        .await
        .expect(201);
    app.pay(&buyer, order["id"].as_str().unwrap()).await;
    let parcel = ship(
        &app,
        &s,
        &order,
        ship_body(&order["items"][0], 3, Some(14_100), "SF3"),
    )
    .await
    .expect(201);
    app.post(
        &format!(
            "/api/v1/shipments/{}/events",
            parcel["id"].as_str().unwrap()
        ),
        Some(&s.owner.token),
        json!({"status": "delivered", "temperature_celsius": -19.0}),
    )
    .await
    .expect(201);
    // cancelled after paying: refunded, never counted
    let cancelled = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 1}]))
        .await
        .expect(201);
    app.pay(&buyer, cancelled["id"].as_str().unwrap()).await;
    app.post(
        &format!(
            "/api/v1/orders/{}/cancel",
            cancelled["id"].as_str().unwrap()
        ),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .expect(200);
    let c = app.read_order(&buyer, &cancelled).await;
    assert_eq!(c["refunds"][0]["kind"], "cancellation");
    assert_eq!(c["refunded_total"], c["total"]);

    // a claim on one box (worth 174.14 / 3 = 58.05), approved at 20.00
    let claim = app
        .post(
            &format!("/api/v1/orders/{}/claims", order["id"].as_str().unwrap()),
            Some(&buyer.token),
            json!({"kind": "refund_only", "reason": "damaged",
                   "items": [{"order_item_id": order["items"][0]["id"], "quantity": 1}]}),
        )
        .await
        .expect(201);
    assert_eq!(claim["requested_amount"], "58.05");
    app.post(
        &format!("/api/v1/claims/{}/approve", claim["id"].as_str().unwrap()),
        Some(&s.owner.token),
        json!({"amount": "20.00"}),
    )
    .await
    .expect(200);
    let s1 = app
        .get(
            &format!(
                "/api/v1/cooperatives/{}/settlements?month={}",
                s.coop,
                month_cst()
            ),
            Some(&s.owner.token),
        )
        .await
        .expect(200);
    // refunds 11.11 + 20.00 = 31.11 (the cancellation never counts);
    // (185.25 − 31.11) × 0.05 = 7.707 → 7.71; 185.25 − 31.11 − 7.71 = 146.43
    assert_eq!(
        (
            s1["gross_sales"].as_str(),
            s1["refunds"].as_str(),
            s1["commission"].as_str(),
            s1["net_payable"].as_str()
        ),
        (Some("185.25"), Some("31.11"), Some("7.71"), Some("146.43"))
    );
    // the sales report shows the same refunds beside the gross
    let admin = app.admin().await;
    let report = app
        .get("/api/v1/reports/sales?group_by=product", Some(&admin.token))
        .await
        .expect(200);
    let row = &report["rows"][0];
    assert_eq!(
        (row["gross"].as_str(), row["refunds"].as_str()),
        (Some("185.25"), Some("31.11"))
    );
}
