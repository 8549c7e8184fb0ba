//! What each caller may see: a co-op only its own part of an order's money, the public no
//! negotiated terms, an organization owner no member's account id.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn a_coop_sees_only_its_own_part_of_an_orders_money() {
    let app = spawn_app().await;
    let rice = app.shop("绥滨合作社", "RICE").await;
    let pears = app.shop("萝北合作社", "PEAR").await;
    for shop in [&rice, &pears] {
        app.receive(
            &shop.owner,
            &shop.coop,
            &shop.skus["5KG"],
            &shop.warehouse,
            10,
        )
        .await;
    }
    let buyer = app.register("lin@shantou.cn").await;
    let order = app
        .place_order(
            &buyer,
            json!([{"sku_id": rice.skus["5KG"], "quantity": 1}, {"sku_id": pears.skus["5KG"], "quantity": 2}]),
        )
        .await
        .expect(201);
    let id = order["id"].as_str().unwrap();
    let seen = app
        .get(&format!("/api/v1/orders/{id}"), Some(&pears.owner.token))
        .await
        .expect(200);
    let fulfilment = &seen["fulfilments"][0];
    assert_eq!(seen["fulfilments"].as_array().unwrap().len(), 1);
    assert_eq!(seen["items"].as_array().unwrap().len(), 1);
    assert_eq!(seen["subtotal"], "119.80", "two bags at 59.90: {seen}");
    assert_eq!(seen["shipping_fee"], fulfilment["shipping_fee"]);
    let fee: f64 = fulfilment["shipping_fee"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(seen["total"], format!("{:.2}", 119.80 + fee));
    assert_ne!(seen["total"], order["total"], "not the whole order's total");
    // the buyer still sees the whole order
    let whole = app
        .get(&format!("/api/v1/orders/{id}"), Some(&buyer.token))
        .await
        .expect(200);
    assert_eq!(whole["total"], order["total"]);
}

#[actix_web::test]
async fn a_coops_commission_rate_is_for_its_members_and_admins_only() {
    let app = spawn_app().await;
    let (owner, coop) = app.coop_owner("绥滨合作社").await;
    let admin = app.admin().await;
    app.put(
        &format!("/api/v1/cooperatives/{coop}/commission-rate"),
        Some(&admin.token),
        json!({"commission_rate": "0.03"}),
    )
    .await
    .expect(200);
    let public = app
        .get(&format!("/api/v1/cooperatives/{coop}"), None)
        .await
        .expect(200);
    assert!(public.get("commission_rate").is_none(), "{public}");
    let stranger = app.register("stranger@example.cn").await;
    let listed = app
        .get("/api/v1/cooperatives", Some(&stranger.token))
        .await
        .expect(200);
    assert!(
        listed["items"][0].get("commission_rate").is_none(),
        "{listed}"
    );
    for who in [&owner, &admin] {
        let seen = app
            .get(&format!("/api/v1/cooperatives/{coop}"), Some(&who.token))
            .await
            .expect(200);
        assert_eq!(seen["commission_rate"], "0.03");
    }
}

#[actix_web::test]
async fn organization_members_are_added_without_their_account_id_and_may_leave() {
    let app = spawn_app().await;
    let owner = app.register("owner@market.cn").await;
    let org = app
        .post(
            "/api/v1/organizations",
            Some(&owner.token),
            json!({"name": "金平区生鲜超市", "business_license_no": "91440500MA4U0001", "city": "汕头市", "contact_phone": "13800138000"}),
        )
        .await
        .expect(201);
    let id = org["id"].as_str().unwrap();
    let member = app.register("buyer@market.cn").await;
    let added = app
        .post(
            &format!("/api/v1/organizations/{id}/members"),
            Some(&owner.token),
            json!({"email": "buyer@market.cn"}),
        )
        .await
        .expect(201);
    assert!(added.get("user_id").is_none(), "{added}");
    assert_eq!(added["role"], "member");
    app.get(&format!("/api/v1/organizations/{id}"), Some(&member.token))
        .await
        .expect(200);
    app.delete(
        &format!("/api/v1/organizations/{id}/members/me"),
        Some(&owner.token),
    )
    .await
    .expect_problem(409, "conflict");
    let left = app
        .delete(
            &format!("/api/v1/organizations/{id}/members/me"),
            Some(&member.token),
        )
        .await;
    assert_eq!(left.status, 204);
    app.get(&format!("/api/v1/organizations/{id}"), Some(&member.token))
        .await
        .expect_problem(404, "not_found");
    app.delete(
        &format!("/api/v1/organizations/{id}/members/me"),
        Some(&member.token),
    )
    .await
    .expect_problem(404, "not_found");
}
