//! After-sales claims (售后): who opens them and on what, the decisions, the refunds they
//! settle with, the cold chain's own claims, and racing requests.

use diesel::prelude::*;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::*;

/// A paid order of 10 boxes of 东湖菊花 (12.50 each), 6 of them shipped.
struct Shipped {
    shop_owner: Session,
    coop: String,
    buyer: Session,
    order: Value,
    item: String,
}

async fn shipped(app: &TestApp, storage: &str) -> Shipped {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (owner, coop) = app
        .coop_owner(&format!("潮阳区农产品合作社 {}", &tag[..6]))
        .await;
    let wh = app
        .create_warehouse(&owner, &coop, storage != "ambient")
        .await;
    let p = app
        .create_product(
            &owner,
            &coop,
            simple_product("东湖菊花", "JH-100G", "12.50", storage),
        )
        .await;
    let p = app.publish_product(&owner, p["id"].as_str().unwrap()).await;
    let sku = p["skus"][0]["id"].as_str().unwrap().to_owned();
    app.receive(&owner, &coop, &sku, &wh, 100).await;
    let buyer = app.register(&format!("lin-{}@shantou.cn", &tag[..6])).await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 10}]))
        .await
        .expect(201);
    app.pay(&buyer, order["id"].as_str().unwrap()).await;
    let item = order["items"][0]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!(
            "/api/v1/fulfilments/{}/shipments",
            order["fulfilments"][0]["id"].as_str().unwrap()
        ),
        Some(&owner.token),
        json!({"carrier": "顺丰", "tracking_number": "SF100", "items": [{"order_item_id": item, "quantity": 6}]}),
    )
    .await
    .expect(201);
    Shipped {
        shop_owner: owner,
        coop,
        buyer,
        order,
        item,
    }
}

impl Shipped {
    fn claims_path(&self) -> String {
        format!(
            "/api/v1/orders/{}/claims",
            self.order["id"].as_str().unwrap()
        )
    }

    fn claim(&self, kind: &str, quantity: i64) -> Value {
        json!({"kind": kind, "reason": "damaged", "items": [{"order_item_id": self.item, "quantity": quantity}],
               "note": "两盒压坏", "evidence": ["https://img.example.cn/box.jpg"]})
    }
}

async fn order_now(app: &TestApp, s: &Shipped) -> Value {
    app.get(
        &format!("/api/v1/orders/{}", s.order["id"].as_str().unwrap()),
        Some(&s.buyer.token),
    )
    .await
    .expect(200)
}

