//! Freshness: lots with dates, first-expired-first-out reservations, shelf-life guarantees,
//! expiry, traceability, recall and the public 溯源 page and label.

use awc::http::Method;
use diesel::prelude::*;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::*;

/// A co-op selling frozen pears by lot from its cold store.
struct PearShop {
    owner: Session,
    coop: String,
    cold: String,
    ambient: String,
    product: String,
    sku: String,
}

async fn pear_shop(app: &TestApp) -> PearShop {
    let (owner, coop) = app.coop_owner("萝北冻梨合作社").await;
    let ambient = app.create_warehouse(&owner, &coop, false).await;
    let cold = app.create_warehouse(&owner, &coop, true).await;
    let product = app
        .create_product(
            &owner,
            &coop,
            json!({"name": "萝北冻梨", "origin": "黑龙江省鹤岗市萝北县", "storage": "frozen",
                   "shelf_life_days": 180, "certifications": ["绿色食品"],
                   "skus": [{"code": "PEAR-5KG", "name": "5 kg 箱", "unit": "箱", "net_weight_grams": 5000,
                             "price": "68.00", "sales_channel": "both", "lot_tracked": true}]}),
        )
        .await;
    assert_eq!(product["skus"][0]["lot_tracked"], true);
    assert_eq!(product["certifications"], json!(["green_food"]));
    let id = product["id"].as_str().unwrap().to_owned();
    app.publish_product(&owner, &id).await;
    PearShop {
        sku: product["skus"][0]["id"].as_str().unwrap().to_owned(),
        owner,
        coop,
        cold,
        ambient,
        product: id,
    }
}

