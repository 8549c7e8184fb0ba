use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn admin_creates_a_cooperative_that_anyone_can_read() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = app
        .post(
            "/api/v1/cooperatives",
            Some(&admin.token),
            json!({"name": "绥滨县黑土地水稻合作社", "province": "黑龙江省", "city": "鹤岗市", "county": "绥滨县"}),
        )
        .await
        .expect(201);
    assert_eq!(body["status"], "active");
    assert_eq!(body["description"], serde_json::Value::Null);
    let id = body["id"].as_str().unwrap();
    let got = app
        .get(&format!("/api/v1/cooperatives/{id}"), None)
        .await
        .expect(200);
    assert_eq!(got["name"], "绥滨县黑土地水稻合作社");
    let list = app.get("/api/v1/cooperatives", None).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["next_cursor"], serde_json::Value::Null);
}

#[actix_web::test]
async fn only_admins_create_cooperatives() {
    let app = spawn_app().await;
    let user = app.register("someone@example.cn").await;
    app.post(
        "/api/v1/cooperatives",
        Some(&user.token),
        json!({"name": "x", "province": "p", "city": "c", "county": "k"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        "/api/v1/cooperatives",
        None,
        json!({"name": "x", "province": "p", "city": "c", "county": "k"}),
    )
    .await
    .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn cooperative_fields_are_validated() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = app
        .post(
            "/api/v1/cooperatives",
            Some(&admin.token),
            json!({"name": " ", "province": "黑龙江省", "city": "鹤岗市", "county": "", "contact_phone": "12"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<_> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "county", "contact_phone"]);
}

#[actix_web::test]
async fn missing_and_malformed_cooperative_ids_are_404() {
    let app = spawn_app().await;
    app.get("/api/v1/cooperatives/not-a-uuid", None)
        .await
        .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/cooperatives/{}", uuid::Uuid::new_v4()),
        None,
    )
    .await
    .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn owner_adds_staff_and_me_shows_memberships() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("萝北县冻梨合作社").await;
    let staff = app.register("staff@example.cn").await;
    app.add_coop_member(&owner, &coop, "STAFF@example.cn", "staff")
        .await;
    let me = app.get("/api/v1/me", Some(&staff.token)).await.expect(200);
    assert_eq!(
        me["cooperatives"],
        json!([{"id": coop, "name": "萝北县冻梨合作社", "role": "staff"}])
    );
    // staff may not add members; a stranger neither; a duplicate is a conflict
    app.register("another@example.cn").await;
    app.post(
        &format!("/api/v1/cooperatives/{coop}/members"),
        Some(&staff.token),
        json!({"email": "another@example.cn", "role": "staff"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let stranger = app.register("stranger@example.cn").await;
    app.post(
        &format!("/api/v1/cooperatives/{coop}/members"),
        Some(&stranger.token),
        json!({"email": "another@example.cn", "role": "staff"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        &format!("/api/v1/cooperatives/{coop}/members"),
        Some(&owner.token),
        json!({"email": "staff@example.cn", "role": "owner"}),
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        &format!("/api/v1/cooperatives/{coop}/members"),
        Some(&owner.token),
        json!({"email": "nobody@example.cn", "role": "staff"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &format!("/api/v1/cooperatives/{coop}/members"),
        Some(&owner.token),
        json!({"email": "another@example.cn", "role": "boss"}),
    )
    .await
    .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn warehouses_belong_to_their_cooperative() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let (other_owner, _other) = app.coop_owner("别的合作社").await;
    let cold = app.create_warehouse(&owner, &coop, true).await;
    let list = app
        .get(
            &format!("/api/v1/cooperatives/{coop}/warehouses"),
            Some(&owner.token),
        )
        .await
        .expect(200);
    assert_eq!(list["items"][0]["id"], cold);
    assert_eq!(list["items"][0]["cold_storage"], true);
    app.post(
        &format!("/api/v1/cooperatives/{coop}/warehouses"),
        Some(&other_owner.token),
        json!({"name": "偷偷建的仓", "address": "别处", "cold_storage": false}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/cooperatives/{coop}/warehouses"),
        Some(&other_owner.token),
    )
    .await
    .expect_problem(403, "forbidden");
}
