use serde_json::{json, Value};

use crate::helpers::*;

struct Pears {
    owner: Session,
    coop: String,
    cold: String,
    sku: String,
    buyer: Session,
    order: Value,
}

/// A frozen-pear co-op with 20 units in its cold store and a buyer's order for `quantity`.
async fn pear_order(app: &TestApp, quantity: i64, pay: bool) -> Pears {
    let (owner, coop) = app.coop_owner("萝北县冻梨合作社").await;
    let cold = app.create_warehouse(&owner, &coop, true).await;
    let p = app
        .create_product(
            &owner,
            &coop,
            simple_product("冻梨切片", "PEAR-1", "25.00", "frozen"),
        )
        .await;
    let p = app.publish_product(&owner, p["id"].as_str().unwrap()).await;
    let sku = p["skus"][0]["id"].as_str().unwrap().to_owned();
    app.receive(&owner, &coop, &sku, &cold, 20).await;
    let buyer = app.register("buyer@example.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": quantity}]))
        .await
        .expect(201);
    if pay {
        app.pay(&buyer, order["id"].as_str().unwrap()).await;
    }
    Pears {
        owner,
        coop,
        cold,
        sku,
        buyer,
        order,
    }
}

fn stock_of(app: &TestApp, sku: &str) -> (i64, i64) {
    use diesel::prelude::*;
    use shanhe::db::schema::stock;
    let mut conn = app.conn();
    let rows: Vec<(i64, i64)> = stock::table
        .filter(stock::sku_id.eq(sku))
        .select((stock::on_hand, stock::reserved))
        .load(&mut *conn)
        .unwrap();
    rows.iter().fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1))
}