impl PearShop {
    async fn lot(&self, app: &TestApp, code: &str, quantity: i64, days: i64) -> Value {
        let lot = json!({"sku_id": self.sku, "warehouse_id": self.cold, "code": code,
                         "quantity": quantity, "best_before": days_from_today(days)});
        app.receive_lot(&self.owner, &self.coop, lot).await
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// (lot code, quantity) of an order item's lots, in the order shown.
fn lots_of(item: &Value) -> Vec<(String, i64)> {
    item["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn lot_now(app: &TestApp, by: &Session, lot: &str) -> Value {
    app.get(&format!("/api/v1/lots/{lot}"), Some(&by.token))
        .await
        .expect(200)
}

async fn available(app: &TestApp, product: &str) -> i64 {
    let p = app
        .get(&format!("/api/v1/products/{product}"), None)
        .await
        .expect(200);
    p["skus"][0]["available"].as_i64().unwrap()
}

#[actix_web::test]
async fn co_ops_receive_lots_with_dates_and_keep_them_true() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    let url = format!("/api/v1/cooperatives/{}/lots", s.coop);
    // packed today by default, best before = packed + the product's shelf life
    let body = json!({"sku_id": s.sku, "warehouse_id": s.cold, "code": "LB-2026-11-A", "quantity": 40,
                      "harvested_on": days_from_today(-30), "origin": "萝北县名山镇", "certificate_no": "LB-GF-0042"});
    let first = app
        .request(
            Method::POST,
            &url,
            Some(&s.owner.token),
            Some(body.clone()),
            &[("Idempotency-Key", "lot-a")],
        )
        .await
        .expect(201);
    assert_eq!(first["packed_on"], days_from_today(0));
    assert_eq!(first["best_before"], days_from_today(180));
    assert_eq!(first["status"], "active");
    assert_eq!(
        (
            first["received_quantity"].as_i64(),
            first["on_hand"].as_i64(),
            first["available"].as_i64()
        ),
        (Some(40), Some(40), Some(40))
    );
    let code = first["trace_code"].as_str().unwrap();
    assert!(code.len() >= 10);
    assert_eq!(first["trace_url"], format!("{}/t/{code}", app.base));
    // a retry is the same lot, not a second one
    let again = app
        .request(
            Method::POST,
            &url,
            Some(&s.owner.token),
            Some(body.clone()),
            &[("Idempotency-Key", "lot-a")],
        )
        .await
        .expect(201);
    assert_eq!(again["id"], first["id"]);
    // the code is the co-op's batch number: once per SKU
    let dup = app.post(&url, Some(&s.owner.token), body.clone()).await;
    let problem = dup.expect_problem(409, "conflict");
    assert_eq!(problem["errors"][0]["field"], "code");
    // bad input, each named
    for (patch, field) in [
        (json!({"best_before": days_from_today(-1)}), "best_before"),
        (json!({"best_before": "2026-02-30"}), "best_before"),
        (json!({"packed_on": "29/11/2026"}), "packed_on"),
        (json!({"quantity": 0}), "quantity"),
        (json!({"quantity": -5}), "quantity"),
        (json!({"code": "=HYPERLINK(\"x\")"}), "code"),
        (json!({"harvested_on": days_from_today(3)}), "harvested_on"),
    ] {
        let mut b = body.clone();
        b["code"] = json!("LB-NEW");
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let p = app
            .post(&url, Some(&s.owner.token), b)
            .await
            .expect_problem(422, "validation_failed");
        assert!(
            p["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{field}: {p}"
        );
    }
    // no shelf life and no best_before: nothing to count from
    let rice = app.shop("绥滨合作社", "RICE").await;
    let no_life = app
        .create_product(&rice.owner, &rice.coop, json!({"name": "鲜食玉米", "origin": "绥滨", "storage": "chilled",
            "skus": [{"code": "CORN", "name": "10 穗", "unit": "袋", "net_weight_grams": 3000, "price": "30.00",
                      "sales_channel": "retail", "lot_tracked": true}]}))
        .await;
    let p = app
        .post(
            &format!("/api/v1/cooperatives/{}/lots", rice.coop),
            Some(&rice.owner.token),
            json!({"sku_id": no_life["skus"][0]["id"], "warehouse_id": rice.cold_warehouse, "code": "C1", "quantity": 5}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "best_before");
    // an untracked SKU takes no lots; another co-op's SKU or warehouse is not found
    app.post(
        &format!("/api/v1/cooperatives/{}/lots", rice.coop),
        Some(&rice.owner.token),
        json!({"sku_id": rice.skus["5KG"], "warehouse_id": rice.warehouse, "code": "R1", "quantity": 5, "best_before": days_from_today(300)}),
    )
    .await
    .expect_problem(409, "conflict");
    let mut theirs = body.clone();
    theirs["warehouse_id"] = json!(rice.warehouse);
    app.post(&url, Some(&s.owner.token), theirs)
        .await
        .expect_problem(404, "not_found");
    let mut theirs = body.clone();
    theirs["sku_id"] = json!(rice.skus["5KG"]);
    app.post(&url, Some(&s.owner.token), theirs)
        .await
        .expect_problem(404, "not_found");

    // another co-op's member sees none of it
    let lot = id(&first);
    app.get(&format!("/api/v1/lots/{lot}"), Some(&rice.owner.token))
        .await
        .expect_problem(404, "not_found");
    app.post(
        &format!("/api/v1/lots/{lot}/hold"),
        Some(&rice.owner.token),
        json!({"reason": "x"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        &format!("/api/v1/lots/{lot}/adjustments"),
        Some(&rice.owner.token),
        json!({"delta": -1}),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/lots/{lot}/trace"),
        Some(&rice.owner.token),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/lots/{lot}/label.svg"),
        Some(&rice.owner.token),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(&url, Some(&rice.owner.token))
        .await
        .expect_problem(403, "forbidden");

    // the stock row is the sum of the lots, and only lots move it
    s.lot(&app, "LB-2026-11-B", 10, 20).await;
    let row = app.stock_row(&s.owner, &s.coop, &s.sku, &s.cold).await;
    assert_eq!(row["on_hand"], 50);
    assert_eq!(available(&app, &s.product).await, 50);
    app.put(
        &format!("/api/v1/skus/{}/stock/{}", s.sku, s.cold),
        Some(&s.owner.token),
        json!({"on_hand": 10, "reason": "盘点"}),
    )
    .await
    .expect_problem(409, "conflict");
    let p = app
        .post(
            &format!("/api/v1/cooperatives/{}/stock/adjustments", s.coop),
            Some(&s.owner.token),
            json!({"adjustments": [{"sku_id": s.sku, "warehouse_id": s.cold, "delta": 5}]}),
        )
        .await
        .expect_problem(409, "conflict");
    assert_eq!(p["errors"][0]["field"], "adjustments[0].sku_id");

    // adjust: damage out, never below what is reserved
    let adjusted = app
        .post(
            &format!("/api/v1/lots/{lot}/adjustments"),
            Some(&s.owner.token),
            json!({"delta": -4, "reason": "破损"}),
        )
        .await
        .expect(200);
    assert_eq!(adjusted["on_hand"], 36);
    app.post(
        &format!("/api/v1/lots/{lot}/adjustments"),
        Some(&s.owner.token),
        json!({"delta": 0}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &format!("/api/v1/lots/{lot}/adjustments"),
        Some(&s.owner.token),
        json!({"delta": -37}),
    )
    .await
    .expect_problem(409, "conflict");

    // hold: not sellable, still listed; release: back
    let held = app
        .post(
            &format!("/api/v1/lots/{lot}/hold"),
            Some(&s.owner.token),
            json!({"reason": "抽检"}),
        )
        .await
        .expect(200);
    assert_eq!(held["status"], "held");
    assert_eq!(held["available"], 0);
    assert_eq!(available(&app, &s.product).await, 10);
    let listed = app
        .get(&format!("{url}?status=held"), Some(&s.owner.token))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let released = app
        .post(
            &format!("/api/v1/lots/{lot}/release"),
            Some(&s.owner.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(released["status"], "active");
    assert_eq!(available(&app, &s.product).await, 46);

    // the list: earliest best_before first; expiring soon; bad filters named
    let all = app.get(&url, Some(&s.owner.token)).await.expect(200);
    let codes: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["LB-2026-11-B", "LB-2026-11-A"]);
    let soon = app
        .get(
            &format!("{url}?expiring_within_days=30"),
            Some(&s.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(soon["items"].as_array().unwrap().len(), 1);
    assert_eq!(soon["items"][0]["code"], "LB-2026-11-B");
    app.get(&format!("{url}?status=rotten"), Some(&s.owner.token))
        .await
        .expect_problem(422, "validation_failed");
    app.get(
        &format!("{url}?expiring_within_days=-1"),
        Some(&s.owner.token),
    )
    .await
    .expect_problem(422, "validation_failed");
    let page = app
        .get(&format!("{url}?limit=1"), Some(&s.owner.token))
        .await
        .expect(200);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("{url}?limit=1&cursor={next}"),
            Some(&s.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(rest["items"][0]["code"], "LB-2026-11-A");

    // the ledger names the lot of every movement
    let moves = app
        .get(
            &format!("/api/v1/skus/{}/stock/movements", s.sku),
            Some(&s.owner.token),
        )
        .await
        .expect(200);
    assert!(moves["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["lot_id"].is_string()));
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn lot_tracking_switches_only_while_a_sku_has_no_stock() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let product = shop.product["id"].as_str().unwrap();
    let skus = shop.product["skus"].clone();
    let patch = |code: &str| {
        let mut sku = skus
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == code)
            .unwrap()
            .clone();
        sku["lot_tracked"] = json!(true);
        json!({"skus": [sku]})
    };
    app.receive(
        &shop.owner,
        &shop.coop,
        &shop.skus["5KG"],
        &shop.warehouse,
        10,
    )
    .await;
    let p = app
        .patch(
            &format!("/api/v1/products/{product}"),
            Some(&shop.owner.token),
            patch("RICE-5KG"),
        )
        .await
        .expect_problem(409, "conflict");
    assert_eq!(p["errors"][0]["field"], "skus[0].lot_tracked");
    let done = app
        .patch(
            &format!("/api/v1/products/{product}"),
            Some(&shop.owner.token),
            patch("RICE-10KG"),
        )
        .await
        .expect(200);
    let ten = done["skus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "RICE-10KG")
        .unwrap();
    assert_eq!(ten["lot_tracked"], true);
    let five = done["skus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "RICE-5KG")
        .unwrap();
    assert_eq!(five["lot_tracked"], false);
}

#[actix_web::test]
async fn orders_take_the_earliest_lot_first_and_span_lots() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    s.lot(&app, "A-40", 3, 40).await;
    s.lot(&app, "B-20", 4, 20).await;
    s.lot(&app, "C-60", 10, 60).await;
    // frozen pears in the ambient store are never sent, however early their date
    let warm = json!({"sku_id": s.sku, "warehouse_id": s.ambient, "code": "WARM-5",
                      "quantity": 50, "best_before": days_from_today(5)});
    app.receive_lot(&s.owner, &s.coop, warm).await;
    let buyer = app.register("lin@shantou.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 6}]))
        .await
        .expect(201);
    assert_eq!(
        lots_of(&order["items"][0]),
        [("B-20".to_owned(), 4), ("A-40".to_owned(), 2)]
    );
    assert_eq!(
        lots_of(&order["fulfilments"][0]["items"][0]),
        [("B-20".to_owned(), 4), ("A-40".to_owned(), 2)]
    );
    let again = app
        .get(
            &format!("/api/v1/orders/{}", id(&order)),
            Some(&buyer.token),
        )
        .await
        .expect(200);
    assert_eq!(
        lots_of(&again["items"][0]),
        [("B-20".to_owned(), 4), ("A-40".to_owned(), 2)]
    );
    let next = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 3}]))
        .await
        .expect(201);
    assert_eq!(
        lots_of(&next["items"][0]),
        [("A-40".to_owned(), 1), ("C-60".to_owned(), 2)]
    );
    // 8 of the cold store's 17 left (the public figure counts every warehouse's lots, as it
    // does every warehouse's stock of an untracked SKU); checkout counts only the cold store
    assert_eq!(available(&app, &s.product).await, 8 + 50);
    let short = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 9}]))
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(short["shortages"][0]["available"], 8);
    app.assert_ledger_balanced();
}

/// An approved supermarket that needs `days` of shelf life left on arrival.
async fn supermarket(app: &TestApp, days: i64) -> (Session, String) {
    let owner = app.register("buyer@supermarket.cn").await;
    let org = app
        .post(
            "/api/v1/organizations",
            Some(&owner.token),
            json!({"name": "汕头华润万家", "business_license_no": "91440500MA4SUPER1", "city": "汕头市", "contact_phone": "0754-88880000"}),
        )
        .await
        .expect(201);
    let org = id(&org);
    let admin = app.admin().await;
    let approved = app
        .post(
            &format!("/api/v1/organizations/{org}/approve"),
            Some(&admin.token),
            json!({"payment_terms": "prepaid", "min_remaining_shelf_life_days": days}),
        )
        .await
        .expect(200);
    assert_eq!(approved["min_remaining_shelf_life_days"], days);
    (owner, org)
}

#[actix_web::test]
async fn a_supermarket_needing_30_days_skips_a_lot_a_shopper_may_still_buy() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    s.lot(&app, "SHORT-10", 5, 10).await;
    s.lot(&app, "LONG-100", 4, 100).await;
    let (buyer, org) = supermarket(&app, 30).await;
    let order = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"items": [{"sku_id": s.sku, "quantity": 3}], "shipping_address": shantou(), "organization_id": org}),
        )
        .await
        .expect(201);
    assert_eq!(lots_of(&order["items"][0]), [("LONG-100".to_owned(), 3)]);
    // one left that keeps 30 days: the short lot does not count for this buyer
    let short = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"items": [{"sku_id": s.sku, "quantity": 2}], "shipping_address": shantou(), "organization_id": org}),
        )
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(short["shortages"][0]["available"], 1);
    // a shopper takes the short lot first
    let shopper = app.register("lin@shantou.cn").await;
    let theirs = app
        .place_order(&shopper, json!([{"sku_id": s.sku, "quantity": 2}]))
        .await
        .expect(201);
    assert_eq!(lots_of(&theirs["items"][0]), [("SHORT-10".to_owned(), 2)]);

