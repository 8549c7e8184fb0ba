use std::collections::HashSet;

use awc::http::Method;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::*;

#[actix_web::test]
async fn an_order_reserves_stock_and_adds_shipping() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 2}]))
        .await
        .expect(201);
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["payment_status"], "unpaid");
    assert_eq!(order["currency"], "CNY");
    assert_eq!(order["buyer_id"], buyer.user_id);
    assert!(
        order["number"].as_str().unwrap().starts_with("SH"),
        "{}",
        order["number"]
    );
    assert_eq!(order["items"][0]["unit_price"], "59.90");
    assert_eq!(order["items"][0]["line_total"], "119.80");
    assert_eq!(order["items"][0]["sku_code"], "RICE-5KG");
    assert_eq!(order["items"][0]["product_name"], "有机大米");
    assert_eq!(order["items"][0]["cooperative_id"], shop.coop);
    assert_eq!(order["subtotal"], "119.80");
    // 10 kg ambient to Guangdong: 10.00 for the first kg + 9 × 4.00
    assert_eq!(order["shipping_fee"], "46.00");
    assert_eq!(order["total"], "165.80");
    assert_eq!(order["shipping_address"]["province"], "广东省");
    let f = &order["fulfilments"][0];
    assert_eq!(f["status"], "awaiting_payment");
    assert_eq!(f["cooperative_id"], shop.coop);
    assert_eq!(f["warehouse_id"], shop.warehouse);
    assert_eq!(app.reserved(sku), 2);
    assert_eq!(app.available(sku), 8);
    let product = app
        .get(
            &format!("/api/v1/products/{}", shop.product["id"].as_str().unwrap()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(product["skus"][0]["available"], 8);
    let got = app.read_order(&buyer, &order).await;
    assert_eq!(got, order);
    let mine = app
        .get("/api/v1/orders", Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn an_order_across_cooperatives_is_split_per_cooperative() {
    let app = spawn_app().await;
    let rice = app.shop("绥滨合作社", "RICE").await;
    let (pear_owner, pear_coop) = app.coop_owner("萝北冻梨合作社").await;
    let dry = app.create_warehouse(&pear_owner, &pear_coop, false).await;
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
    app.receive(
        &rice.owner,
        &rice.coop,
        &rice.skus["5KG"],
        &rice.warehouse,
        5,
    )
    .await;
    // frozen pears in the dry store are not sellable for a frozen product; the cold store's are
    app.receive(&pear_owner, &pear_coop, &pear_sku, &dry, 100)
        .await;
    app.receive(&pear_owner, &pear_coop, &pear_sku, &cold, 3)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let short = app
        .place_order(&buyer, json!([{"sku_id": pear_sku, "quantity": 4}]))
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(short["shortages"][0]["available"], 3);
    let order = app
        .place_order(&buyer, json!([{"sku_id": rice.skus["5KG"], "quantity": 1}, {"sku_id": pear_sku, "quantity": 3}]))
        .await
        .expect(201);
    let fulfilments = order["fulfilments"].as_array().unwrap();
    assert_eq!(fulfilments.len(), 2);
    let coops: HashSet<_> = fulfilments
        .iter()
        .map(|f| f["cooperative_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        coops,
        HashSet::from([rice.coop.as_str(), pear_coop.as_str()])
    );
    let pear_f = fulfilments
        .iter()
        .find(|f| f["cooperative_id"] == pear_coop.as_str())
        .unwrap();
    assert_eq!(pear_f["warehouse_id"], cold.as_str());
    assert_eq!(pear_f["storage"], "frozen");
    // 3 kg frozen to Guangdong: 22.00 + 2 × 10.00; 5 kg rice: 10.00 + 4 × 4.00
    assert_eq!(pear_f["shipping_fee"], "42.00");
    assert_eq!(order["shipping_fee"], "68.00");
    assert_eq!(order["subtotal"], "134.90");
    assert_eq!(order["total"], "202.90");
    // the list shows each order exactly as its own page does
    app.place_order(&buyer, json!([{"sku_id": rice.skus["5KG"], "quantity": 1}]))
        .await
        .expect(201);
    let whole = app.read_order(&buyer, &order).await;
    let list = app
        .get("/api/v1/orders", Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][1], whole);
    // each co-op sees only its own part
    let part = app.read_order(&pear_owner, &order).await;
    assert_eq!(part["fulfilments"].as_array().unwrap().len(), 1);
    assert_eq!(part["items"].as_array().unwrap().len(), 1);
    assert_eq!(part["items"][0]["sku_id"], pear_sku.as_str());
    app.assert_ledger_balanced();
}

/// A co-op's rice SKU with `units` in stock, a buyer, and an order for two of them.
async fn two_bags_of_rice(app: &TestApp, units: i64) -> (String, Session, Value) {
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = shop.skus["5KG"].clone();
    app.receive(&shop.owner, &shop.coop, &sku, &shop.warehouse, units)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let body = json!({"items": [{"sku_id": sku, "quantity": 2}], "shipping_address": shantou()});
    (sku, buyer, body)
}

/// `n` requests for the same order under one Idempotency-Key, all at once.
async fn same_key_orders(
    app: &TestApp,
    token: &str,
    body: &Value,
    key: &str,
    n: usize,
) -> Vec<Resp> {
    let headers = [("Idempotency-Key", key)];
    let tries = (0..n).map(|_| {
        app.request(
            Method::POST,
            "/api/v1/orders",
            Some(token),
            Some(body.clone()),
            &headers,
        )
    });
    join_all(tries).await
}

#[actix_web::test]
async fn retries_racing_for_the_last_units_all_get_the_first_answer() {
    let app = spawn_app().await;
    let (sku, buyer, body) = two_bags_of_rice(&app, 2).await;
    // the first to commit takes all the stock: the others, whether they read the stock
    // before or after it, answer with its order, never with insufficient_stock
    let results = same_key_orders(&app, &buyer.token, &body, "last-two", 30).await;
    let first = results.iter().find(|r| r.status == 201).expect("one order");
    for r in &results {
        assert!(
            (r.status == 201 && r.body == first.body)
                || (r.status == 409 && r.body["code"] == "conflict"),
            "{} {}",
            r.status,
            r.body
        );
    }
    assert_eq!(app.reserved(&sku), 2);
}

#[actix_web::test]
async fn a_two_line_order_with_one_short_line_reserves_nothing() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let (a, b) = (&shop.skus["5KG"], &shop.skus["10KG"]);
    app.receive(&shop.owner, &shop.coop, a, &shop.warehouse, 10)
        .await;
    app.receive(&shop.owner, &shop.coop, b, &shop.warehouse, 1)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let problem = app
        .place_order(
            &buyer,
            json!([{"sku_id": a, "quantity": 3}, {"sku_id": b, "quantity": 2}]),
        )
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(
        problem["errors"],
        json!([{"field": "items[1]", "message": "only 1 available, 2 requested"}])
    );
    assert_eq!(
        problem["shortages"],
        json!([{"sku_id": b, "requested": 2, "available": 1}])
    );
    assert_eq!(app.reserved(a), 0);
    assert_eq!(app.reserved(b), 0);
    let none = app
        .get("/api/v1/orders", Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(none["items"], json!([]));
}

#[actix_web::test]
async fn sixty_buyers_racing_for_twenty_units_never_oversell() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = shop.skus["5KG"].clone();
    app.receive(&shop.owner, &shop.coop, &sku, &shop.warehouse, 20)
        .await;
    let mut buyers = Vec::new();
    for i in 0..6 {
        buyers.push(app.register(&format!("buyer{i}@example.cn")).await);
    }
    let attempts =
        (0..60).map(|i| app.place_order(&buyers[i % 6], json!([{"sku_id": sku, "quantity": 1}])));
    let results = join_all(attempts).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let refused = results
        .iter()
        .filter(|r| r.status == 409 && r.body["code"] == "insufficient_stock")
        .count();
    assert_eq!(
        (created, refused),
        (20, 40),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(app.available(&sku), 0);
    assert_eq!(app.reserved(&sku), 20);
    let numbers: HashSet<_> = results
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), 20, "order numbers are unique");
    // a refused attempt leaves no order behind (its rows were written with the reservation)
    let mut listed = 0;
    for b in &buyers {
        let orders = app.get("/api/v1/orders", Some(&b.token)).await.expect(200);
        listed += orders["items"].as_array().unwrap().len();
    }
    assert_eq!(listed, 20);
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn fifty_parallel_retries_with_one_key_make_one_order() {
    let app = spawn_app().await;
    let (sku, buyer, body) = two_bags_of_rice(&app, 100).await;
    let results = same_key_orders(&app, &buyer.token, &body, "checkout-7f3a", 50).await;
    let ok: Vec<&Resp> = results.iter().filter(|r| r.status == 201).collect();
    for r in &results {
        assert!(
            r.status == 201 || (r.status == 409 && r.body["code"] == "conflict"),
            "{} {}",
            r.status,
            r.body
        );
    }
    assert!(!ok.is_empty());
    assert!(ok.iter().all(|r| r.body == ok[0].body), "identical bodies");
    let orders = app
        .get("/api/v1/orders", Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(orders["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.reserved(&sku), 2);
    // a retry after the storm replays too; another body under the key is refused
    let again = app
        .request(
            Method::POST,
            "/api/v1/orders",
            Some(&buyer.token),
            Some(body),
            &[("Idempotency-Key", "checkout-7f3a")],
        )
        .await
        .expect(201);
    assert_eq!(again, ok[0].body);
    let other = json!({"items": [{"sku_id": sku, "quantity": 3}], "shipping_address": shantou()});
    app.request(
        Method::POST,
        "/api/v1/orders",
        Some(&buyer.token),
        Some(other),
        &[("Idempotency-Key", "checkout-7f3a")],
    )
    .await
    .expect_problem(422, "idempotency_conflict");
}

#[actix_web::test]
async fn the_cart_checks_out_with_the_same_totals_as_its_preview() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let (a, b) = (&shop.skus["5KG"], &shop.skus["10KG"]);
    app.receive(&shop.owner, &shop.coop, a, &shop.warehouse, 10)
        .await;
    app.receive(&shop.owner, &shop.coop, b, &shop.warehouse, 10)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    app.put(
        &format!("/api/v1/cart/items/{a}"),
        Some(&buyer.token),
        json!({"quantity": 1}),
    )
    .await
    .expect(200);
    let cart = app
        .put(
            &format!("/api/v1/cart/items/{b}"),
            Some(&buyer.token),
            json!({"quantity": 2}),
        )
        .await
        .expect(200);
    assert_eq!(cart["items"].as_array().unwrap().len(), 2);
    assert_eq!(cart["items"][1]["line_total"], "218.00");
    assert_eq!(cart["subtotal"], "277.90");
    app.put(
        &format!("/api/v1/cart/items/{a}"),
        Some(&buyer.token),
        json!({"quantity": 0}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let preview = app
        .post(
            "/api/v1/checkout/preview",
            Some(&buyer.token),
            json!({"shipping_address": shantou()}),
        )
        .await
        .expect(200);
    assert_eq!(app.reserved(a), 0, "a preview reserves nothing");
    let order = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"shipping_address": shantou()}),
        )
        .await
        .expect(201);
    for k in ["subtotal", "shipping_fee", "total"] {
        assert_eq!(preview[k], order[k], "{k}");
    }
    // free shipping over 199.00 for ambient goods to Guangdong
    assert_eq!(order["shipping_fee"], "0.00");
    let cart = app
        .get("/api/v1/cart", Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(cart["items"], json!([]), "ordered lines leave the cart");
    app.post(
        "/api/v1/orders",
        Some(&buyer.token),
        json!({"shipping_address": shantou()}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let cart = app
        .put(
            &format!("/api/v1/cart/items/{a}"),
            Some(&buyer.token),
            json!({"quantity": 1}),
        )
        .await
        .expect(200);
    assert_eq!(cart["items"].as_array().unwrap().len(), 1);
    let cart = app
        .delete(&format!("/api/v1/cart/items/{a}"), Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(cart["items"], json!([]));
}

#[actix_web::test]
async fn bad_addresses_and_lines_are_named() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let buyer = app.register("buyer@example.cn").await;
    let mut address = shantou();
    address["phone"] = json!("12345");
    address["province"] = json!("火星");
    address["line1"] = json!("");
    let problem = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"items": [{"sku_id": shop.skus["5KG"], "quantity": 0}], "shipping_address": address}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "shipping_address.phone",
            "shipping_address.province",
            "shipping_address.line1",
            "items[0].quantity"
        ]
    );
    let problem = app
        .place_order(
            &buyer,
            json!([{"sku_id": uuid::Uuid::new_v4(), "quantity": 1}]),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "items[0].sku_id");
    // a retail shopper may not buy the wholesale-only sack
    app.receive(
        &shop.owner,
        &shop.coop,
        &shop.skus["25KG"],
        &shop.warehouse,
        100,
    )
    .await;
    app.place_order(
        &buyer,
        json!([{"sku_id": shop.skus["25KG"], "quantity": 10}]),
    )
    .await
    .expect_problem(403, "forbidden");
}

#[actix_web::test]
async fn cancelling_releases_the_stock_once() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 4}]))
        .await
        .expect(201);
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let stranger = app.register("stranger@example.cn").await;
    app.post(&format!("{path}/cancel"), Some(&stranger.token), json!({}))
        .await
        .expect_problem(404, "not_found");
    app.get(&path, Some(&stranger.token))
        .await
        .expect_problem(404, "not_found");
    let r = app
        .request(
            Method::POST,
            &format!("{path}/cancel"),
            Some(&buyer.token),
            None,
            &[],
        )
        .await;
    let cancelled = r.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["fulfilments"][0]["status"], "cancelled");
    assert_eq!(app.reserved(sku), 0);
    assert_eq!(app.available(sku), 10);
    app.post(
        &format!("{path}/cancel"),
        Some(&buyer.token),
        json!({"reason": "again"}),
    )
    .await
    .expect_problem(409, "invalid_state");
    assert_eq!(app.available(sku), 10);
    app.post(
        &format!("{path}/confirm-receipt"),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");
    app.assert_ledger_balanced();
}

