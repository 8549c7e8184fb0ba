use diesel::prelude::*;
use serde_json::json;
use shanhe::db::schema::{
    categories, cooperatives, products, stock, stock_movements, users, warehouses,
};

use crate::helpers::*;

fn counts(app: &TestApp) -> Vec<i64> {
    let mut c = app.conn();
    vec![
        users::table.count().get_result(&mut *c).unwrap(),
        cooperatives::table.count().get_result(&mut *c).unwrap(),
        warehouses::table.count().get_result(&mut *c).unwrap(),
        categories::table.count().get_result(&mut *c).unwrap(),
        products::table.count().get_result(&mut *c).unwrap(),
        stock::table.count().get_result(&mut *c).unwrap(),
        stock_movements::table.count().get_result(&mut *c).unwrap(),
    ]
}

#[actix_web::test]
async fn the_demo_loads_once_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    let first = {
        let mut conn = app.conn();
        shanhe::tools::demo::load(&mut conn).unwrap()
    };
    assert_eq!(first.products_created, 4);
    let after_first = counts(&app);
    let second = {
        let mut conn = app.conn();
        shanhe::tools::demo::load(&mut conn).unwrap()
    };
    assert_eq!(second.products_created, 0);
    assert_eq!(counts(&app), after_first);
    app.assert_ledger_balanced();

    // the storefront shows it, and the demo logins work
    let list = app
        .get("/api/v1/products?q=%E7%B1%B3", None)
        .await
        .expect(200);
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "q=米 finds both rices: {names:?}");
    assert!(
        names.contains(&"有机大米") && names.contains(&"潮阳丝苗米"),
        "{names:?}"
    );
    let pear = app
        .get("/api/v1/products?storage=frozen&in_stock=true", None)
        .await
        .expect(200);
    assert_eq!(pear["items"][0]["name"], "冻梨切片");
    for a in shanhe::tools::demo::ACCOUNTS {
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"email": a.email, "password": a.password}),
        )
        .await
        .expect(200);
    }
    let owner = app.login("luobei@demo.shanhe.cn", "demo-coop-2026").await;
    let me = app.get("/api/v1/me", Some(&owner.token)).await.expect(200);
    assert_eq!(me["cooperatives"][0]["name"], "萝北县冻梨合作社");
    // its pears are held in dated lots, one of each SKU a week from its date, sold first
    // (whatever the weekday: the next truck plus transit is within a week)
    let coop = me["cooperatives"][0]["id"].as_str().unwrap();
    let soon = app
        .get(
            &format!("/api/v1/cooperatives/{coop}/lots?expiring_within_days=7"),
            Some(&owner.token),
        )
        .await
        .expect(200);
    let codes: Vec<&str> = soon["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(codes.contains(&"LB-PEAR-5KG-L1"), "{codes:?}");
    let pear_id = pear["items"][0]["id"].as_str().unwrap();
    let product = app
        .get(&format!("/api/v1/products/{pear_id}"), None)
        .await
        .expect(200);
    let box_sku = product["skus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "LB-PEAR-5KG")
        .unwrap()["id"]
        .clone();
    let shopper = app.register("demo-buyer@shantou.cn").await;
    let order = app
        .place_order(&shopper, json!([{"sku_id": box_sku, "quantity": 1}]))
        .await
        .expect(201);
    assert_eq!(order["items"][0]["lots"][0]["code"], "LB-PEAR-5KG-L1");
    // the co-ops' trucks leave on fixed days
    let timetable = app
        .get(
            &format!(
                "/api/v1/cooperatives/{}/departures",
                me["cooperatives"][0]["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(timetable["departures"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_large_catalogue_tops_the_demo_up_and_is_searchable_and_stocked() {
    let app = spawn_app().await;
    {
        let mut conn = app.conn();
        shanhe::tools::demo::load(&mut conn).unwrap();
        let mut seen = Vec::new();
        let added =
            shanhe::tools::big_catalogue::top_up(&mut conn, 120, |have| seen.push(have)).unwrap();
        assert_eq!(added, 116, "4 demo products + 116 generated = 120");
        assert_eq!(seen.last(), Some(&120));
        // topping up to the same size again adds nothing
        assert_eq!(
            shanhe::tools::big_catalogue::top_up(&mut conn, 120, |_| {}).unwrap(),
            0
        );
    }
    let total: i64 = products::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(total, 120);
    app.assert_ledger_balanced();

    // every generated product is published with three SKUs, and text search reaches them
    let mut walked = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/products?limit=100&cursor={c}"),
            None => "/api/v1/products?limit=100".to_owned(),
        };
        let page = app.get(&path, None).await.expect(200);
        walked += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(walked, 120);
    let rice = app
        .get("/api/v1/products?q=%E5%A4%A7%E7%B1%B3&limit=100", None)
        .await
        .expect(200);
    let names: Vec<&str> = rice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.iter().any(|n| n.contains("大米") && n.contains('号')),
        "generated rice among {names:?}"
    );
    let in_stock = app
        .get(
            "/api/v1/products?in_stock=true&limit=100&sort=price_asc",
            None,
        )
        .await
        .expect(200);
    assert!(in_stock["items"].as_array().unwrap().len() > 60);
    let first = in_stock["items"][0]["id"].as_str().unwrap().to_owned();
    let detail = app
        .get(&format!("/api/v1/products/{first}"), None)
        .await
        .expect(200);
    assert!(!detail["skus"].as_array().unwrap().is_empty());
}