    // admins change the requirement later; nobody else may
    let admin = app.admin().await;
    app.patch(
        &format!("/api/v1/organizations/{org}"),
        Some(&buyer.token),
        json!({"min_remaining_shelf_life_days": 0}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.patch(
        &format!("/api/v1/organizations/{org}"),
        Some(&admin.token),
        json!({"min_remaining_shelf_life_days": 99999}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let changed = app
        .patch(
            &format!("/api/v1/organizations/{org}"),
            Some(&admin.token),
            json!({"min_remaining_shelf_life_days": 0}),
        )
        .await
        .expect(200);
    assert_eq!(changed["min_remaining_shelf_life_days"], 0);
    let now_ok = app
        .post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"items": [{"sku_id": s.sku, "quantity": 2}], "shipping_address": shantou(), "organization_id": org}),
        )
        .await
        .expect(201);
    assert_eq!(lots_of(&now_ok["items"][0]), [("SHORT-10".to_owned(), 2)]);
}

/// Moves a lot's date into the past, as time would (the API refuses past dates).
fn age_lot(app: &TestApp, lot: &str, days_ago: i64) {
    use shanhe::db::schema::lots;
    let mut conn = app.conn();
    diesel::update(lots::table.filter(lots::id.eq(lot)))
        .set(lots::best_before.eq(days_from_today(-days_ago)))
        .execute(&mut *conn)
        .unwrap();
}

#[actix_web::test]
async fn held_and_expired_lots_are_not_sold() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    let held = s.lot(&app, "HELD", 5, 30).await;
    let old = s.lot(&app, "OLD", 5, 30).await;
    app.post(
        &format!("/api/v1/lots/{}/hold", id(&held)),
        Some(&s.owner.token),
        json!({"reason": "农残抽检"}),
    )
    .await
    .expect(200);
    age_lot(&app, &id(&old), 1);
    let expired = lot_now(&app, &s.owner, &id(&old)).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["available"], 0);
    assert_eq!(expired["on_hand"], 5, "kept for write-off");
    assert_eq!(available(&app, &s.product).await, 0);
    app.put(
        &format!("/api/v1/cart/items/{}", s.sku),
        Some(&s.owner.token),
        json!({"quantity": 1}),
    )
    .await
    .expect(200);
    let cart = app
        .get("/api/v1/cart", Some(&s.owner.token))
        .await
        .expect(200);
    assert_eq!(
        cart["items"][0]["available"], 0,
        "the cart counts sellable lots only"
    );
    let in_stock = app
        .get(
            &format!("/api/v1/products?in_stock=true&cooperative_id={}", s.coop),
            None,
        )
        .await
        .expect(200);
    assert!(in_stock["items"].as_array().unwrap().is_empty());
    let buyer = app.register("lin@shantou.cn").await;
    let short = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 1}]))
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(short["shortages"][0]["available"], 0);
    // the next order for the SKU is answered from a read (the sold-out shortcut), with the
    // same count of sellable units, not the held and expired ones
    let again = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 20}]))
        .await
        .expect_problem(409, "insufficient_stock");
    assert_eq!(again["shortages"][0]["available"], 0);
    let listed = app
        .get(
            &format!("/api/v1/cooperatives/{}/lots?status=expired", s.coop),
            Some(&s.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["code"], "OLD");
    // written off: depleted
    let gone = app
        .post(
            &format!("/api/v1/lots/{}/adjustments", id(&old)),
            Some(&s.owner.token),
            json!({"delta": -5, "reason": "过期报废"}),
        )
        .await
        .expect(200);
    assert_eq!(gone["status"], "depleted");
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn cancellation_and_partial_shipments_move_exactly_the_reserved_lots() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    let a = s.lot(&app, "A", 4, 20).await;
    let b = s.lot(&app, "B", 10, 40).await;
    let buyer = app.register("lin@shantou.cn").await;
    let cancelled = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 6}]))
        .await
        .expect(201);
    assert_eq!(lot_now(&app, &s.owner, &id(&a)).await["reserved"], 4);
    assert_eq!(lot_now(&app, &s.owner, &id(&b)).await["reserved"], 2);
    app.post(
        &format!("/api/v1/orders/{}/cancel", id(&cancelled)),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(lot_now(&app, &s.owner, &id(&a)).await["reserved"], 0);
    assert_eq!(lot_now(&app, &s.owner, &id(&b)).await["reserved"], 0);

    let order = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 6}]))
        .await
        .expect(201);
    app.pay(&buyer, &id(&order)).await;
    // the co-op sees which lots to pick, before shipping
    let trace_b = app
        .get(
            &format!("/api/v1/lots/{}/trace", id(&b)),
            Some(&s.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(trace_b["reservations"][0]["order_id"], order["id"]);
    assert_eq!(trace_b["reservations"][0]["quantity"], 2);
    let fulfilment = order["fulfilments"][0]["id"].as_str().unwrap();
    let item = order["items"][0]["id"].as_str().unwrap();
    let ship = |q: i64, tracking: &str| json!({"carrier": "顺丰冷运", "tracking_number": tracking, "items": [{"order_item_id": item, "quantity": q}]});
    let first = app
        .post(
            &format!("/api/v1/fulfilments/{fulfilment}/shipments"),
            Some(&s.owner.token),
            ship(3, "SF1001"),
        )
        .await
        .expect(201);
    assert_eq!(lots_of(&first["items"][0]), [("A".to_owned(), 3)]);
    let second = app
        .post(
            &format!("/api/v1/fulfilments/{fulfilment}/shipments"),
            Some(&s.owner.token),
            ship(3, "SF1002"),
        )
        .await
        .expect(201);
    assert_eq!(
        lots_of(&second["items"][0]),
        [("A".to_owned(), 1), ("B".to_owned(), 2)]
    );
    let a_now = lot_now(&app, &s.owner, &id(&a)).await;
    assert_eq!(
        (
            a_now["on_hand"].as_i64(),
            a_now["reserved"].as_i64(),
            a_now["status"].as_str()
        ),
        (Some(0), Some(0), Some("depleted"))
    );
    let b_now = lot_now(&app, &s.owner, &id(&b)).await;
    assert_eq!(
        (b_now["on_hand"].as_i64(), b_now["reserved"].as_i64()),
        (Some(8), Some(0))
    );
    // tracking shows the lots of each parcel too
    let tracking = app
        .get(
            &format!("/api/v1/orders/{}/tracking", id(&order)),
            Some(&buyer.token),
        )
        .await
        .expect(200);
    assert!(tracking.to_string().contains("\"code\":\"B\""));

    // a reading on the way, then delivery; the trace names the buyer, dates and temperatures
    let parcel = second["id"].as_str().unwrap();
    for (status, t) in [
        ("in_transit", -19.5),
        ("in_transit", -16.0),
        ("delivered", -18.0),
    ] {
        app.post(
            &format!("/api/v1/shipments/{parcel}/events"),
            Some(&s.owner.token),
            json!({"status": status, "temperature_celsius": t, "location": "汕头"}),
        )
        .await
        .expect(201);
    }
    let trace_b = app
        .get(
            &format!("/api/v1/lots/{}/trace", id(&b)),
            Some(&s.owner.token),
        )
        .await
        .expect(200);
    assert!(trace_b["reservations"].as_array().unwrap().is_empty());
    let shipped = &trace_b["shipments"][0];
    assert_eq!(shipped["buyer_id"], buyer.user_id);
    assert_eq!(shipped["order_number"], order["number"]);
    assert_eq!(shipped["quantity"], 2);
    assert_eq!(shipped["temperature"]["min_celsius"], -19.5);
    assert_eq!(shipped["temperature"]["max_celsius"], -16.0);
    assert!(shipped["delivered_at"].is_string());
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn a_recall_holds_the_lot_and_names_every_order_it_reached_once() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    let lot = s.lot(&app, "R1", 10, 30).await;
    let lot_id = id(&lot);
    let buyer = app.register("lin@shantou.cn").await;
    let shipped = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 2}]))
        .await
        .expect(201);
    app.pay(&buyer, &id(&shipped)).await;
    app.post(
        &format!("/api/v1/fulfilments/{}/shipments", shipped["fulfilments"][0]["id"].as_str().unwrap()),
        Some(&s.owner.token),
        json!({"carrier": "顺丰冷运", "tracking_number": "SF2001", "items": [{"order_item_id": shipped["items"][0]["id"], "quantity": 2}]}),
    )
    .await
    .expect(201);
    let waiting = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 3}]))
        .await
        .expect(201);
    let cancelled = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 1}]))
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/orders/{}/cancel", id(&cancelled)),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .expect(200);

    let staff_email = "staff@luobei.cn";
    let staff = app.register(staff_email).await;
    app.add_coop_member(&s.owner, &s.coop, staff_email, "staff")
        .await;
    app.post(
        &format!("/api/v1/lots/{lot_id}/recall"),
        Some(&staff.token),
        json!({"reason": "检出超标"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let recall = app
        .post(
            &format!("/api/v1/lots/{lot_id}/recall"),
            Some(&s.owner.token),
            json!({"reason": "检出超标"}),
        )
        .await
        .expect(200);
    assert_eq!(recall["lot"]["status"], "held");
    let affected = recall["affected_orders"].as_array().unwrap();
    assert_eq!(affected.len(), 2, "{recall}");
    let by_order = |o: &Value| affected.iter().find(|a| a["order_id"] == o["id"]).cloned();
    let s1 = by_order(&shipped).unwrap();
    assert_eq!(
        (s1["quantity"].as_i64(), s1["shipped"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(s1["buyer_id"], buyer.user_id);
    let w = by_order(&waiting).unwrap();
    assert_eq!(
        (w["quantity"].as_i64(), w["shipped"].as_bool()),
        (Some(3), Some(false))
    );
    assert!(by_order(&cancelled).is_none());
    // nothing more is sold from it
    app.place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 1}]))
        .await
        .expect_problem(409, "insufficient_stock");
    // twice is a no-op with the same answer, recorded once
    let again = app
        .post(
            &format!("/api/v1/lots/{lot_id}/recall"),
            Some(&s.owner.token),
            json!({"reason": "检出超标"}),
        )
        .await
        .expect(200);
    assert_eq!(again["affected_orders"], recall["affected_orders"]);
    let admin = app.admin().await;
    let log = app
        .get(
            &format!("/api/v1/audit-events?target_id={lot_id}&action=lot.recalled"),
            Some(&admin.token),
        )
        .await
        .expect(200);
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
}

/// The dark modules the label draws, read back from its SVG.
fn qr_from_label(svg: &str) -> String {
    let group = svg.split("<g id=\"qr\"").nth(1).expect("a QR group");
    let attr = |s: &str, name: &str| -> usize {
        let start = s.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        s[start..].split('"').next().unwrap().parse().unwrap()
    };
    let modules = attr(group, "data-modules");
    let size = attr(group, "data-module-size");
    let side = (modules + 8) * size;
    let mut dark = vec![false; side * side];
    for rect in group.split("<rect ").skip(2) {
        let (x, y) = (attr(rect, "x"), attr(rect, "y"));
        for dy in 0..size {
            for dx in 0..size {
                dark[(y + dy) * side + x + dx] = true;
            }
        }
    }
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        if dark[y * side + x] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the label");
    grids[0].decode().expect("the QR code decodes").1
}

#[actix_web::test]
async fn the_public_trace_says_where_a_lot_came_from_and_nothing_about_buyers() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    let lot = s.lot(&app, "LB-TRACE", 10, 90).await;
    let buyer = app.register("lin@shantou.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 2}]))
        .await
        .expect(201);
    let code = lot["trace_code"].as_str().unwrap();
    let public = app
        .get(&format!("/api/v1/trace/{code}"), None)
        .await
        .expect(200);
    assert_eq!(public["product"]["name"], "萝北冻梨");
    assert_eq!(public["product"]["storage"], "frozen");
    assert_eq!(public["cooperative"]["name"], "萝北冻梨合作社");
    assert_eq!(public["lot"]["code"], "LB-TRACE");
    assert_eq!(public["lot"]["best_before"], days_from_today(90));
    let text = public.to_string();
    for secret in [
        buyer.user_id.as_str(),
        order["id"].as_str().unwrap(),
        "lin@shantou.cn",
        "reserved",
        "on_hand",
    ] {
        assert!(!text.contains(secret), "the public trace shows {secret}");
    }
    app.get("/api/v1/trace/abcdefghjk23", None)
        .await
        .expect_problem(404, "not_found");
    app.get("/api/v1/trace/..%2F..%2Fetc", None)
        .await
        .expect_problem(404, "not_found");

    let page = app.get(&format!("/t/{code}"), None).await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = page.body.as_str().unwrap().to_owned();
    assert!(html.contains("萝北冻梨") && html.contains("保质期至") && html.contains("绿色食品"));
    assert!(!html.contains(&buyer.user_id));

    let label = app
        .get(
            &format!("/api/v1/lots/{}/label.svg", id(&lot)),
            Some(&s.owner.token),
        )
        .await;
    assert_eq!(label.status, 200);
    assert!(label
        .header("content-type")
        .unwrap()
        .starts_with("image/svg+xml"));
    let svg = label.body.as_str().unwrap().to_owned();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("萝北冻梨") && svg.contains("LB-TRACE") && svg.contains(&days_from_today(90))
    );
    assert_eq!(qr_from_label(&svg), lot["trace_url"].as_str().unwrap());
    app.get(&format!("/api/v1/lots/{}/label.svg", id(&lot)), None)
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn sixty_clients_sell_exactly_the_sellable_units_of_three_lots() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    let mut sellable = Vec::new();
    for (code, days) in [("L1", 20), ("L2", 30), ("L3", 40)] {
        sellable.push(id(&s.lot(&app, code, 10, days).await));
    }
    let held = id(&s.lot(&app, "HOLD", 10, 10).await);
    app.post(
        &format!("/api/v1/lots/{held}/hold"),
        Some(&s.owner.token),
        json!({"reason": "抽检"}),
    )
    .await
    .expect(200);
    let old = id(&s.lot(&app, "OLD", 10, 10).await);
    age_lot(&app, &old, 2);

    let mut buyers = Vec::new();
    for i in 0..4 {
        buyers.push(app.register(&format!("buyer{i}@shantou.cn")).await);
    }
    let results = join_all((0..60).map(|i| {
        app.place_order(
            &buyers[i % 4],
            json!([{"sku_id": s.sku, "quantity": 1 + (i % 3) as i64}]),
        )
    }))
    .await;
    let mut sold = 0;
    let mut from_lots = 0;
    for r in results {
        match r.status {
            201 => {
                sold += r.body["items"][0]["quantity"].as_i64().unwrap();
                for l in r.body["items"][0]["lots"].as_array().unwrap() {
                    assert!(
                        sellable.contains(&l["lot_id"].as_str().unwrap().to_owned()),
                        "sold from {l}"
                    );
                    from_lots += l["quantity"].as_i64().unwrap();
                }
            }
            409 => assert_eq!(r.body["code"], "insufficient_stock"),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(from_lots, sold);
    assert!(sold <= 30, "sold {sold} of 30 sellable units");
    // 60 orders of 1-3 units ask for 120: all 30 go, except units no single remaining order fits
    assert!(sold >= 28, "sold only {sold}");
    for lot in [&held, &old] {
        assert_eq!(lot_now(&app, &s.owner, lot).await["reserved"], 0);
    }
    let reserved: i64 = join_all(sellable.iter().map(|l| lot_now(&app, &s.owner, l)))
        .await
        .iter()
        .map(|l| l["reserved"].as_i64().unwrap())
        .sum();
    assert_eq!(reserved, sold);
    // what the orders record as held in each lot is what each lot has reserved
    for lot in &sellable {
        let trace = app
            .get(&format!("/api/v1/lots/{lot}/trace"), Some(&s.owner.token))
            .await
            .expect(200);
        let held: i64 = trace["reservations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["quantity"].as_i64().unwrap())
            .sum();
        assert_eq!(held, trace["lot"]["reserved"].as_i64().unwrap(), "{lot}");
    }
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn the_payment_timeout_gives_the_lots_back() {
    let app = spawn_app_with(|c| c.payment_timeout = std::time::Duration::from_secs(1)).await;
    let s = pear_shop(&app).await;
    let a = id(&s.lot(&app, "T1", 2, 20).await);
    let b = id(&s.lot(&app, "T2", 5, 30).await);
    let buyer = app.register("lin@shantou.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": s.sku, "quantity": 4}]))
        .await
        .expect(201);
    assert_eq!(
        lots_of(&order["items"][0]),
        [("T1".to_owned(), 2), ("T2".to_owned(), 2)]
    );
    let path = format!("/api/v1/orders/{}", id(&order));
    for _ in 0..50 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        if app.get(&path, Some(&buyer.token)).await.expect(200)["status"] == "cancelled" {
            break;
        }
    }
    for lot in [&a, &b] {
        assert_eq!(lot_now(&app, &s.owner, lot).await["reserved"], 0);
    }
    assert_eq!(available(&app, &s.product).await, 7);
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn hostile_lot_input_is_refused_by_field() {
    let app = spawn_app().await;
    let s = pear_shop(&app).await;
    let url = format!("/api/v1/cooperatives/{}/lots", s.coop);
    let base = json!({"sku_id": s.sku, "warehouse_id": s.cold, "code": "H1", "quantity": 5});
    for (field, value) in [
        ("quantity", json!(123456789012345678901234567890_f64)),
        ("quantity", json!(10_000_001)),
        ("code", json!("L\u{0}1")),
        ("code", json!("=SUM(A1)")),
        ("origin", json!("萝北\u{0}")),
        ("best_before", json!("2026-12-01\u{0}")),
        ("harvested_on", json!(20261201)),
        ("certificate_no", json!("x".repeat(65))),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let r = app.post(&url, Some(&s.owner.token), body).await;
        assert!(
            r.status == 422 || r.status == 400,
            "{field}: {} {}",
            r.status,
            r.body
        );
        assert!(r.body.to_string().contains(field), "{field}: {}", r.body);
    }
    let lot = id(&s.lot(&app, "H2", 5, 30).await);
    let r = app
        .post(
            &format!("/api/v1/lots/{lot}/adjustments"),
            Some(&s.owner.token),
            json!({"delta": 99999999999999999999_f64}),
        )
        .await;
    assert!(r.status == 422 || r.status == 400, "{}", r.body);
    app.post(
        &format!("/api/v1/lots/{lot}/adjustments"),
        Some(&s.owner.token),
        json!({"delta": 10_000_000}),
    )
    .await
    .expect(200);
    app.get(
        &format!("/api/v1/lots/{}", "not-a-uuid"),
        Some(&s.owner.token),
    )
    .await
    .expect_problem(404, "not_found");
}
