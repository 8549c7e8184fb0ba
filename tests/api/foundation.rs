use std::sync::Arc;

use awc::http::Method;
use diesel::prelude::*;
use serde_json::json;
use shanhe::db::{self, schema::counters};
use shanhe::http::error::ApiError;

use crate::helpers::*;

#[actix_web::test]
async fn health_live_and_ready_answer_200() {
    let app = spawn_app().await;
    app.get("/health/live", None).await.expect(200);
    let body = app.get("/health/ready", None).await.expect(200);
    assert_eq!(body["status"], "ready");
}

#[actix_web::test]
async fn responses_carry_a_request_id() {
    let app = spawn_app().await;
    let r = app.get("/health/live", None).await;
    assert!(r.header("x-request-id").is_some_and(|v| !v.is_empty()));
}

#[actix_web::test]
async fn unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    app.get("/api/v1/no-such-thing", None)
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    app.send_raw(
        Method::POST,
        "/api/v1/auth/login",
        None,
        "application/json",
        b"{\"email\": ".to_vec(),
    )
    .await
    .expect_problem(400, "malformed_request");
}

#[actix_web::test]
async fn wrong_field_types_are_a_422_naming_the_field() {
    let app = spawn_app().await;
    let body = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": 5, "password": "x", "display_name": "d"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "email");
    let body = app
        .post("/api/v1/auth/login", None, json!({"email": "a@b.cn"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "password");
}

#[actix_web::test]
async fn bodies_over_64_kib_are_a_413_problem() {
    let app = spawn_app().await;
    let big = "x".repeat(70 * 1024);
    app.post(
        "/api/v1/auth/register",
        None,
        json!({"email": "a@b.cn", "password": big, "display_name": "d"}),
    )
    .await
    .expect_problem(413, "payload_too_large");
}

#[actix_web::test]
async fn openapi_document_is_valid_openapi_3() {
    let app = spawn_app().await;
    let body = app.get("/api/openapi.json", None).await.expect(200);
    assert!(body["openapi"].as_str().unwrap().starts_with("3."));
    oas3::from_json(body.to_string()).expect("parses as an OpenAPI 3.1 document");
    // every endpoint of the contract, with its method
    let contract = [
        ("post", "/auth/register"),
        ("post", "/auth/login"),
        ("post", "/auth/refresh"),
        ("post", "/auth/logout"),
        ("get", "/me"),
        ("post", "/cooperatives"),
        ("get", "/cooperatives"),
        ("get", "/cooperatives/{id}"),
        ("post", "/cooperatives/{id}/members"),
        ("post", "/cooperatives/{id}/warehouses"),
        ("get", "/cooperatives/{id}/warehouses"),
        ("get", "/categories"),
        ("post", "/categories"),
        ("post", "/cooperatives/{id}/products"),
        ("patch", "/products/{id}"),
        ("post", "/products/{id}/publish"),
        ("post", "/products/{id}/unpublish"),
        ("get", "/products"),
        ("get", "/products/{id}"),
        ("get", "/cooperatives/{id}/stock"),
        ("put", "/skus/{sku_id}/stock/{warehouse_id}"),
        ("post", "/cooperatives/{id}/stock/adjustments"),
        ("get", "/skus/{sku_id}/stock/movements"),
        ("get", "/cart"),
        ("put", "/cart/items/{sku_id}"),
        ("delete", "/cart/items/{sku_id}"),
        ("post", "/checkout/preview"),
        ("post", "/orders"),
        ("get", "/orders"),
        ("get", "/orders/{id}"),
        ("post", "/orders/{id}/cancel"),
        ("post", "/orders/{id}/confirm-receipt"),
        ("get", "/shipping-rates"),
        ("post", "/orders/{id}/payments"),
        ("post", "/payments/webhook"),
        ("get", "/cooperatives/{id}/fulfilments"),
        ("post", "/fulfilments/{id}/shipments"),
        ("post", "/shipments/{id}/events"),
        ("get", "/orders/{id}/tracking"),
        ("post", "/organizations"),
        ("post", "/organizations/{id}/approve"),
        ("post", "/organizations/{id}/reject"),
        ("post", "/organizations/{id}/members"),
        ("post", "/orders/import"),
        ("get", "/reports/sales"),
        ("get", "/cooperatives/{id}/settlements"),
    ];
    for (method, path) in contract {
        let full = format!("/api/v1{path}");
        assert!(
            body["paths"][&full].get(method).is_some(),
            "{method} {full} is documented"
        );
    }
}

#[actix_web::test]
async fn docs_are_served_locally_with_and_without_slash() {
    let app = spawn_app().await;
    let r = app.get("/docs", None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.as_str().unwrap_or_default().contains("/docs/"));
    let r = app.get("/docs/", None).await;
    assert_eq!(r.status, 200);
    let html = r.body.as_str().unwrap_or_default().to_owned();
    assert!(html.contains("swagger"), "swagger ui page");
    assert!(
        !html.contains("https://unpkg.com"),
        "nothing loaded from the internet"
    );
    let init = app.get("/docs/swagger-initializer.js", None).await;
    assert_eq!(init.status, 200);
    assert!(init
        .body
        .as_str()
        .unwrap_or_default()
        .contains("/api/openapi.json"));
}

#[actix_web::test]
async fn metrics_are_prometheus_text_with_request_counts() {
    let app = spawn_app().await;
    app.get("/health/live", None).await.expect(200);
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status, 200);
    let text = r.body.as_str().unwrap_or_default();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/health/live\""));
    // the process's own memory, for benchmarks and dashboards
    let rss: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .expect("process_resident_memory_bytes")
        .trim()
        .parse()
        .unwrap();
    assert!(rss > 1_000_000.0, "{rss}");
}

