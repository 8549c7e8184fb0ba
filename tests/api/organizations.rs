use awc::http::Method;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::*;

/// An approved restaurant with its owner and the rice shop stocked with sacks.
struct Restaurant {
    owner: Session,
    org: String,
    shop: Shop,
}

async fn restaurant(app: &TestApp, terms: &str, credit: Option<&str>) -> Restaurant {
    let shop = app.shop("绥滨合作社", "RICE").await;
    for sku in shop.skus.values() {
        app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 1000)
            .await;
    }
    let owner = app.register("chef@restaurant.cn").await;
    let org = app
        .post(
            "/api/v1/organizations",
            Some(&owner.token),
            json!({"name": "汕头老牌潮菜馆", "business_license_no": "91440500MA4UXXXX1", "city": "汕头市", "contact_phone": "0754-88881234"}),
        )
        .await
        .expect(201);
    assert_eq!(org["status"], "pending");
    let org = org["id"].as_str().unwrap().to_owned();
    let admin = app.admin().await;
    app.post(
        &format!("/api/v1/organizations/{org}/approve"),
        Some(&admin.token),
        json!({"payment_terms": terms, "credit_limit": credit}),
    )
    .await
    .expect(200);
    Restaurant { owner, org, shop }
}

fn business_order(org: &str, items: Value) -> Value {
    json!({"items": items, "shipping_address": shantou(), "organization_id": org, "purchase_order_number": "PO-2026-0042"})
}