#[actix_web::test]
async fn from_payment_to_completion_with_stock_checked_at_each_step() {
    let app = spawn_app().await;
    let p = pear_order(&app, 5, true).await;
    let order_id = p.order["id"].as_str().unwrap();
    let order_path = format!("/api/v1/orders/{order_id}");
    assert_eq!(stock_of(&app, &p.sku), (20, 5));

    let queue = app
        .get(
            &format!(
                "/api/v1/cooperatives/{}/fulfilments?status=awaiting_shipment",
                p.coop
            ),
            Some(&p.owner.token),
        )
        .await
        .expect(200);
    let f = queue["items"][0].clone();
    assert_eq!(f["order_id"], order_id);
    assert_eq!(f["order_number"], p.order["number"]);
    assert_eq!(f["warehouse_id"], p.cold);
    assert_eq!(f["shipping_address"]["city"], "汕头市");
    let item = f["items"][0]["order_item_id"].as_str().unwrap().to_owned();
    let ship_path = format!(
        "/api/v1/fulfilments/{}/shipments",
        f["id"].as_str().unwrap()
    );

    // more than remains is refused, and so is a stranger's item id
    app.post(&ship_path, Some(&p.owner.token), json!({"carrier": "顺丰冷运", "tracking_number": "SF100", "items": [{"order_item_id": item, "quantity": 6}]}))
        .await
        .expect_problem(422, "validation_failed");
    let first = app
        .post(&ship_path, Some(&p.owner.token), json!({"carrier": "顺丰冷运", "tracking_number": "SF1001", "items": [{"order_item_id": item, "quantity": 2}]}))
        .await
        .expect(201);
    assert_eq!(first["status"], "in_transit");
    assert_eq!(first["cold_chain"], true);
    assert_eq!(first["events"], json!([]));
    assert_eq!(
        first["items"],
        json!([{"order_item_id": item, "quantity": 2, "lots": [], "actual_weight_grams": null}])
    );
    assert_eq!(stock_of(&app, &p.sku), (18, 3));
    let o = app.get(&order_path, Some(&p.buyer.token)).await.expect(200);
    assert_eq!(o["status"], "partially_shipped");
    assert_eq!(o["fulfilments"][0]["status"], "partially_shipped");
    assert_eq!(o["items"][0]["shipped_quantity"], 2);
    app.post(
        &format!("{order_path}/cancel"),
        Some(&p.buyer.token),
        json!({}),
    )
    .await
    .expect_problem(409, "invalid_state");
    app.post(&ship_path, Some(&p.owner.token), json!({"carrier": "顺丰冷运", "tracking_number": "SF1002", "items": [{"order_item_id": item, "quantity": 4}]}))
        .await
        .expect_problem(422, "validation_failed");
    let second = app
        .post(&ship_path, Some(&p.owner.token), json!({"carrier": "顺丰冷运", "tracking_number": "SF1002", "items": [{"order_item_id": item, "quantity": 3}]}))
        .await
        .expect(201);
    assert_eq!(stock_of(&app, &p.sku), (15, 0));
    assert_eq!(
        app.get(&order_path, Some(&p.buyer.token)).await.expect(200)["status"],
        "shipped"
    );
    app.assert_ledger_balanced();

    // a frozen parcel read at −5 °C broke the cold chain
    let e = app
        .post(&format!("/api/v1/shipments/{}/events", first["id"].as_str().unwrap()), Some(&p.owner.token),
              json!({"status": "in_transit", "location": "沈阳分拨中心", "temperature_celsius": -5.0}))
        .await
        .expect(201);
    assert_eq!(e["excursion"], true);
    let ok = app
        .post(
            &format!("/api/v1/shipments/{}/events", first["id"].as_str().unwrap()),
            Some(&p.owner.token),
            json!({"status": "out_for_delivery", "location": "汕头", "temperature_celsius": -19.5}),
        )
        .await
        .expect(201);
    assert_eq!(ok["excursion"], false);
    for s in [&first, &second] {
        app.post(
            &format!("/api/v1/shipments/{}/events", s["id"].as_str().unwrap()),
            Some(&p.owner.token),
            json!({"status": "delivered", "location": "金平区"}),
        )
        .await
        .expect(201);
    }
    let queue = app
        .get(
            &format!("/api/v1/cooperatives/{}/fulfilments", p.coop),
            Some(&p.owner.token),
        )
        .await
        .expect(200);
    let one = app
        .get(
            &format!("/api/v1/fulfilments/{}", f["id"].as_str().unwrap()),
            Some(&p.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(queue["items"][0], one);
    assert_eq!(one["shipments"].as_array().unwrap().len(), 2);
    let tracking = app
        .get(&format!("{order_path}/tracking"), Some(&p.buyer.token))
        .await
        .expect(200);
    assert_eq!(tracking["status"], "delivered");
    let parcels = tracking["shipments"].as_array().unwrap();
    assert_eq!(parcels.len(), 2);
    assert_eq!(parcels[0]["excursions"], 1);
    let statuses: Vec<_> = parcels[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec!["in_transit", "out_for_delivery", "delivered"]
    );
    let done = app
        .post(
            &format!("{order_path}/confirm-receipt"),
            Some(&p.buyer.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "completed");
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn unpaid_fulfilments_cannot_ship_and_other_cooperatives_see_nothing() {
    let app = spawn_app().await;
    let p = pear_order(&app, 2, false).await;
    let f = &p.order["fulfilments"][0];
    let item = p.order["items"][0]["id"].as_str().unwrap();
    let ship_path = format!(
        "/api/v1/fulfilments/{}/shipments",
        f["id"].as_str().unwrap()
    );
    app.post(&ship_path, Some(&p.owner.token), json!({"carrier": "EMS", "tracking_number": "E1", "items": [{"order_item_id": item, "quantity": 1}]}))
        .await
        .expect_problem(409, "invalid_state");
    let (other, other_coop) = app.coop_owner("别的合作社").await;
    app.post(&ship_path, Some(&other.token), json!({"carrier": "EMS", "tracking_number": "E1", "items": [{"order_item_id": item, "quantity": 1}]}))
        .await
        .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/cooperatives/{}/fulfilments", p.coop),
        Some(&other.token),
    )
    .await
    .expect_problem(403, "forbidden");
    let theirs = app
        .get(
            &format!("/api/v1/cooperatives/{other_coop}/fulfilments"),
            Some(&other.token),
        )
        .await
        .expect(200);
    assert_eq!(theirs["items"], json!([]));
    app.get(
        &format!("/api/v1/orders/{}", p.order["id"].as_str().unwrap()),
        Some(&other.token),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(
        &format!(
            "/api/v1/orders/{}/tracking",
            p.order["id"].as_str().unwrap()
        ),
        Some(&other.token),
    )
    .await
    .expect_problem(404, "not_found");
    let q = app
        .get(
            &format!(
                "/api/v1/cooperatives/{}/fulfilments?status=awaiting_payment",
                p.coop
            ),
            Some(&p.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    app.post(
        &ship_path,
        Some(&p.owner.token),
        json!({"carrier": "", "tracking_number": "bad number!", "items": []}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let _ = &p.sku;
}

#[actix_web::test]
async fn delivered_orders_complete_by_themselves() {
    let app = spawn_app_with(|c| {
        c.auto_complete_days = 0;
        c.sweep_interval = Some(std::time::Duration::from_millis(200));
    })
    .await;
    let p = pear_order(&app, 1, true).await;
    let order_path = format!("/api/v1/orders/{}", p.order["id"].as_str().unwrap());
    let o = app.get(&order_path, Some(&p.buyer.token)).await.expect(200);
    let fid = o["fulfilments"][0]["id"].as_str().unwrap();
    let s = app
        .post(&format!("/api/v1/fulfilments/{fid}/shipments"), Some(&p.owner.token),
              json!({"carrier": "京东冷链", "tracking_number": "JD-77", "items": [{"order_item_id": o["items"][0]["id"], "quantity": 1}]}))
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/shipments/{}/events", s["id"].as_str().unwrap()),
        Some(&p.owner.token),
        json!({"status": "delivered"}),
    )
    .await
    .expect(201);
    let mut status = String::new();
    for _ in 0..50 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        status = app.get(&order_path, Some(&p.buyer.token)).await.expect(200)["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status == "completed" {
            break;
        }
    }
    assert_eq!(status, "completed");
}

#[actix_web::test]
async fn a_cancellation_racing_a_shipment_leaves_one_winner_and_true_stock() {
    let app = spawn_app().await;
    let p = pear_order(&app, 2, true).await;
    let id = p.order["id"].as_str().unwrap();
    let o = app
        .get(&format!("/api/v1/orders/{id}"), Some(&p.buyer.token))
        .await
        .expect(200);
    let fid = o["fulfilments"][0]["id"].as_str().unwrap();
    let item = o["items"][0]["id"].as_str().unwrap();
    let ship_path = format!("/api/v1/fulfilments/{fid}/shipments");
    let cancel_path = format!("/api/v1/orders/{id}/cancel");
    let ship_body = json!({"carrier": "EMS", "tracking_number": "RACE-1", "items": [{"order_item_id": item, "quantity": 2}]});
    let (shipped, cancelled) = futures::join!(
        app.post(&ship_path, Some(&p.owner.token), ship_body),
        app.post(&cancel_path, Some(&p.buyer.token), json!({}))
    );
    let winners = [shipped.status == 201, cancelled.status == 200];
    assert_eq!(
        winners.iter().filter(|w| **w).count(),
        1,
        "ship {} / cancel {}",
        shipped.status,
        cancelled.status
    );
    assert!(
        shipped.status == 201 || shipped.status == 409,
        "{}",
        shipped.body
    );
    assert!(
        cancelled.status == 200 || cancelled.status == 409,
        "{}",
        cancelled.body
    );
    let (on_hand, reserved) = stock_of(&app, &p.sku);
    if shipped.status == 201 {
        assert_eq!((on_hand, reserved), (18, 0));
    } else {
        assert_eq!((on_hand, reserved), (20, 0));
    }
    app.assert_ledger_balanced();
}