fn notification(payment: &Value, status: &str, amount: &Value) -> Value {
    json!({"payment_id": payment["id"], "status": status, "provider_reference": "SBX-42", "amount": amount})
}

#[actix_web::test]
async fn the_payment_webhook_is_signed_fresh_exact_and_idempotent() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    let order_path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let payment = app.pay_intent(&buyer, order["id"].as_str().unwrap()).await;
    assert_eq!(payment["provider"], "sandbox");
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["amount"], order["total"]);
    assert!(payment["pay_url"].as_str().unwrap().starts_with("https://"));
    let good = notification(&payment, "succeeded", &payment["amount"]);

    app.webhook(good.clone(), "wrong-secret", None)
        .await
        .expect_problem(401, "unauthorized");
    let old = chrono::Utc::now().timestamp() - 301;
    app.webhook(good.clone(), WEBHOOK_SECRET, Some(old))
        .await
        .expect_problem(401, "unauthorized");
    app.webhook(
        notification(&payment, "succeeded", &json!("0.01")),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect_problem(422, "validation_failed");
    let unsigned = app
        .send_raw(
            Method::POST,
            "/api/v1/payments/webhook",
            None,
            "application/json",
            good.to_string().into_bytes(),
        )
        .await;
    assert_eq!(unsigned.status, 401);
    assert_eq!(
        app.get(&order_path, Some(&buyer.token)).await.expect(200)["status"],
        "pending_payment",
        "no effect yet"
    );

    app.webhook(good.clone(), WEBHOOK_SECRET, None)
        .await
        .expect(200);
    let paid = app.get(&order_path, Some(&buyer.token)).await.expect(200);
    assert_eq!(paid["status"], "confirmed");
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(paid["fulfilments"][0]["status"], "awaiting_shipment");
    // at-least-once delivery: the repeat changes nothing
    app.webhook(good, WEBHOOK_SECRET, None).await.expect(200);
    assert_eq!(
        app.get(&order_path, Some(&buyer.token)).await.expect(200),
        paid
    );
    // a paid order takes no new payment
    app.post(
        &format!("{order_path}/payments"),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");
    // cancelling a paid order refunds it
    let cancelled = app
        .post(
            &format!("{order_path}/cancel"),
            Some(&buyer.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(cancelled["payment_status"], "refunded");
    assert_eq!(app.available(sku), 10);
}

#[actix_web::test]
async fn a_payment_for_a_cancelled_order_is_recorded_and_refunded() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap();
    let payment = app.pay_intent(&buyer, id).await;
    app.post(
        &format!("/api/v1/orders/{id}/cancel"),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .expect(200);
    app.webhook(
        notification(&payment, "succeeded", &payment["amount"]),
        WEBHOOK_SECRET,
        None,
    )
    .await
    .expect(200);
    let after = app
        .get(&format!("/api/v1/orders/{id}"), Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(after["status"], "cancelled");
    assert_eq!(after["payment_status"], "refunded");
    use diesel::prelude::*;
    use shanhe::db::schema::{payments, refunds};
    let mut conn = app.conn();
    let status: String = payments::table
        .find(payment["id"].as_str().unwrap())
        .select(payments::status)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(status, "refunded");
    let n: i64 = refunds::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(n, 1);
}

#[actix_web::test]
async fn without_a_webhook_secret_the_webhook_answers_503() {
    let app = spawn_app_with(|c| c.payment_webhook_secret = None).await;
    let r = app
        .webhook(
            json!({"payment_id": "x", "status": "succeeded", "amount": "1.00"}),
            WEBHOOK_SECRET,
            None,
        )
        .await;
    assert_eq!(r.status, 503);
}

#[actix_web::test]
async fn unpaid_orders_are_cancelled_after_the_timeout() {
    let app = spawn_app_with(|c| {
        // no sweep interval: it follows the timeout
        c.payment_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 3}]))
        .await
        .expect(201);
    assert_eq!(app.available(sku), 7);
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let mut status = String::new();
    for _ in 0..50 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        status = app.get(&path, Some(&buyer.token)).await.expect(200)["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status == "cancelled" {
            break;
        }
    }
    assert_eq!(status, "cancelled");
    assert_eq!(app.available(sku), 10);
    assert_eq!(app.reserved(sku), 0);
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn an_order_of_many_lines_keeps_them_in_the_order_asked() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let warehouse = app.create_warehouse(&owner, &coop, false).await;
    let mut skus = Vec::new();
    for i in 0..7 {
        let p = app
            .create_product(
                &owner,
                &coop,
                simple_product(
                    &format!("杂粮 {i}"),
                    &format!("GRAIN-{i}"),
                    "10.00",
                    "ambient",
                ),
            )
            .await;
        let p = app.publish_product(&owner, p["id"].as_str().unwrap()).await;
        let sku = p["skus"][0]["id"].as_str().unwrap().to_owned();
        app.receive(&owner, &coop, &sku, &warehouse, 5).await;
        skus.push(sku);
    }
    // asked in reverse, one to five of each: more rows than a kept statement holds
    let lines: Vec<Value> = skus
        .iter()
        .rev()
        .enumerate()
        .map(|(n, s)| json!({"sku_id": s, "quantity": n % 5 + 1}))
        .collect();
    let buyer = app.register("grains@example.cn").await;
    let order = app.place_order(&buyer, json!(lines)).await.expect(201);
    let read = app.read_order(&buyer, &order).await;
    let pairs = |lines: &[Value]| -> Vec<(String, i64)> {
        lines
            .iter()
            .map(|l| {
                (
                    l["sku_id"].as_str().unwrap().to_owned(),
                    l["quantity"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let asked = pairs(&lines);
    assert_eq!(pairs(read["items"].as_array().unwrap()), asked);
    assert_eq!(read["fulfilments"].as_array().unwrap().len(), 1);
    assert_eq!(read["subtotal"], "180.00"); // 18 units at 10.00
    for (sku, quantity) in &asked {
        assert_eq!(app.reserved(sku), *quantity);
    }
}

#[actix_web::test]
async fn an_order_pays_its_provinces_own_rate_else_the_any_province_rate() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = shop.skus["5KG"].clone();
    app.receive(&shop.owner, &shop.coop, &sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("rates@example.cn").await;
    let at = |province: &str, city: &str, district: &str| {
        json!({"recipient": "林小姐", "phone": "13800138000", "province": province,
               "city": city, "district": district, "line1": "长平路 88 号"})
    };
    // one 5 kg bag of rice (59.90, ambient): first kilogram plus four more at each rate
    for (address, fee) in [
        (at("广东省", "汕头市", "金平区"), "26.00"), // 10.00 + 4 × 4.00
        (at("黑龙江省", "鹤岗市", "向阳区"), "16.00"), // 8.00 + 4 × 2.00
        (at("北京市", "北京市", "朝阳区"), "32.00"), // no rate of its own: '*' 12.00 + 4 × 5.00
    ] {
        let order = app
            .place_order_at(
                &buyer,
                json!([{"sku_id": sku, "quantity": 1}]),
                address.clone(),
            )
            .await
            .expect(201);
        assert_eq!(order["shipping_fee"], fee, "{address}");
        assert_eq!(
            order["total"],
            format!("{:.2}", 59.90 + fee.parse::<f64>().unwrap())
        );
    }
}

#[actix_web::test]
async fn shipping_rates_are_public_and_admins_replace_them() {
    let app = spawn_app().await;
    let rates = app.get("/api/v1/shipping-rates", None).await.expect(200);
    let gd = rates["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["province"] == "广东省" && r["storage"] == "frozen")
        .unwrap()
        .clone();
    assert_eq!(gd["first_kg_fee"], "22.00");
    // Hegang to Guangdong: three days in a cold truck, four for ambient freight
    assert_eq!(gd["transit_days"], 3);
    let gd_ambient = rates["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["province"] == "广东省" && r["storage"] == "ambient")
        .unwrap();
    assert_eq!(gd_ambient["transit_days"], 4);
    let new = json!({"rates": [
        {"province": "*", "storage": "ambient", "first_kg_fee": "8.00", "additional_kg_fee": "1.00", "free_over": null},
        {"province": "*", "storage": "chilled", "first_kg_fee": "15.00", "additional_kg_fee": "5.00", "free_over": "300.00"},
        {"province": "*", "storage": "frozen", "first_kg_fee": "20.00", "additional_kg_fee": "6.00", "free_over": "400.00"}
    ]});
    let buyer = app.register("buyer@example.cn").await;
    app.put("/api/v1/shipping-rates", Some(&buyer.token), new.clone())
        .await
        .expect_problem(403, "forbidden");
    let admin = app.admin().await;
    app.put(
        "/api/v1/shipping-rates",
        Some(&admin.token),
        json!({"rates": [new["rates"][0]]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let mut too_slow = new.clone();
    too_slow["rates"][1]["transit_days"] = json!(61);
    let p = app
        .put("/api/v1/shipping-rates", Some(&admin.token), too_slow)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "rates[1].transit_days");
    let mut new = new;
    new["rates"][2]["transit_days"] = json!(5);
    let replaced = app
        .put("/api/v1/shipping-rates", Some(&admin.token), new)
        .await
        .expect(200);
    assert_eq!(replaced["items"].as_array().unwrap().len(), 3);
    // what GET answers goes straight back into PUT; a row without transit_days gets 3
    let frozen = replaced["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["storage"] == "frozen")
        .unwrap();
    assert_eq!(frozen["transit_days"], 5);
    let ambient = replaced["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["storage"] == "ambient")
        .unwrap();
    assert_eq!(ambient["transit_days"], 3);
    let shop = app.shop("绥滨合作社", "RICE").await;
    app.receive(
        &shop.owner,
        &shop.coop,
        &shop.skus["5KG"],
        &shop.warehouse,
        10,
    )
    .await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": shop.skus["5KG"], "quantity": 1}]))
        .await
        .expect(201);
    // 5 kg at the new '*' ambient rate: 8.00 + 4 × 1.00
    assert_eq!(order["shipping_fee"], "12.00");
    // what GET answers can be PUT back as it is
    let current = app.get("/api/v1/shipping-rates", None).await.expect(200);
    let again = app
        .put(
            "/api/v1/shipping-rates",
            Some(&admin.token),
            current.clone(),
        )
        .await
        .expect(200);
    assert_eq!(again["items"], current["items"]);
}

fn fast_sweeps(c: &mut shanhe::config::Config) {
    c.payment_timeout = std::time::Duration::from_secs(1);
    c.sweep_interval = Some(std::time::Duration::from_millis(100));
}

/// Three instances sweep one database every 100 ms while buyers cancel their own unpaid
/// orders through the other two: each order is cancelled once (stock comes back exactly),
/// a cancel that loses to a sweep is a 409, and sweeps go on past orders another instance
/// took, so every overdue order is cancelled.
#[actix_web::test]
async fn racing_sweeps_and_cancels_release_stock_exactly_once() {
    let app = spawn_app_with(fast_sweeps).await;
    let second = app.sibling(fast_sweeps);
    let third = app.sibling(fast_sweeps);
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 100)
        .await;
    let mut buyers = Vec::new();
    for i in 0..4 {
        buyers.push(app.register(&format!("buyer{i}@example.cn")).await);
    }
    let placed = join_all((0..24).map(|i| {
        let buyer = &buyers[i % 4];
        app.place_order(buyer, json!([{"sku_id": sku, "quantity": 2}]))
    }))
    .await;
    let orders: Vec<(usize, String)> = placed
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i % 4, r.expect(201)["id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(app.available(sku), 52);
    // the buyers cancel half of them just as the sweeps start taking them
    actix_web::rt::time::sleep(std::time::Duration::from_millis(900)).await;
    let cancels = join_all(orders.iter().step_by(2).enumerate().map(|(n, (b, id))| {
        let via = if n % 2 == 0 { &second } else { &third };
        let path = format!("/api/v1/orders/{id}/cancel");
        let token = buyers[*b].token.clone();
        async move { via.post(&path, Some(&token), json!({})).await }
    }))
    .await;
    for r in cancels {
        assert!(
            r.status == 200 || (r.status == 409 && r.body["code"] == "invalid_state"),
            "{} {}",
            r.status,
            r.body
        );
    }
    let mut left = orders.len();
    for _ in 0..100 {
        left = 0;
        for (b, id) in &orders {
            let o = app
                .get(&format!("/api/v1/orders/{id}"), Some(&buyers[*b].token))
                .await
                .expect(200);
            left += usize::from(o["status"] != "cancelled");
        }
        if left == 0 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "orders still not cancelled");
    assert_eq!(app.available(sku), 100);
}

/// Once a SKU has come up short, further orders for it are answered from a read (the same
/// 409 body); stock received meanwhile is seen at once, and a retried order keeps its answer.
#[actix_web::test]
async fn sold_out_answers_stay_exact_and_restock_is_seen_at_once() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 2)
        .await;
    let buyer = app.register("fan@example.cn").await;
    let one = json!({"items": [{"sku_id": sku, "quantity": 1}], "shipping_address": shantou()});
    let keyed = |key: &'static str| {
        let (body, token) = (one.clone(), buyer.token.clone());
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/orders",
                Some(&token),
                Some(body),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let first = keyed("live-1").await.expect(201);
    keyed("live-2").await.expect(201);
    // the write decides the first shortage, the read answers the next ones alike
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let p = app
            .place_order(&buyer, json!([{"sku_id": sku, "quantity": 1}]))
            .await
            .expect_problem(409, "insufficient_stock");
        bodies.push((p["errors"].clone(), p["shortages"].clone()));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(bodies[0].1[0]["available"], 0);
    assert_eq!(bodies[0].1[0]["requested"], 1);
    // a retry of an order that went through still gets its order, not the 409
    let again = keyed("live-1").await.expect(201);
    assert_eq!(again["id"], first["id"]);
    // restocked: the next order goes through at once
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 1)
        .await;
    app.place_order(&buyer, json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    assert_eq!(app.available(sku), 0);
}

/// Order numbers: `SH`, the day in China Standard Time, a dash, then the counter with at least
/// six digits, growing past six without losing any (PostgreSQL draws it inside the INSERT).
#[actix_web::test]
async fn order_numbers_carry_the_china_day_and_outgrow_six_digits() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("buyer@example.cn").await;
    let set_counter = if app.is_postgres() {
        "SELECT setval('order_number_seq', 999998)"
    } else {
        "UPDATE counters SET value = 999998 WHERE name = 'order_number'"
    };
    app.conn().batch_execute(set_counter).unwrap();
    let day = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y%m%d")
        .to_string();
    let mut numbers = Vec::new();
    for _ in 0..2 {
        let order = app
            .place_order(&buyer, json!([{"sku_id": sku, "quantity": 1}]))
            .await
            .expect(201);
        let number = order["number"].as_str().unwrap().to_owned();
        // the stored order says the same
        let id = order["id"].as_str().unwrap();
        let again = app
            .get(&format!("/api/v1/orders/{id}"), Some(&buyer.token))
            .await
            .expect(200);
        assert_eq!(again["number"], number.as_str());
        numbers.push(number);
    }
    let day_after = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y%m%d")
        .to_string();
    // (a run across China's midnight may see either day)
    let counters: Vec<&str> = numbers
        .iter()
        .map(|n| {
            let (prefix, counter) = n.split_once('-').unwrap();
            assert!(
                prefix == format!("SH{day}") || prefix == format!("SH{day_after}"),
                "{n}"
            );
            counter
        })
        .collect();
    assert_eq!(counters, vec!["999999", "1000000"]);
}