#[actix_web::test]
async fn organizations_apply_and_admins_approve_or_reject() {
    let app = spawn_app().await;
    let owner = app.register("owner@market.cn").await;
    let apply = json!({"name": "金平区生鲜超市", "business_license_no": "91440500MA4U0001", "city": "汕头市", "contact_phone": "13800138000"});
    let org = app
        .post("/api/v1/organizations", Some(&owner.token), apply.clone())
        .await
        .expect(201);
    let id = org["id"].as_str().unwrap();
    let me = app.get("/api/v1/me", Some(&owner.token)).await.expect(200);
    assert_eq!(
        me["organizations"],
        json!([{"id": id, "name": "金平区生鲜超市", "role": "owner", "status": "pending"}])
    );
    app.post(
        &format!("/api/v1/organizations/{id}/approve"),
        Some(&owner.token),
        json!({"payment_terms": "prepaid"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let admin = app.admin().await;
    app.post(
        &format!("/api/v1/organizations/{id}/approve"),
        Some(&admin.token),
        json!({"payment_terms": "net_60"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let ok = app
        .post(
            &format!("/api/v1/organizations/{id}/approve"),
            Some(&admin.token),
            json!({"payment_terms": "net_30", "credit_limit": "5000.00"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            ok["status"].as_str(),
            ok["payment_terms"].as_str(),
            ok["credit_limit"].as_str()
        ),
        (Some("approved"), Some("net_30"), Some("5000.00"))
    );
    app.post(
        &format!("/api/v1/organizations/{id}/reject"),
        Some(&admin.token),
        json!({"reason": "late"}),
    )
    .await
    .expect_problem(409, "invalid_state");
    // another application is rejected with a reason
    let other = app
        .post("/api/v1/organizations", Some(&owner.token), apply)
        .await
        .expect(201);
    let rejected = app
        .post(
            &format!(
                "/api/v1/organizations/{}/reject",
                other["id"].as_str().unwrap()
            ),
            Some(&admin.token),
            json!({"reason": "营业执照不清晰"}),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["rejection_reason"], "营业执照不清晰");
    // the owner adds a member; members and admins read it, strangers do not
    let member = app.register("buyer@market.cn").await;
    app.post(
        &format!("/api/v1/organizations/{id}/members"),
        Some(&owner.token),
        json!({"email": "buyer@market.cn"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/organizations/{id}/members"),
        Some(&member.token),
        json!({"email": "owner@market.cn"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get(&format!("/api/v1/organizations/{id}"), Some(&member.token))
        .await
        .expect(200);
    app.get(&format!("/api/v1/organizations/{id}"), Some(&admin.token))
        .await
        .expect(200);
    let stranger = app.register("stranger@example.cn").await;
    app.get(
        &format!("/api/v1/organizations/{id}"),
        Some(&stranger.token),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        "/api/v1/organizations",
        Some(&owner.token),
        json!({"name": "", "business_license_no": "x", "city": "汕头市", "contact_phone": "1"}),
    )
    .await
    .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn business_buyers_get_tier_prices_and_respect_the_minimum() {
    let app = spawn_app().await;
    let r = restaurant(&app, "prepaid", None).await;
    let sack = &r.shop.skus["25KG"];
    let price_at = |q: i64| {
        let app = &app;
        let r = &r;
        async move {
            let v = app
                .post("/api/v1/checkout/preview", Some(&r.owner.token),
                      json!({"items": [{"sku_id": sack, "quantity": q}], "shipping_address": shantou(), "organization_id": r.org}))
                .await
                .expect(200);
            v["items"][0]["unit_price"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(price_at(4).await, "240.00");
    assert_eq!(price_at(9).await, "240.00");
    assert_eq!(price_at(10).await, "225.00");
    assert_eq!(price_at(39).await, "225.00");
    assert_eq!(price_at(40).await, "210.00");
    let problem = app
        .post(
            "/api/v1/orders",
            Some(&r.owner.token),
            business_order(&r.org, json!([{"sku_id": sack, "quantity": 3}])),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "items[0]");
    // without the organization the same buyer is a retail shopper
    app.place_order(&r.owner, json!([{"sku_id": sack, "quantity": 10}]))
        .await
        .expect_problem(403, "forbidden");
    let order = app
        .post(
            "/api/v1/orders",
            Some(&r.owner.token),
            business_order(&r.org, json!([{"sku_id": sack, "quantity": 10}])),
        )
        .await
        .expect(201);
    assert_eq!(
        order["status"], "pending_payment",
        "prepaid organizations pay first"
    );
    assert_eq!(order["organization_id"], r.org);
    assert_eq!(order["subtotal"], "2250.00");
    let found = app
        .get(
            "/api/v1/orders?purchase_order_number=PO-2026-0042",
            Some(&r.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    // a member who is not of the organization cannot order for it
    let outsider = app.register("outsider@example.cn").await;
    app.post(
        "/api/v1/orders",
        Some(&outsider.token),
        business_order(&r.org, json!([{"sku_id": sack, "quantity": 10}])),
    )
    .await
    .expect_problem(403, "forbidden");
}

#[actix_web::test]
async fn net_30_orders_are_confirmed_on_terms_within_the_credit_limit() {
    let app = spawn_app().await;
    let r = restaurant(&app, "net_30", Some("5000.00")).await;
    let sack = &r.shop.skus["25KG"];
    // 10 sacks at 225.00 = 2250.00, free shipping over 199.00
    let order = app
        .post(
            "/api/v1/orders",
            Some(&r.owner.token),
            business_order(&r.org, json!([{"sku_id": sack, "quantity": 10}])),
        )
        .await
        .expect(201);
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["payment_status"], "on_terms");
    assert_eq!(order["fulfilments"][0]["status"], "awaiting_shipment");
    assert_eq!(order["total"], "2250.00");
    app.post(
        "/api/v1/orders",
        Some(&r.owner.token),
        business_order(&r.org, json!([{"sku_id": sack, "quantity": 10}])),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/orders",
        Some(&r.owner.token),
        business_order(&r.org, json!([{"sku_id": sack, "quantity": 4}])),
    )
    .await
    .expect_problem(409, "conflict");
    let org = app
        .get(
            &format!("/api/v1/organizations/{}", r.org),
            Some(&r.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(org["credit_used"], "4500.00");
    // paying an on-terms order frees its credit
    let admin = app.admin().await;
    let paid = app
        .post(
            &format!("/api/v1/orders/{}/mark-paid", order["id"].as_str().unwrap()),
            Some(&admin.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(paid["payment_status"], "paid");
    app.post(
        &format!("/api/v1/orders/{}/mark-paid", order["id"].as_str().unwrap()),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");
    app.post(
        "/api/v1/orders",
        Some(&r.owner.token),
        business_order(&r.org, json!([{"sku_id": sack, "quantity": 4}])),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn the_credit_limit_holds_under_twenty_concurrent_orders() {
    let app = spawn_app().await;
    // each order: 4 sacks at 240.00 = 960.00; a 5000.00 limit takes exactly five
    let r = restaurant(&app, "net_30", Some("5000.00")).await;
    let sack = r.shop.skus["25KG"].clone();
    let body = business_order(&r.org, json!([{"sku_id": sack, "quantity": 4}]));
    let results =
        join_all((0..20).map(|_| app.post("/api/v1/orders", Some(&r.owner.token), body.clone())))
            .await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let refused = results
        .iter()
        .filter(|r| r.status == 409 && r.body["code"] == "conflict")
        .count();
    assert_eq!(
        (created, refused),
        (5, 15),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let org = app
        .get(
            &format!("/api/v1/organizations/{}", r.org),
            Some(&r.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(org["credit_used"], "4800.00");
    assert_eq!(app.reserved(&sack), 20);
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn a_spreadsheet_becomes_an_order() {
    let app = spawn_app().await;
    let r = restaurant(&app, "net_30", Some("50000.00")).await;
    let order = json!({"shipping_address": shantou(), "organization_id": r.org, "purchase_order_number": "PO-CSV-1"});
    let csv = "\u{feff}sku_code,quantity\r\nRICE-25KG,10\r\nRICE-10KG,3\r\n";
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("order", &order.to_string())
        .finish();
    let created = app
        .send_raw(
            Method::POST,
            &format!("/api/v1/orders/import?{query}"),
            Some(&r.owner.token),
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await
        .expect(201);
    assert_eq!(created["payment_status"], "on_terms");
    assert_eq!(created["purchase_order_number"], "PO-CSV-1");
    let lines: Vec<_> = created["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["sku_code"].as_str().unwrap(),
                i["quantity"].as_i64().unwrap(),
                i["unit_price"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![("RICE-25KG", 10, "225.00"), ("RICE-10KG", 3, "109.00")]
    );
    // the same as multipart/form-data
    let boundary = "shanhe-boundary";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"order\"\r\n\r\n{order}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"po.csv\"\r\nContent-Type: text/csv\r\n\r\nsku_code,quantity\nRICE-5KG,2\n\r\n--{boundary}--\r\n"
    );
    let created = app
        .send_raw(
            Method::POST,
            "/api/v1/orders/import",
            Some(&r.owner.token),
            &format!("multipart/form-data; boundary={boundary}"),
            multipart.into_bytes(),
        )
        .await
        .expect(201);
    assert_eq!(created["items"][0]["quantity"], 2);
}

#[actix_web::test]
async fn a_spreadsheet_with_bad_lines_names_them_all_and_creates_nothing() {
    let app = spawn_app().await;
    let r = restaurant(&app, "prepaid", None).await;
    let order = json!({"shipping_address": shantou(), "organization_id": r.org});
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("order", &order.to_string())
        .finish();
    let csv = "sku_code,quantity\nRICE-25KG,10\nNO-SUCH-SKU,1\nRICE-10KG,many\nRICE-25KG,2\n";
    let problem = app
        .send_raw(
            Method::POST,
            &format!("/api/v1/orders/import?{query}"),
            Some(&r.owner.token),
            "text/csv",
            csv.as_bytes().to_vec(),
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
        vec!["line 3", "line 4", "line 5"],
        "file and catalogue mistakes together: {problem}"
    );
    let csv = "sku_code,quantity\nRICE-25KG,10\nNO-SUCH-SKU,1\nRICE-5KG,1\nRICE-25KG,2\n";
    let problem = app
        .send_raw(
            Method::POST,
            &format!("/api/v1/orders/import?{query}"),
            Some(&r.owner.token),
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["line 3", "line 5"]);
    let orders = app
        .get("/api/v1/orders", Some(&r.owner.token))
        .await
        .expect(200);
    assert_eq!(orders["items"], json!([]));
    assert_eq!(app.reserved(&r.shop.skus["25KG"]), 0);
    app.send_raw(
        Method::POST,
        "/api/v1/orders/import",
        Some(&r.owner.token),
        "text/csv",
        csv.as_bytes().to_vec(),
    )
    .await
    .expect_problem(422, "validation_failed");
    let big = format!("sku_code,quantity\n{}", "RICE-5KG,1\n".repeat(120_000));
    app.send_raw(
        Method::POST,
        &format!("/api/v1/orders/import?{query}"),
        Some(&r.owner.token),
        "text/csv",
        big.into_bytes(),
    )
    .await
    .expect_problem(413, "payload_too_large");
}

#[actix_web::test]
async fn net_30_without_a_limit_has_no_ceiling() {
    let app = spawn_app().await;
    let r = restaurant(&app, "net_30", None).await;
    let sack = &r.shop.skus["25KG"];
    for _ in 0..3 {
        let o = app
            .post(
                "/api/v1/orders",
                Some(&r.owner.token),
                business_order(&r.org, json!([{"sku_id": sack, "quantity": 100}])),
            )
            .await
            .expect(201);
        assert_eq!(o["payment_status"], "on_terms");
    }
    let org = app
        .get(
            &format!("/api/v1/organizations/{}", r.org),
            Some(&r.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(org["credit_limit"], Value::Null);
    assert_eq!(org["credit_used"], "63000.00");
}

#[actix_web::test]
async fn racing_mark_paids_free_an_orders_credit_once() {
    let app = spawn_app().await;
    let r = restaurant(&app, "net_30", Some("5000.00")).await;
    let sack = &r.shop.skus["25KG"];
    // two open orders of 10 sacks at 225.00 = 2250.00 each
    let mut ids = Vec::new();
    for _ in 0..2 {
        let order = app
            .post(
                "/api/v1/orders",
                Some(&r.owner.token),
                business_order(&r.org, json!([{"sku_id": sack, "quantity": 10}])),
            )
            .await
            .expect(201);
        ids.push(order["id"].as_str().unwrap().to_owned());
    }
    let admin = app.admin().await;
    let path = format!("/api/v1/orders/{}/mark-paid", ids[0]);
    let results = join_all((0..6).map(|_| app.post(&path, Some(&admin.token), json!({})))).await;
    let paid = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(paid, 1, "one mark-paid wins");
    for r in results.into_iter().filter(|r| r.status != 200) {
        r.expect_problem(409, "invalid_state");
    }
    let org = app
        .get(
            &format!("/api/v1/organizations/{}", r.org),
            Some(&r.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(
        org["credit_used"], "2250.00",
        "only the paid order's credit came back; the other order still holds its own"
    );
}

/// On purpose (see the README): an order placed for an organization is the organization's, so
/// its owner may cancel (or confirm receipt of) an order a member placed.
#[actix_web::test]
async fn an_organizations_owner_may_act_on_a_members_order() {
    let app = spawn_app().await;
    let r = restaurant(&app, "prepaid", None).await;
    let member = app.register("cook@restaurant.cn").await;
    app.post(
        &format!("/api/v1/organizations/{}/members", r.org),
        Some(&r.owner.token),
        json!({"email": "cook@restaurant.cn"}),
    )
    .await
    .expect(201);
    let sack = &r.shop.skus["25KG"];
    let order = app
        .post(
            "/api/v1/orders",
            Some(&member.token),
            business_order(&r.org, json!([{"sku_id": sack, "quantity": 4}])),
        )
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap();
    let outsider = app.register("other@restaurant.cn").await;
    app.post(
        &format!("/api/v1/orders/{id}/cancel"),
        Some(&outsider.token),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            Some(&r.owner.token),
            json!({"reason": "菜单改了"}),
        )
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
}
