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

fn china_now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc() + chrono::Duration::hours(8)
}

fn weekday(d: chrono::NaiveDate) -> u32 {
    use chrono::Datelike;
    d.weekday().number_from_monday()
}

fn ship_by(order: &serde_json::Value) -> String {
    order["fulfilments"][0]["ship_by"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[actix_web::test]
async fn timetables_are_the_owners_and_checked_by_entry() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let path = format!("/api/v1/cooperatives/{}/departures", shop.coop);
    let empty = app.get(&path, None).await.expect(200);
    assert_eq!(empty, json!({"departures": []}));
    let timetable = json!({"departures": [
        {"weekday": 5, "cutoff": "18:00", "capacity_kg": 2000},
        {"weekday": 2, "cutoff": "18:00", "capacity_kg": 2000}
    ]});
    let stranger = app.register("stranger@example.cn").await;
    app.put(&path, Some(&stranger.token), timetable.clone())
        .await
        .expect_problem(403, "forbidden");
    app.put(&path, None, timetable.clone())
        .await
        .expect_problem(401, "unauthorized");
    let saved = app
        .put(&path, Some(&shop.owner.token), timetable)
        .await
        .expect(200);
    // kept in the order the trucks leave, and public
    assert_eq!(saved["departures"][0]["weekday"], 2);
    assert_eq!(app.get(&path, None).await.expect(200), saved);
    for (entry, field) in [
        (
            json!({"weekday": 0, "cutoff": "18:00", "capacity_kg": 1}),
            "departures[0].weekday",
        ),
        (
            json!({"weekday": 8, "cutoff": "18:00", "capacity_kg": 1}),
            "departures[0].weekday",
        ),
        (
            json!({"weekday": 1, "cutoff": "24:00", "capacity_kg": 1}),
            "departures[0].cutoff",
        ),
        (
            json!({"weekday": 1, "cutoff": "9:00", "capacity_kg": 1}),
            "departures[0].cutoff",
        ),
        (
            json!({"weekday": 1, "cutoff": "18:00", "capacity_kg": 0}),
            "departures[0].capacity_kg",
        ),
    ] {
        let p = app
            .put(
                &path,
                Some(&shop.owner.token),
                json!({"departures": [entry]}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{entry}");
    }
    app.get(
        "/api/v1/cooperatives/00000000-0000-7000-8000-000000000000/departures",
        None,
    )
    .await
    .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn orders_just_before_and_just_after_a_cutoff() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 20)
        .await;
    let buyer = app.register("lin@shantou.cn").await;
    let path = format!("/api/v1/cooperatives/{}/departures", shop.coop);
    let items = json!([{"sku_id": sku, "quantity": 1}]);
    // no timetable: the next day
    let order = app.place_order(&buyer, items.clone()).await.expect(201);
    let tomorrow = china_now().date() + chrono::Duration::days(1);
    assert_eq!(ship_by(&order), tomorrow.to_string());
    // a cut-off a few minutes from now: today's truck
    let soon = china_now() + chrono::Duration::minutes(3);
    app.put(
        &path,
        Some(&shop.owner.token),
        json!({"departures": [{"weekday": weekday(soon.date()), "cutoff": soon.format("%H:%M").to_string(), "capacity_kg": 100}]}),
    )
    .await
    .expect(200);
    let order = app.place_order(&buyer, items.clone()).await.expect(201);
    assert_eq!(ship_by(&order), soon.date().to_string());
    // the Guangdong rate carries 3 transit days for chilled and frozen, 4 for ambient rice
    let f = &order["fulfilments"][0];
    let eta = soon.date() + chrono::Duration::days(4);
    assert_eq!(f["estimated_delivery"], eta.to_string());
    assert_eq!(f["weight_grams"], 5000);
    // a cut-off a few minutes ago: the same weekday next week
    let past = china_now() - chrono::Duration::minutes(3);
    app.put(
        &path,
        Some(&shop.owner.token),
        json!({"departures": [{"weekday": weekday(past.date()), "cutoff": past.format("%H:%M").to_string(), "capacity_kg": 100}]}),
    )
    .await
    .expect(200);
    let preview = app
        .post(
            "/api/v1/checkout/preview",
            Some(&buyer.token),
            json!({"items": items.clone(), "shipping_address": shantou()}),
        )
        .await
        .expect(200);
    let next_week = past.date() + chrono::Duration::days(7);
    assert_eq!(preview["fulfilments"][0]["ship_by"], next_week.to_string());
    let order = app.place_order(&buyer, items).await.expect(201);
    assert_eq!(ship_by(&order), next_week.to_string());
    // the order as read back keeps its dates
    let read = app.read_order(&buyer, &order).await;
    assert_eq!(ship_by(&read), next_week.to_string());
    let tracking = app
        .get(
            &format!("/api/v1/orders/{}/tracking", order["id"].as_str().unwrap()),
            Some(&buyer.token),
        )
        .await
        .expect(200);
    assert_eq!(ship_by(&tracking), next_week.to_string());
    assert_eq!(
        tracking["fulfilments"][0]["estimated_delivery"],
        (next_week + chrono::Duration::days(4)).to_string()
    );
}

#[actix_web::test]
async fn a_full_truck_spills_to_the_next_departure_under_concurrency() {
    let app = spawn_app().await;
    let shop = app.shop("绥滨合作社", "RICE").await;
    let sku = &shop.skus["5KG"];
    app.receive(&shop.owner, &shop.coop, sku, &shop.warehouse, 100)
        .await;
    let today = china_now().date();
    let (first, second) = (
        today + chrono::Duration::days(1),
        today + chrono::Duration::days(2),
    );
    // room for ten 5 kg bags on the first truck, plenty on the second
    app.put(
        &format!("/api/v1/cooperatives/{}/departures", shop.coop),
        Some(&shop.owner.token),
        json!({"departures": [
            {"weekday": weekday(first), "cutoff": "12:00", "capacity_kg": 50},
            {"weekday": weekday(second), "cutoff": "12:00", "capacity_kg": 1000}
        ]}),
    )
    .await
    .expect(200);
    let mut buyers = Vec::new();
    for i in 0..5 {
        buyers.push(app.register(&format!("buyer{i}@example.cn")).await);
    }
    let placed = futures::future::join_all(
        (0..50).map(|i| app.place_order(&buyers[i % 5], json!([{"sku_id": sku, "quantity": 1}]))),
    )
    .await;
    let orders: Vec<serde_json::Value> = placed.into_iter().map(|r| r.expect(201)).collect();
    let on_first: Vec<&serde_json::Value> = orders
        .iter()
        .filter(|o| ship_by(o) == first.to_string())
        .collect();
    let on_second = orders
        .iter()
        .filter(|o| ship_by(o) == second.to_string())
        .count();
    assert_eq!((on_first.len(), on_second), (10, 40));
    // one truck's load, with its weight
    let load = app
        .get(
            &format!(
                "/api/v1/cooperatives/{}/fulfilments?ship_by={first}&limit=100",
                shop.coop
            ),
            Some(&shop.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(load["items"].as_array().unwrap().len(), 10);
    assert_eq!(load["total_weight_grams"], 50_000);
    // a cancellation gives its 5 kg back: the next order rides the first truck again
    let cancelled = on_first[0];
    let owner = buyers
        .iter()
        .find(|b| b.user_id == cancelled["buyer_id"].as_str().unwrap())
        .unwrap();
    app.post(
        &format!(
            "/api/v1/orders/{}/cancel",
            cancelled["id"].as_str().unwrap()
        ),
        Some(&owner.token),
        json!({}),
    )
    .await
    .expect(200);
    let order = app
        .place_order(&buyers[0], json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    assert_eq!(ship_by(&order), first.to_string());
    let order = app
        .place_order(&buyers[0], json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    assert_eq!(ship_by(&order), second.to_string());
}