#[actix_web::test]
async fn write_tx_serialises_concurrent_read_then_write() {
    let app = spawn_app().await;
    {
        let mut conn = app.conn();
        diesel::insert_into(counters::table)
            .values((counters::name.eq("stock"), counters::value.eq(400_i64)))
            .execute(&mut *conn)
            .unwrap();
    }
    let pool = Arc::new(app.pool.clone());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut failures = 0;
                for _ in 0..50 {
                    let mut conn = pool.get().unwrap();
                    let r: Result<(), ApiError> = db::write_tx(&mut conn, |c| {
                        // read first (a deferred SQLite transaction would then fail to upgrade
                        // its lock), then a conditional decrement
                        let v: i64 = counters::table
                            .find("stock")
                            .select(counters::value)
                            .first(c)?;
                        assert!(v >= 1);
                        let n = diesel::update(
                            counters::table
                                .filter(counters::name.eq("stock"))
                                .filter(counters::value.ge(1)),
                        )
                        .set(counters::value.eq(counters::value - 1))
                        .execute(c)?;
                        if n == 1 {
                            Ok(())
                        } else {
                            Err(ApiError::Conflict("raced".into()))
                        }
                    });
                    if r.is_err() {
                        failures += 1;
                    }
                }
                failures
            })
        })
        .collect();
    let mut failures = 0;
    for t in threads {
        failures += t.join().unwrap();
    }
    let mut conn = app.conn();
    let left: i64 = counters::table
        .find("stock")
        .select(counters::value)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(
        failures, 0,
        "no transaction failed (no \"database is locked\")"
    );
    assert_eq!(left, 0, "exactly 400 decrements");
}

#[actix_web::test]
async fn nested_write_tx_is_a_savepoint() {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let r: Result<(), ApiError> = db::write_tx(&mut conn, |c| {
        diesel::insert_into(counters::table)
            .values((counters::name.eq("outer"), counters::value.eq(1_i64)))
            .execute(c)?;
        let inner: Result<(), ApiError> = db::write_tx(c, |c| {
            diesel::insert_into(counters::table)
                .values((counters::name.eq("inner"), counters::value.eq(1_i64)))
                .execute(c)?;
            Err(ApiError::Conflict("roll the inner part back".into()))
        });
        assert!(inner.is_err());
        Ok(())
    });
    r.unwrap();
    let names: Vec<String> = counters::table
        .filter(counters::name.eq_any(["outer", "inner"]))
        .select(counters::name)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(names, vec!["outer".to_string()]);
}

