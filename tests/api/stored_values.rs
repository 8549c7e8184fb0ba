//! What the database holds is decoded strictly: a value the code does not know is an error
//! answered 500, never a default; and status changes racing each other leave one winner.

use diesel::connection::SimpleConnection;
use futures::future::join;
use serde_json::json;

use crate::helpers::*;

impl TestApp {
    /// Writes `value` into `table.column` of one row behind the API's back, lifting the
    /// CHECK that would refuse it (as a newer release's migration might have).
    fn store_unknown(&self, table: &str, column: &str, id: &str, value: &str) {
        let mut conn = self.conn();
        let sql = if self.is_postgres() {
            format!(
                "ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check; \
                 UPDATE {table} SET {column} = '{value}' WHERE id = '{id}';"
            )
        } else {
            format!(
                "PRAGMA ignore_check_constraints = ON; \
                 UPDATE {table} SET {column} = '{value}' WHERE id = '{id}'; \
                 PRAGMA ignore_check_constraints = OFF;"
            )
        };
        conn.batch_execute(&sql).expect("stored the unknown value");
    }
}

#[actix_web::test]
async fn an_unknown_stored_order_status_is_a_500_problem_not_a_default() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("lin@shantou.cn").await;
    let order = app
        .place_order(&buyer, json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap();
    app.store_unknown("orders", "status", id, "teleported");
    let problem = app
        .get(&format!("/api/v1/orders/{id}"), Some(&buyer.token))
        .await
        .expect_problem(500, "internal");
    assert!(
        !problem.to_string().contains("teleported"),
        "the stored value stays in the log, not the answer: {problem}"
    );
    app.get("/api/v1/orders", Some(&buyer.token))
        .await
        .expect_problem(500, "internal");
    // cancelling must not treat the unknown status as anything it knows
    app.post(
        &format!("/api/v1/orders/{id}/cancel"),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .expect_problem(500, "internal");
    assert_eq!(app.reserved(sku), 1, "nothing was released");
}

#[actix_web::test]
async fn an_unknown_stored_storage_class_is_a_500_problem_not_ambient() {
    let app = spawn_app().await;
    let shop = app.shop("萝北冻梨合作社", "PEAR").await;
    let product = shop.product["id"].as_str().unwrap();
    app.store_unknown("products", "storage", product, "tropical");
    app.get(&format!("/api/v1/products/{product}"), None)
        .await
        .expect_problem(500, "internal");
    let buyer = app.register("chen@shantou.cn").await;
    app.post(
        "/api/v1/checkout/preview",
        Some(&buyer.token),
        json!({"items": [{"sku_id": shop.skus["5KG"], "quantity": 1}], "shipping_address": shantou()}),
    )
    .await
    .expect_problem(500, "internal");
}

#[actix_web::test]
async fn an_approve_racing_a_reject_leaves_exactly_one_winner() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for round in 0..8 {
        let owner = app.register(&format!("owner{round}@market.cn")).await;
        let org = app
            .post(
                "/api/v1/organizations",
                Some(&owner.token),
                json!({"name": format!("龙湖区超市{round}"), "business_license_no": format!("91440500MA4U{round:04}"),
                       "city": "汕头市", "contact_phone": "13800138000"}),
            )
            .await
            .expect(201);
        let id = org["id"].as_str().unwrap();
        let (approve, reject) = join(
            app.post(
                &format!("/api/v1/organizations/{id}/approve"),
                Some(&admin.token),
                json!({"payment_terms": "net_30", "credit_limit": "1000.00"}),
            ),
            app.post(
                &format!("/api/v1/organizations/{id}/reject"),
                Some(&admin.token),
                json!({"reason": "营业执照不清晰"}),
            ),
        )
        .await;
        let (winner, loser) = match (approve.status, reject.status) {
            (200, 409) => ("approved", reject),
            (409, 200) => ("rejected", approve),
            other => panic!("round {round}: expected one 200 and one 409, got {other:?}"),
        };
        loser.expect_problem(409, "invalid_state");
        let now = app
            .get(&format!("/api/v1/organizations/{id}"), Some(&admin.token))
            .await
            .expect(200);
        assert_eq!(now["status"], winner, "round {round}: {now}");
        let audit = app
            .get(
                &format!("/api/v1/audit-events?target_id={id}"),
                Some(&admin.token),
            )
            .await
            .expect(200);
        assert_eq!(
            audit["items"].as_array().unwrap().len(),
            1,
            "round {round}: one audit event, the winner's: {audit}"
        );
    }
}