#[actix_web::test]
async fn buyers_claim_shipped_units_and_the_co_op_decides_once() {
    let app = spawn_app().await;
    let s = shipped(&app, "ambient").await;
    let path = s.claims_path();
    // more than shipped
    let p = app
        .post(&path, Some(&s.buyer.token), s.claim("refund_only", 7))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "items[0]");
    let claim = app
        .request(
            awc::http::Method::POST,
            &path,
            Some(&s.buyer.token),
            Some(s.claim("refund_only", 4)),
            &[("Idempotency-Key", "claim-1")],
        )
        .await
        .expect(201);
    assert_eq!(claim["status"], "open");
    assert_eq!(claim["origin"], "buyer");
    assert_eq!(claim["requested_amount"], "50.00");
    assert_eq!(claim["items"][0]["amount"], "50.00");
    assert!(claim["approved_amount"].is_null());
    assert_eq!(claim["cooperative_id"], s.coop.as_str());
    // a retry is the same claim
    let again = app
        .request(
            awc::http::Method::POST,
            &path,
            Some(&s.buyer.token),
            Some(s.claim("refund_only", 4)),
            &[("Idempotency-Key", "claim-1")],
        )
        .await
        .expect(201);
    assert_eq!(again["id"], claim["id"]);
    // only 2 shipped units are left unclaimed
    let p = app
        .post(&path, Some(&s.buyer.token), s.claim("refund_only", 3))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "items[0]");
    // bad evidence, strangers
    let mut bad = s.claim("refund_only", 1);
    bad["evidence"] = json!(["javascript:alert(1)"]);
    app.post(&path, Some(&s.buyer.token), bad)
        .await
        .expect_problem(422, "validation_failed");
    let mut many = s.claim("refund_only", 1);
    many["evidence"] = json!(vec!["https://img.example.cn/a.jpg"; 11]);
    app.post(&path, Some(&s.buyer.token), many)
        .await
        .expect_problem(422, "validation_failed");
    let stranger = app.register("stranger@example.cn").await;
    app.post(&path, Some(&stranger.token), s.claim("refund_only", 1))
        .await
        .expect_problem(404, "not_found");
    let id = claim["id"].as_str().unwrap();
    app.get(&format!("/api/v1/claims/{id}"), Some(&stranger.token))
        .await
        .expect_problem(404, "not_found");
    let (other_coop, _) = app.coop_owner("别的合作社").await;
    app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&other_coop.token),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    // the buyer cannot approve their own claim
    app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&s.buyer.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");

    // the co-op's to-do list
    let todo = app
        .get(
            &format!("/api/v1/cooperatives/{}/claims?status=open", s.coop),
            Some(&s.shop_owner.token),
        )
        .await
        .expect(200);
    assert_eq!(todo["items"].as_array().unwrap().len(), 1);
    // a partial refund, at most what was asked
    app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&s.shop_owner.token),
        json!({"amount": "50.01"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let approved = app
        .post(
            &format!("/api/v1/claims/{id}/approve"),
            Some(&s.shop_owner.token),
            json!({"amount": "30.00"}),
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_amount"], "30.00");
    assert!(approved["resolved_at"].is_string());
    app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&s.shop_owner.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");
    let order = order_now(&app, &s).await;
    assert_eq!(order["refunded_total"], "30.00");
    assert_eq!(order["refunds"][0]["kind"], "claim");
    let listed = app.get(&path, Some(&s.buyer.token)).await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_rejected_claim_escalates_to_the_admin_and_returns_wait_for_the_goods() {
    let app = spawn_app().await;
    let s = shipped(&app, "ambient").await;
    let path = s.claims_path();
    let claim = app
        .post(&path, Some(&s.buyer.token), s.claim("refund_only", 2))
        .await
        .expect(201);
    let id = claim["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/claims/{id}/reject"),
        Some(&s.shop_owner.token),
        json!({"reason": " "}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let rejected = app
        .post(
            &format!("/api/v1/claims/{id}/reject"),
            Some(&s.shop_owner.token),
            json!({"reason": "照片看不出破损"}),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["rejection_reason"], "照片看不出破损");
    // rejected units are free to claim again
    assert_eq!(
        app.post(&path, Some(&s.buyer.token), s.claim("refund_only", 6))
            .await
            .status,
        201
    );
    // which leaves none for the escalation to take back
    app.post(
        &format!("/api/v1/claims/{id}/escalate"),
        Some(&s.buyer.token),
        json!({}),
    )
    .await
    .expect_problem(409, "conflict");

    let s = shipped(&app, "ambient").await;
    let claim = app
        .post(
            &s.claims_path(),
            Some(&s.buyer.token),
            s.claim("refund_only", 2),
        )
        .await
        .expect(201);
    let id = claim["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/claims/{id}/reject"),
        Some(&s.shop_owner.token),
        json!({"reason": "不予受理"}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&s.shop_owner.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");
    let escalated = app
        .post(
            &format!("/api/v1/claims/{id}/escalate"),
            Some(&s.buyer.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(escalated["status"], "escalated");
    app.post(
        &format!("/api/v1/claims/{id}/approve"),
        Some(&s.shop_owner.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");
    let admin = app.admin().await;
    let approved = app
        .post(
            &format!("/api/v1/claims/{id}/approve"),
            Some(&admin.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(approved["approved_amount"], "25.00");
    assert_eq!(order_now(&app, &s).await["refunded_total"], "25.00");
    let log = app
        .get(
            &format!("/api/v1/audit-events?target_id={id}"),
            Some(&admin.token),
        )
        .await
        .expect(200);
    assert_eq!(
        log["items"].as_array().unwrap().len(),
        3,
        "rejected, escalated, approved"
    );

    // an escalated claim the admin rejects stays rejected
    let claim = app
        .post(
            &s.claims_path(),
            Some(&s.buyer.token),
            s.claim("refund_only", 1),
        )
        .await
        .expect(201);
    let once = claim["id"].as_str().unwrap();
    for (who, step, body) in [
        (&s.shop_owner, "reject", json!({"reason": "不予受理"})),
        (&s.buyer, "escalate", json!({})),
        (&admin, "reject", json!({"reason": "平台复核：不予支持"})),
    ] {
        app.post(
            &format!("/api/v1/claims/{once}/{step}"),
            Some(&who.token),
            body,
        )
        .await
        .expect(200);
    }
    app.post(
        &format!("/api/v1/claims/{once}/escalate"),
        Some(&s.buyer.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");

    // return and refund: approved into awaiting_return, refunded when the goods are back
    let claim = app
        .post(
            &s.claims_path(),
            Some(&s.buyer.token),
            s.claim("return_and_refund", 1),
        )
        .await
        .expect(201);
    let id = claim["id"].as_str().unwrap();
    let waiting = app
        .post(
            &format!("/api/v1/claims/{id}/approve"),
            Some(&s.shop_owner.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(waiting["status"], "awaiting_return");
    assert_eq!(order_now(&app, &s).await["refunded_total"], "25.00");
    let done = app
        .post(
            &format!("/api/v1/claims/{id}/receive-return"),
            Some(&s.shop_owner.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "approved");
    assert_eq!(order_now(&app, &s).await["refunded_total"], "37.50");
}

#[actix_web::test]
async fn a_frozen_parcel_read_at_minus_5_opens_one_cold_chain_claim_on_delivery() {
    let app = spawn_app().await;
    let s = shipped(&app, "frozen").await;
    let order = order_now(&app, &s).await;
    let parcel = order["fulfilments"][0]["shipments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = format!("/api/v1/shipments/{parcel}/events");
    for (status, t) in [
        ("in_transit", -20.0),
        ("in_transit", -5.0),
        ("delivered", -19.0),
    ] {
        app.post(
            &events,
            Some(&s.shop_owner.token),
            json!({"status": status, "temperature_celsius": t, "location": "汕头"}),
        )
        .await
        .expect(201);
    }
    let claims = app
        .get(&s.claims_path(), Some(&s.buyer.token))
        .await
        .expect(200);
    let list = claims["items"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let c = &list[0];
    assert_eq!(c["origin"], "cold_chain");
    assert_eq!(c["reason"], "temperature");
    assert_eq!(c["kind"], "refund_only");
    assert_eq!(c["items"][0]["quantity"], 6);
    assert_eq!(c["readings"].as_array().unwrap().len(), 1);
    assert_eq!(c["readings"][0]["temperature_celsius"], -5.0);
    assert_eq!(c["readings"][0]["shipment_id"], parcel.as_str());
    // a second delivery is refused, so there is never a second claim
    app.post(
        &events,
        Some(&s.shop_owner.token),
        json!({"status": "delivered"}),
    )
    .await
    .expect_problem(409, "invalid_state");
    let todo = app
        .get(
            &format!("/api/v1/cooperatives/{}/claims?status=open", s.coop),
            Some(&s.shop_owner.token),
        )
        .await
        .expect(200);
    assert_eq!(todo["items"].as_array().unwrap().len(), 1);
    // a parcel that stayed cold opens nothing
    let s2 = shipped(&app, "frozen").await;
    let o2 = order_now(&app, &s2).await;
    let p2 = o2["fulfilments"][0]["shipments"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/shipments/{p2}/events"),
        Some(&s2.shop_owner.token),
        json!({"status": "delivered", "temperature_celsius": -18.0}),
    )
    .await
    .expect(201);
    let none = app
        .get(&s2.claims_path(), Some(&s2.buyer.token))
        .await
        .expect(200);
    assert!(none["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn claims_close_seven_days_after_delivery() {
    let app = spawn_app().await;
    let s = shipped(&app, "ambient").await;
    {
        use shanhe::db::schema::shipments;
        let mut conn = app.conn();
        diesel::update(
            shipments::table.filter(shipments::order_id.eq(s.order["id"].as_str().unwrap())),
        )
        .set(shipments::delivered_at.eq(Some(
            chrono::Utc::now().naive_utc() - chrono::Duration::days(8),
        )))
        .execute(&mut *conn)
        .unwrap();
    }
    app.post(
        &s.claims_path(),
        Some(&s.buyer.token),
        s.claim("refund_only", 1),
    )
    .await
    .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn racing_approvals_refund_once_and_racing_claims_never_pass_what_shipped() {
    let app = spawn_app().await;
    let s = shipped(&app, "ambient").await;
    let claim = app
        .post(
            &s.claims_path(),
            Some(&s.buyer.token),
            s.claim("refund_only", 2),
        )
        .await
        .expect(201);
    let id = claim["id"].as_str().unwrap();
    let approve = format!("/api/v1/claims/{id}/approve");
    let approvals =
        join_all((0..20).map(|_| app.post(&approve, Some(&s.shop_owner.token), json!({})))).await;
    let ok = approvals.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1);
    assert!(approvals.iter().all(|r| r.status == 200 || r.status == 409));
    let order = order_now(&app, &s).await;
    assert_eq!(order["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(order["refunded_total"], "25.00");

    // 4 shipped units remain unclaimed; ten claims of 2 race for them
    let path = s.claims_path();
    let results =
        join_all((0..10).map(|_| app.post(&path, Some(&s.buyer.token), s.claim("refund_only", 2))))
            .await;
    let created = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        2,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(results.iter().all(|r| r.status == 201 || r.status == 422));
    let item: (i64, i64) = {
        use shanhe::db::schema::order_items;
        let mut conn = app.conn();
        order_items::table
            .filter(order_items::id.eq(&s.item))
            .select((order_items::shipped_quantity, order_items::claimed_quantity))
            .first(&mut *conn)
            .unwrap()
    };
    assert_eq!(item, (6, 6));
}

#[actix_web::test]
async fn a_restaurant_rejecting_3_of_10_cartons_gets_an_inspection_claim_and_its_credit_back() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let wh = app.create_warehouse(&owner, &coop, false).await;
    let p = app
        .create_product(
            &owner,
            &coop,
            simple_product("有机大米 10 kg", "RICE-10", "100.00", "ambient"),
        )
        .await;
    let p = app.publish_product(&owner, p["id"].as_str().unwrap()).await;
    let sku = p["skus"][0]["id"].as_str().unwrap().to_owned();
    app.receive(&owner, &coop, &sku, &wh, 100).await;
    let chef = app.register("chef@restaurant.cn").await;
    let org = app
        .approved_organization(
            &chef,
            json!({"payment_terms": "net_30", "credit_limit": "10000.00"}),
        )
        .await;
    let order = app
        .post(
            "/api/v1/orders",
            Some(&chef.token),
            json!({"items": [{"sku_id": sku, "quantity": 10}], "shipping_address": shantou(), "organization_id": org}),
        )
        .await
        .expect(201);
    let item = order["items"][0]["id"].as_str().unwrap().to_owned();
    let parcel = app
        .post(
            &format!("/api/v1/fulfilments/{}/shipments", order["fulfilments"][0]["id"].as_str().unwrap()),
            Some(&owner.token),
            json!({"carrier": "德邦", "tracking_number": "DB1", "items": [{"order_item_id": item, "quantity": 10}]}),
        )
        .await
        .expect(201);
    let path = format!(
        "/api/v1/shipments/{}/inspection",
        parcel["id"].as_str().unwrap()
    );
    let credit = |v: &Value| v["credit_used"].as_str().unwrap().to_owned();
    let before = credit(
        &app.get(&format!("/api/v1/organizations/{org}"), Some(&chef.token))
            .await
            .expect(200),
    );
    // the counts must add up to what the parcel carried; strangers see nothing
    app.post(
        &path,
        Some(&chef.token),
        json!({"items": [{"order_item_id": item, "accepted_quantity": 7, "rejected_quantity": 2}]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &path,
        Some(&owner.token),
        json!({"items": [{"order_item_id": item, "accepted_quantity": 7, "rejected_quantity": 3}]}),
    )
    .await
    .expect_problem(404, "not_found");
    let inspected = app
        .post(
            &path,
            Some(&chef.token),
            json!({"items": [{"order_item_id": item, "accepted_quantity": 7, "rejected_quantity": 3, "reason": "三箱受潮"}]}),
        )
        .await
        .expect(201);
    assert_eq!(inspected["status"], "delivered");
    let claim = &inspected["claim"];
    assert_eq!(claim["origin"], "inspection");
    assert_eq!(claim["items"][0]["quantity"], 3);
    assert_eq!(claim["requested_amount"], "300.00");
    let now = app.read_order(&chef, &order).await;
    assert_eq!(now["status"], "delivered");
    app.post(
        &format!("/api/v1/claims/{}/approve", claim["id"].as_str().unwrap()),
        Some(&owner.token),
        json!({}),
    )
    .await
    .expect(200);
    let after = credit(
        &app.get(&format!("/api/v1/organizations/{org}"), Some(&chef.token))
            .await
            .expect(200),
    );
    let dec = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
    assert_eq!(dec(&before) - dec(&after), dec("300.00"));
}