#[actix_web::test]
async fn a_method_a_route_does_not_take_is_a_problem_too() {
    let app = spawn_app().await;
    let r = app.delete("/api/v1/products", None).await;
    assert_eq!(r.status, 405);
    assert_eq!(
        r.header("allow").as_deref(),
        Some("GET"),
        "405 names what the path takes"
    );
    assert_eq!(r.body["code"], "method_not_allowed");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(r.body["status"], r.status);
}

#[actix_web::test]
async fn readiness_names_the_database() {
    let app = spawn_app().await;
    let body = app.get("/health/ready", None).await.expect(200);
    assert_eq!(
        body["database"],
        if app.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        }
    );
}

#[actix_web::test]
async fn configured_browser_origins_may_call_the_api() {
    let app = spawn_app_with(|c| c.cors_origins = vec!["https://shop.shanhe.example".into()]).await;
    let r = app
        .request(
            Method::OPTIONS,
            "/api/v1/products",
            None,
            None,
            &[
                ("Origin", "https://shop.shanhe.example"),
                ("Access-Control-Request-Method", "GET"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://shop.shanhe.example")
    );
    let other = app
        .request(
            Method::GET,
            "/api/v1/products",
            None,
            None,
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert!(other.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn without_configured_origins_requests_with_an_origin_still_work() {
    let app = spawn_app().await;
    let r = app
        .request(
            Method::GET,
            "/api/v1/products",
            None,
            None,
            &[("Origin", "http://127.0.0.1:8080")],
        )
        .await;
    assert_eq!(r.status, 200);
}

/// What schemathesis checks, checked here too: every `{param}` declared, error answers
/// documented as problem+json, the shared answers on every operation, and the text rules on
/// what clients send.
#[actix_web::test]
async fn the_openapi_document_promises_what_the_server_does() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await.expect(200);
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let at = format!("{method} {path}");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for name in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                    "{at} does not declare {name}"
                );
            }
            let responses = op["responses"].as_object().unwrap();
            for status in ["400", "422", "503"] {
                assert!(responses.contains_key(status), "{at} lacks {status}");
            }
            if op
                .get("security")
                .is_some_and(|s| !s.as_array().unwrap().is_empty())
            {
                assert!(responses.contains_key("401"), "{at} lacks 401");
            }
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("413"), "{at} lacks 413");
            }
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    let content = response["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        vec!["application/problem+json"],
                        "{at} {status}"
                    );
                }
            }
            for p in &params {
                if p["name"] == "limit" {
                    assert_eq!(p["schema"]["minimum"], 1, "{at} limit");
                }
            }
        }
    }
    assert!(operations >= 55, "{operations} operations");
    let schemas = &doc["components"]["schemas"];
    // request texts carry their rule; money sent is bounded
    assert_eq!(schemas["Line100"]["maxLength"], 100);
    assert!(schemas["Line100"]["pattern"]
        .as_str()
        .unwrap()
        .contains("u001f"));
    assert!(schemas["Amount"]["pattern"]
        .as_str()
        .unwrap()
        .contains("100000000"));
    assert_eq!(
        schemas["AddressInput"]["properties"]["phone"]["$ref"],
        "#/components/schemas/Mobile"
    );
    let provinces = schemas["AddressInput"]["properties"]["province"]["enum"]
        .as_array()
        .unwrap();
    assert!(provinces.contains(&serde_json::json!("广东省")));
    assert!(provinces.contains(&serde_json::json!("广东")));
    assert_eq!(
        schemas["SkuInput"]["properties"]["price"]["$ref"],
        "#/components/schemas/Amount"
    );
    // one component per request type (two types of one name would hide one of them)
    assert_eq!(
        schemas["AddCooperativeMember"]["required"],
        serde_json::json!(["email", "role"])
    );
    // answers keep the looser money (report totals may pass the ceiling)
    assert_eq!(
        schemas["Settlement"]["properties"]["gross_sales"]["$ref"],
        "#/components/schemas/Money"
    );
}
