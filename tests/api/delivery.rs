//! Delivery: division codes for addresses, cold-truck timetables, ship-by and delivery dates.

use serde_json::json;

use crate::helpers::*;

fn names(list: &serde_json::Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn divisions_answer_an_address_picker() {
    let app = spawn_app().await;
    let provinces = app.get("/api/v1/divisions", None).await.expect(200);
    assert_eq!(provinces["items"].as_array().unwrap().len(), 31);
    assert!(provinces["next_cursor"].is_null());
    assert!(names(&provinces).contains(&"广东省".to_owned()));
    let shantou = app
        .get("/api/v1/divisions?parent=440500", None)
        .await
        .expect(200);
    let districts = names(&shantou);
    for d in [
        "金平区",
        "龙湖区",
        "濠江区",
        "潮阳区",
        "潮南区",
        "澄海区",
        "南澳县",
    ] {
        assert!(districts.contains(&d.to_owned()), "{d}");
    }
    assert!(shantou["items"]
        .as_array()
        .unwrap()
        .contains(&json!({"code": "440511", "name": "金平区"})));
    let hegang = app
        .get("/api/v1/divisions?parent=230400", None)
        .await
        .expect(200);
    assert!(names(&hegang).contains(&"绥滨县".to_owned()));
    // a municipality's districts hang from it; a city without districts has no children
    let beijing = app
        .get("/api/v1/divisions?parent=110000", None)
        .await
        .expect(200);
    assert!(names(&beijing).contains(&"朝阳区".to_owned()));
    let dongguan = app
        .get("/api/v1/divisions?parent=441900", None)
        .await
        .expect(200);
    assert_eq!(dongguan["items"], json!([]));
    app.get("/api/v1/divisions?parent=999999", None)
        .await
        .expect_problem(404, "not_found");
}

async fn preview(app: &TestApp, buyer: &Session, sku: &str, address: serde_json::Value) -> Resp {
    app.post(
        "/api/v1/checkout/preview",
        Some(&buyer.token),
        json!({"items": [{"sku_id": sku, "quantity": 1}], "shipping_address": address}),
    )
    .await
}

#[actix_web::test]
async fn addresses_by_code_or_by_name() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 10)
        .await;
    let buyer = app.register("lin@shantou.cn").await;
    let base = json!({"recipient": "林小姐", "phone": "13800138000", "line1": "长平路 88 号"});
    let with = |extra: serde_json::Value| {
        let mut a = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    // only the code: the names are filled in, and the order keeps the code
    let order = app
        .place_order_at(
            &buyer,
            json!([{"sku_id": sku, "quantity": 1}]),
            with(json!({"district_code": "440511"})),
        )
        .await
        .expect(201);
    let a = &order["shipping_address"];
    assert_eq!(
        (
            a["province"].as_str(),
            a["city"].as_str(),
            a["district"].as_str(),
            a["district_code"].as_str()
        ),
        (
            Some("广东省"),
            Some("汕头市"),
            Some("金平区"),
            Some("440511")
        )
    );
    // names only, short forms too: the code is found
    let order = app
        .place_order_at(
            &buyer,
            json!([{"sku_id": sku, "quantity": 1}]),
            with(json!({"province": "广东", "city": "汕头", "district": "潮阳"})),
        )
        .await
        .expect(201);
    assert_eq!(order["shipping_address"]["district_code"], "440513");
    assert_eq!(order["shipping_address"]["district"], "潮阳区");
    // a municipality (the city repeats the province) and a city without districts
    for (address, code) in [
        (
            json!({"province": "北京市", "city": "北京市", "district": "朝阳区"}),
            "110105",
        ),
        (
            json!({"province": "上海", "city": "上海", "district": "浦东新区"}),
            "310115",
        ),
        (
            json!({"province": "广东省", "city": "东莞市", "district": "东莞市"}),
            "441900",
        ),
        (json!({"district_code": "442000"}), "442000"),
    ] {
        let p = preview(&app, &buyer, sku, with(address.clone()))
            .await
            .expect(200);
        assert!(p["shipping_fee"].is_string(), "{address}");
        let order = app
            .place_order_at(
                &buyer,
                json!([{"sku_id": sku, "quantity": 1}]),
                with(address.clone()),
            )
            .await
            .expect(201);
        assert_eq!(
            order["shipping_address"]["district_code"], code,
            "{address}"
        );
    }
    // unknown, disagreeing and missing: 422 naming the field
    for (address, field) in [
        (
            json!({"district_code": "440500"}),
            "shipping_address.district_code",
        ),
        (
            json!({"district_code": "999999"}),
            "shipping_address.district_code",
        ),
        (
            json!({"district_code": "440511", "district": "龙湖区"}),
            "shipping_address.district",
        ),
        (
            json!({"district_code": "440511", "province": "黑龙江省"}),
            "shipping_address.province",
        ),
        (
            json!({"province": "广东省", "city": "鹤岗市", "district": "绥滨县"}),
            "shipping_address.city",
        ),
        (
            json!({"province": "广东省", "city": "汕头市", "district": "海淀区"}),
            "shipping_address.district",
        ),
        (
            json!({"province": "广东省", "city": "汕头市"}),
            "shipping_address.district",
        ),
    ] {
        let p = preview(&app, &buyer, sku, with(address.clone()))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{address}");
    }
}
