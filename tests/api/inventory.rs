use awc::http::Method;
use futures::future::join_all;
use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn stocktake_sets_the_count_and_records_the_difference() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    let path = format!("/api/v1/skus/{sku}/stock/{}", shop.warehouse);
    let r = app
        .put(
            &path,
            Some(&shop.owner.token),
            json!({"on_hand": 120, "reason": "月度盘点"}),
        )
        .await;
    let etag = r.header("etag").unwrap();
    let row = r.expect(200);
    assert_eq!(row["on_hand"], 120);
    assert_eq!(row["reserved"], 0);
    assert_eq!(row["available"], 120);
    assert_eq!(row["sku_code"], "RICE-5KG");
    let r = app
        .request(
            Method::PUT,
            &path,
            Some(&shop.owner.token),
            Some(json!({"on_hand": 100, "reason": "破损"})),
            &[("If-Match", etag.as_str())],
        )
        .await
        .expect(200);
    assert_eq!(r["on_hand"], 100);
    // the old ETag is stale now
    app.request(
        Method::PUT,
        &path,
        Some(&shop.owner.token),
        Some(json!({"on_hand": 1, "reason": "x"})),
        &[("If-Match", etag.as_str())],
    )
    .await
    .expect_problem(412, "precondition_failed");
    let moves = app
        .get(
            &format!("/api/v1/skus/{sku}/stock/movements"),
            Some(&shop.owner.token),
        )
        .await
        .expect(200);
    let deltas: Vec<i64> = moves["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["delta"].as_i64().unwrap())
        .collect();
    assert_eq!(deltas, vec![-20, 120], "newest first");
    assert_eq!(moves["items"][0]["kind"], "stocktake");
    assert_eq!(moves["items"][0]["actor_id"], shop.owner.user_id);
    // the catalogue shows the sellable figure
    let product = app
        .get(
            &format!("/api/v1/products/{}", shop.product["id"].as_str().unwrap()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(product["skus"][0]["available"], 100);
    let listed = app
        .get("/api/v1/products?in_stock=true", None)
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    app.put(
        &path,
        Some(&shop.owner.token),
        json!({"on_hand": -1, "reason": "x"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn a_count_below_what_is_reserved_is_refused() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    {
        let mut conn = app.conn();
        let (sku_id, warehouse_id) = (sku.parse().unwrap(), shop.warehouse.parse().unwrap());
        assert!(shanhe::inventory::reserve(&mut conn, sku_id, warehouse_id, 6).unwrap());
    }
    app.put(
        &format!("/api/v1/skus/{sku}/stock/{}", shop.warehouse),
        Some(&shop.owner.token),
        json!({"on_hand": 5, "reason": "盘点"}),
    )
    .await
    .expect_problem(409, "conflict");
    let row = app
        .stock_row(&shop.owner, &shop.coop, sku, &shop.warehouse)
        .await;
    assert_eq!(
        (
            row["on_hand"].as_i64(),
            row["reserved"].as_i64(),
            row["available"].as_i64()
        ),
        (Some(10), Some(6), Some(4))
    );
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn a_batch_applies_all_lines_or_none() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let (a, b) = (&shop.skus["5KG"], &shop.skus["10KG"]);
    app.receive(&shop.owner, &shop.coop, a, &shop.warehouse, 5)
        .await;
    let path = format!("/api/v1/cooperatives/{}/stock/adjustments", shop.coop);
    let problem = app
        .post(
            &path,
            Some(&shop.owner.token),
            json!({"adjustments": [
                {"sku_id": b, "warehouse_id": shop.warehouse, "delta": 40, "reason": "到货"},
                {"sku_id": a, "warehouse_id": shop.warehouse, "delta": -6, "reason": "破损"}
            ]}),
        )
        .await
        .expect_problem(409, "conflict");
    assert_eq!(problem["errors"][0]["field"], "adjustments[1]");
    // nothing applied: re-read both rows
    assert_eq!(
        app.stock_row(&shop.owner, &shop.coop, a, &shop.warehouse)
            .await["on_hand"],
        5
    );
    let b_row = app
        .stock_row(&shop.owner, &shop.coop, b, &shop.warehouse)
        .await;
    assert!(b_row.is_null() || b_row["on_hand"] == 0, "{b_row}");
    let ok = app
        .post(
            &path,
            Some(&shop.owner.token),
            json!({"adjustments": [
                {"sku_id": b, "warehouse_id": shop.warehouse, "delta": 40, "reason": "到货"},
                {"sku_id": a, "warehouse_id": shop.warehouse, "delta": -5, "reason": "破损"}
            ]}),
        )
        .await
        .expect(200);
    let on_hand: Vec<i64> = ok["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["on_hand"].as_i64().unwrap())
        .collect();
    assert_eq!(on_hand, vec![40, 0]);
    // a SKU or warehouse of another co-op is named
    let other = app.shop("萝北合作社", "PEAR").await;
    let problem = app
        .post(
            &path,
            Some(&shop.owner.token),
            json!({"adjustments": [
                {"sku_id": other.skus["5KG"], "warehouse_id": other.warehouse, "delta": 1}
            ]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "adjustments[0].sku_id");
    assert_eq!(problem["errors"][1]["field"], "adjustments[0].warehouse_id");
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn an_idempotent_retry_applies_once() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    let path = format!("/api/v1/cooperatives/{}/stock/adjustments", shop.coop);
    let body = json!({"adjustments": [{"sku_id": sku, "warehouse_id": shop.warehouse, "delta": 25, "reason": "到货"}]});
    let first = app
        .request(
            Method::POST,
            &path,
            Some(&shop.owner.token),
            Some(body.clone()),
            &[("Idempotency-Key", "shed-42")],
        )
        .await
        .expect(200);
    let again = app
        .request(
            Method::POST,
            &path,
            Some(&shop.owner.token),
            Some(body.clone()),
            &[("Idempotency-Key", "shed-42")],
        )
        .await
        .expect(200);
    assert_eq!(first, again);
    assert_eq!(
        app.stock_row(&shop.owner, &shop.coop, sku, &shop.warehouse)
            .await["on_hand"],
        25
    );
    let different = json!({"adjustments": [{"sku_id": sku, "warehouse_id": shop.warehouse, "delta": 26, "reason": "到货"}]});
    app.request(
        Method::POST,
        &path,
        Some(&shop.owner.token),
        Some(different),
        &[("Idempotency-Key", "shed-42")],
    )
    .await
    .expect_problem(422, "idempotency_conflict");
    // keys are per user: another member's same key is a different request
    let staff = app.register("staff@example.cn").await;
    app.add_coop_member(&shop.owner, &shop.coop, "staff@example.cn", "staff")
        .await;
    app.request(
        Method::POST,
        &path,
        Some(&staff.token),
        Some(body),
        &[("Idempotency-Key", "shed-42")],
    )
    .await
    .expect(200);
    assert_eq!(
        app.stock_row(&shop.owner, &shop.coop, sku, &shop.warehouse)
            .await["on_hand"],
        50
    );
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn concurrent_requests_with_one_key_execute_once() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    let path = format!("/api/v1/cooperatives/{}/stock/adjustments", shop.coop);
    let body = json!({"adjustments": [{"sku_id": sku, "warehouse_id": shop.warehouse, "delta": 7, "reason": "到货"}]});
    let responses = join_all((0..12).map(|_| {
        app.request(
            Method::POST,
            &path,
            Some(&shop.owner.token),
            Some(body.clone()),
            &[("Idempotency-Key", "same-key")],
        )
    }))
    .await;
    let ok: Vec<_> = responses.iter().filter(|r| r.status == 200).collect();
    for r in &responses {
        assert!(
            r.status == 200 || (r.status == 409 && r.body["code"] == "conflict"),
            "{} {}",
            r.status,
            r.body
        );
    }
    assert!(!ok.is_empty());
    assert!(
        ok.iter().all(|r| r.body == ok[0].body),
        "every success is the same response"
    );
    assert_eq!(
        app.stock_row(&shop.owner, &shop.coop, sku, &shop.warehouse)
            .await["on_hand"],
        7
    );
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn many_clients_adjusting_one_row_end_exact() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 100)
        .await;
    let path = format!("/api/v1/cooperatives/{}/stock/adjustments", shop.coop);
    let requests = (0..60).map(|i| {
        let delta = if i % 3 == 0 { -2 } else { 3 };
        app.post(
            &path,
            Some(&shop.owner.token),
            json!({"adjustments": [{"sku_id": sku, "warehouse_id": shop.warehouse, "delta": delta, "reason": "并发"}]}),
        )
    });
    let responses = join_all(requests).await;
    for r in &responses {
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // 20 × −2 and 40 × +3 on top of 100
    assert_eq!(
        app.stock_row(&shop.owner, &shop.coop, sku, &shop.warehouse)
            .await["on_hand"],
        180
    );
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn another_cooperative_cannot_read_or_change_stock() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let other = app.shop("萝北合作社", "PEAR").await;
    let sku = &shop.skus["5KG"];
    let t = Some(other.owner.token.as_str());
    app.get(&format!("/api/v1/cooperatives/{}/stock", shop.coop), t)
        .await
        .expect_problem(403, "forbidden");
    app.post(
        &format!("/api/v1/cooperatives/{}/stock/adjustments", shop.coop),
        t,
        json!({"adjustments": [{"sku_id": sku, "warehouse_id": shop.warehouse, "delta": 5}]}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.put(
        &format!("/api/v1/skus/{sku}/stock/{}", shop.warehouse),
        t,
        json!({"on_hand": 5, "reason": "x"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get(&format!("/api/v1/skus/{sku}/stock/movements"), t)
        .await
        .expect_problem(403, "forbidden");
    // their own warehouse does not hold our SKU either
    app.put(
        &format!("/api/v1/skus/{sku}/stock/{}", other.warehouse),
        Some(&shop.owner.token),
        json!({"on_hand": 5, "reason": "x"}),
    )
    .await
    .expect_problem(404, "not_found");
    let shopper = app.register("shopper@example.cn").await;
    app.get(
        &format!("/api/v1/cooperatives/{}/stock", shop.coop),
        Some(&shopper.token),
    )
    .await
    .expect_problem(403, "forbidden");
    // admins may look
    app.get(
        &format!("/api/v1/cooperatives/{}/stock", shop.coop),
        Some(&app.admin().await.token),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn low_stock_lists_rows_at_or_under_the_threshold() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    app.receive(
        &shop.owner,
        &shop.coop,
        &shop.skus["5KG"],
        &shop.warehouse,
        8,
    )
    .await;
    app.receive(
        &shop.owner,
        &shop.coop,
        &shop.skus["10KG"],
        &shop.warehouse,
        80,
    )
    .await;
    let low = app
        .get(
            &format!("/api/v1/cooperatives/{}/stock?low_stock=true", shop.coop),
            Some(&shop.owner.token),
        )
        .await
        .expect(200);
    let items = low["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["sku_id"], shop.skus["5KG"].as_str());
    assert_eq!(items[0]["low_stock"], true);
    let all = app
        .get(
            &format!("/api/v1/cooperatives/{}/stock?limit=1", shop.coop),
            Some(&shop.owner.token),
        )
        .await
        .expect(200);
    let next = all["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!(
                "/api/v1/cooperatives/{}/stock?limit=1&cursor={next}",
                shop.coop
            ),
            Some(&shop.owner.token),
        )
        .await
        .expect(200);
    assert_ne!(all["items"][0]["sku_id"], rest["items"][0]["sku_id"]);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
}

#[actix_web::test]
async fn the_database_itself_refuses_impossible_stock_and_ledger_rewrites() {
    use diesel::prelude::*;
    use shanhe::db::schema::{stock, stock_movements};
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 5)
        .await;
    let mut conn = app.conn();
    let row = stock::table.filter(stock::sku_id.eq(sku));
    assert!(
        diesel::update(row)
            .set(stock::reserved.eq(6_i64))
            .execute(&mut *conn)
            .is_err(),
        "reserved > on_hand"
    );
    assert!(
        diesel::update(row)
            .set(stock::reserved.eq(-1_i64))
            .execute(&mut *conn)
            .is_err(),
        "reserved < 0"
    );
    let moves = stock_movements::table.filter(stock_movements::sku_id.eq(sku));
    assert!(
        diesel::update(moves)
            .set(stock_movements::delta.eq(500_i64))
            .execute(&mut *conn)
            .is_err(),
        "ledger is append-only"
    );
    assert!(
        diesel::delete(moves).execute(&mut *conn).is_err(),
        "ledger rows cannot be deleted"
    );
    drop(conn);
    app.assert_ledger_balanced();
}
