//! The pages through HTTP, as a browser without JavaScript would use them: cookies, forms,
//! CSRF tokens, redirects, and who may see what.

use std::cell::RefCell;

use awc::http::Method;
use serde_json::Value;

use crate::helpers::*;

/// A browser without JavaScript: keeps the session cookie, posts forms, never follows
/// redirects on its own.
struct Browser<'a> {
    app: &'a TestApp,
    client: awc::Client,
    cookie: RefCell<Option<String>>,
}

struct Page {
    status: u16,
    location: Option<String>,
    headers: awc::http::header::HeaderMap,
    body: String,
}

impl Page {
    fn csrf(&self) -> String {
        let re = regex::Regex::new(r#"name="csrf_token" value="([0-9a-f]+)""#).unwrap();
        re.captures(&self.body)
            .map(|c| c[1].to_owned())
            .unwrap_or_else(|| panic!("no CSRF token on the page:\n{}", self.body))
    }

    fn hidden(&self, name: &str) -> String {
        let re = regex::Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).unwrap();
        re.captures(&self.body)
            .map(|c| c[1].to_owned())
            .unwrap_or_else(|| panic!("no {name} on the page"))
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[track_caller]
    fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body:\n{}", self.body);
        self
    }

    #[track_caller]
    fn shows(&self, text: &str) -> &Self {
        assert!(
            self.body.contains(text),
            "the page does not show {text:?}:\n{}",
            self.body
        );
        self
    }
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(std::time::Duration::from_secs(60))
                .finish(),
            cookie: RefCell::new(None),
        }
    }

    async fn send(&self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.app.base))
            .insert_header(("Accept", "text/html"));
        if let Some(c) = self.cookie.borrow().as_ref() {
            req = req.insert_header(("Cookie", c.clone()));
        }
        let mut res = match form {
            Some(f) => req.send_form(&f).await,
            None => req.send().await,
        }
        .expect("request sent");
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap_or_default();
            if let Some(pair) = v
                .split(';')
                .next()
                .filter(|p| p.starts_with("shanhe_session="))
            {
                *self.cookie.borrow_mut() =
                    Some(pair.to_owned()).filter(|p| p != "shanhe_session=");
            }
        }
        let body = res.body().limit(4 * 1024 * 1024).await.expect("body");
        Page {
            status: res.status().as_u16(),
            location: res
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            headers: res.headers().clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Registers through `/register` and stays signed in.
    async fn register(&self, email: &str) {
        let csrf = self.get("/register").await.csrf();
        let p = self
            .post(
                "/register",
                &[
                    ("csrf_token", &csrf),
                    ("email", email),
                    ("password", PASSWORD),
                    ("display_name", "汕头阿明"),
                    ("next", "/"),
                ],
            )
            .await;
        assert_eq!(p.status, 303, "{}", p.body);
    }

    /// Signs in through `/login`.
    async fn login(&self, email: &str, password: &str) {
        let csrf = self.csrf().await;
        self.post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", email),
                ("password", password),
            ],
        )
        .await
        .expect(303);
    }

    async fn csrf(&self) -> String {
        self.get("/login").await.csrf()
    }
}

/// The demo's 冻梨 (a frozen, lot-tracked product): its id and first SKU's id.
async fn pear(app: &TestApp) -> (String, String) {
    {
        let mut conn = app.conn();
        shanhe::tools::demo::load(&mut conn).expect("demo");
    }
    let list = app
        .get("/api/v1/products?storage=frozen", None)
        .await
        .expect(200);
    let product = list["items"][0]["id"].as_str().unwrap().to_owned();
    let detail = app
        .get(&format!("/api/v1/products/{product}"), None)
        .await
        .expect(200);
    (
        product,
        detail["skus"][0]["id"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn the_storefront_is_public_and_personal_pages_send_visitors_to_login() {
    let app = spawn_app().await;
    let (product, _) = pear(&app).await;
    let b = Browser::new(&app);
    let home = b.get("/").await;
    home.expect(200)
        .shows("搜索")
        .shows("冻梨切片")
        .shows("冷链");
    assert!(home.header("content-type").starts_with("text/html"));
    assert_eq!(home.header("cache-control"), "private, no-store");
    let cookie = home.header("set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    // the style sheet under its hashed name, cached for a year; nothing from another host
    let css = regex::Regex::new(r#"href="(/static/app\.[0-9a-f]{8}\.css)""#)
        .unwrap()
        .captures(&home.body)
        .map(|c| c[1].to_owned())
        .expect("a hashed style sheet");
    let sheet = b.get(&css).await;
    sheet.expect(200);
    assert!(sheet.header("cache-control").contains("immutable"));
    assert!(!home.body.contains("http://") && !home.body.contains("https://"));

    b.get("/?q=%E5%86%BB%E6%A2%A8&storage=frozen&sort=price_asc")
        .await
        .expect(200)
        .shows("冻梨切片");
    b.get("/?q=%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA")
        .await
        .expect(200)
        .shows("没有找到");
    // a bad filter is said on the page, not a failure
    b.get("/?storage=lukewarm")
        .await
        .expect(200)
        .shows("banner");
    b.get(&format!("/products/{product}"))
        .await
        .expect(200)
        .shows("数量")
        .shows("加入购物车")
        .shows("保质期至")
        .shows("萝北县冻梨合作社");

    for path in ["/cart", "/checkout", "/orders"] {
        let p = b.get(path).await;
        p.expect(303);
        assert_eq!(
            p.location.as_deref(),
            Some(format!("/login?next=%2F{}", &path[1..]).as_str())
        );
    }
    b.get("/products/not-an-id")
        .await
        .expect(404)
        .shows("页面不存在");
    b.get("/no/such/page").await.expect(404).shows("页面不存在");
    // API clients still get problem+json for an unknown path
    app.get("/no/such/page", None)
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn forms_without_this_sessions_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.register("lin@shantou.test").await;
    let a = Browser::new(&app);
    let b = Browser::new(&app);
    let token_of_b = b.csrf().await;
    a.csrf().await;
    let login = |csrf: &str| {
        vec![
            ("email".to_owned(), "lin@shantou.test".to_owned()),
            ("password".to_owned(), PASSWORD.to_owned()),
            ("csrf_token".to_owned(), csrf.to_owned()),
        ]
    };
    for token in ["", token_of_b.as_str()] {
        let form = login(token);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let form: Vec<(&str, &str)> = form.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        a.post("/login", &form)
            .await
            .expect(403)
            .shows("页面已过期");
    }
    // the API never takes the page cookie
    let mine = a.csrf().await;
    let form = login(&mine);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    a.post("/login", &form).await.expect(303);
    a.get("/orders").await.expect(200);
    let cookie = a.cookie.borrow().clone().unwrap();
    let mut res = app
        .client
        .get(format!("{}/api/v1/cart", app.base))
        .insert_header(("Cookie", cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let _ = res.body().await;
    // signing out ends the page session
    let csrf = a.csrf().await;
    a.post("/logout", &[("csrf_token", &csrf)])
        .await
        .expect(303);
    a.get("/orders").await.expect(303);
}

#[actix_web::test]
async fn login_and_register_show_what_is_wrong_and_floods_are_throttled() {
    let app = spawn_app().await;
    let b = Browser::new(&app);
    let csrf = b.csrf().await;
    let p = b
        .post(
            "/register",
            &[
                ("csrf_token", &csrf),
                ("email", "not-an-email"),
                ("password", "short"),
                ("display_name", "=cmd|'/c calc'!A1"),
            ],
        )
        .await;
    p.expect(422)
        .shows(r#"id="email-error">邮箱格式不正确"#)
        .shows(r#"id="password-error">至少 10 个字符"#);
    b.register("chen@shantou.test").await;
    let csrf = b.csrf().await;
    b.post("/logout", &[("csrf_token", &csrf)])
        .await
        .expect(303);
    let csrf = b.csrf().await;
    b.post(
        "/register",
        &[
            ("csrf_token", &csrf),
            ("email", "chen@shantou.test"),
            ("password", PASSWORD),
            ("display_name", "陈"),
        ],
    )
    .await
    .expect(409)
    .shows("已经注册过");
    // NUL bytes and 30-digit numbers are answered, never a failure
    b.post(
        "/register",
        &[
            ("csrf_token", &csrf),
            ("email", "a\0b@shantou.test"),
            ("password", "123456789012345678901234567890"),
            ("display_name", "\0"),
        ],
    )
    .await
    .expect(422);

    let b = &b;
    let wrong = |csrf: String| async move {
        b.post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", "chen@shantou.test"),
                ("password", "wrong-password-123"),
            ],
        )
        .await
    };
    wrong(csrf.clone())
        .await
        .expect(401)
        .shows("邮箱或密码不正确");
    let mut last = 401;
    for _ in 0..6 {
        last = wrong(csrf.clone()).await.status;
    }
    assert_eq!(last, 429, "the API's login limits hold for the page too");
    let p = wrong(csrf.clone()).await;
    p.expect(429).shows("尝试次数过多");
    assert!(!p.header("retry-after").is_empty());
}

#[actix_web::test]
async fn a_shopper_buys_through_the_pages_once_however_often_the_form_is_sent() {
    let app = spawn_app().await;
    let (product, sku) = pear(&app).await;
    let b = Browser::new(&app);
    b.register("ming@shantou.test").await;
    let csrf = b.csrf().await;
    // anonymous adds go to login; signed in, they add up
    let qty_error = b
        .post(
            "/cart/items",
            &[
                ("csrf_token", &csrf),
                ("product_id", &product),
                ("sku_id", &sku),
                ("quantity", "999999999999999999999999999999"),
            ],
        )
        .await;
    qty_error.expect(422).shows("数量需在");
    for q in ["1", "1"] {
        let p = b
            .post(
                "/cart/items",
                &[
                    ("csrf_token", &csrf),
                    ("product_id", &product),
                    ("sku_id", &sku),
                    ("quantity", q),
                ],
            )
            .await;
        p.expect(303);
        assert_eq!(p.location.as_deref(), Some("/cart"));
    }
    let cart = b.get("/cart").await;
    cart.expect(200).shows("冻梨切片").shows("去结算");
    assert!(cart.body.contains(r#"value="2""#), "1 + 1 in the cart");

    let checkout = b.get("/checkout").await;
    checkout
        .expect(200)
        .shows("收货人")
        .shows("手机号")
        .shows("详细地址")
        .shows("提交订单")
        .shows("广东省");
    let key = checkout.hidden("idempotency_key");
    let region = b
        .get("/checkout/region?province=440000&city=440500&district=440507")
        .await;
    region
        .expect(200)
        .shows("龙湖区")
        .shows("运费")
        .shows("预计送达");
    // a city picked under another province is dropped
    let mixed = b.get("/checkout/region?province=110000&city=440500").await;
    mixed.expect(200).shows(r#"value="110000" selected"#);
    assert!(!mixed.body.contains("440500"), "汕头 is not under 北京");

    // a missing recipient and a bad phone are shown beside their fields; nothing is placed
    let bad = b
        .post(
            "/checkout",
            &[
                ("csrf_token", &csrf),
                ("idempotency_key", &key),
                ("recipient", ""),
                ("phone", "12345"),
                ("province", "440000"),
                ("city", "440500"),
                ("district", "440507"),
                ("line1", "长平路 88 号"),
            ],
        )
        .await;
    bad.expect(422).shows("field-error");
    let good = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", "00000000-0000-4000-8000-000000000001"),
        ("recipient", "陈阿明"),
        ("phone", "13800138000"),
        ("province", "440000"),
        ("city", "440500"),
        ("district", "440507"),
        ("line1", "长平路 88 号"),
    ];
    let placed = b.post("/checkout", &good).await;
    placed.expect(303);
    let order_path = placed.location.clone().unwrap();
    assert!(order_path.starts_with("/orders/"));
    // a double click or a reload sends the same form: the same order, not a second
    let again = b.post("/checkout", &good).await;
    again.expect(303);
    assert_eq!(again.location, placed.location);
    let order_id = order_path.trim_start_matches("/orders/").to_owned();
    let api_buyer = app.login("ming@shantou.test", PASSWORD).await;
    let mine = app
        .get("/api/v1/orders", Some(&api_buyer.token))
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let order: Value = mine["items"][0].clone();
    assert_eq!(order["id"], order_id.as_str());
    assert_eq!(order["shipping_address"]["district"], "龙湖区");
    assert_eq!(order["items"][0]["quantity"], 2);

    let page = b.get(&order_path).await;
    page.expect(200)
        .shows("待支付")
        .shows("去支付")
        .shows(order["total"].as_str().unwrap());
    assert_eq!(page.header("cache-control"), "private, no-store");
    b.get("/orders")
        .await
        .expect(200)
        .shows(order["number"].as_str().unwrap());

    // someone else sees neither the order nor its payment
    let other = Browser::new(&app);
    other.register("eve@shantou.test").await;
    other.get(&order_path).await.expect(404).shows("页面不存在");
    let ecsrf = other.csrf().await;
    other
        .post(&format!("{order_path}/pay"), &[("csrf_token", &ecsrf)])
        .await
        .expect(404);

    let pay = b
        .post(&format!("{order_path}/pay"), &[("csrf_token", &csrf)])
        .await;
    pay.expect(303);
    let pay_path = pay.location.clone().unwrap();
    assert!(pay_path.starts_with("/pay/"));
    // pressing 去支付 twice leads to the same payment
    let pay_twice = b
        .post(&format!("{order_path}/pay"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(pay_twice.location, pay.location);
    other.get(&pay_path).await.expect(404);
    b.get(&pay_path).await.expect(200).shows("确认支付");
    let done = b.post(&pay_path, &[("csrf_token", &csrf)]).await;
    done.expect(303);
    assert_eq!(done.location.as_deref(), Some(order_path.as_str()));
    b.get(&order_path)
        .await
        .expect(200)
        .shows("已支付")
        .shows("待发货");
    let after = app
        .get(
            &format!("/api/v1/orders/{order_id}"),
            Some(&api_buyer.token),
        )
        .await
        .expect(200);
    assert_eq!(after["status"], "confirmed");
    assert_eq!(after["payment_status"], "paid");
    // confirming again changes nothing
    b.post(&pay_path, &[("csrf_token", &csrf)])
        .await
        .expect(303);
    app.assert_ledger_balanced();
    app.assert_lots_balanced();
}

#[actix_web::test]
async fn behind_https_the_session_cookie_is_secure() {
    let app = spawn_app_with(|c| c.public_url = Some("https://shanhe.example.cn".into())).await;
    let b = Browser::new(&app);
    let cookie = b.get("/login").await.header("set-cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[actix_web::test]
async fn without_the_sandbox_there_is_no_payment_page() {
    let app = spawn_app_with(|c| c.payment_sandbox = false).await;
    let (_, sku) = pear(&app).await;
    let buyer = app.register("lin@shantou.test").await;
    let order = app
        .place_order(&buyer, serde_json::json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    let b = Browser::new(&app);
    let csrf = b.csrf().await;
    b.post(
        "/login",
        &[
            ("csrf_token", &csrf),
            ("email", "lin@shantou.test"),
            ("password", PASSWORD),
        ],
    )
    .await
    .expect(303);
    let path = format!("/orders/{}", order["id"].as_str().unwrap());
    let page = b.get(&path).await;
    page.expect(200).shows("在线支付暂未开通");
    assert!(!page.body.contains("去支付"));
    let csrf = b.csrf().await;
    b.post(&format!("{path}/pay"), &[("csrf_token", &csrf)])
        .await
        .expect(404);
}

/// The demo's pear co-op, its owner signed in on a page, and a shopper's paid order of one
/// box of its pears.
struct PearShop {
    coop: String,
    owner: Session,
    order: Value,
}

async fn pear_shop(app: &TestApp) -> PearShop {
    let (_, sku) = pear(app).await;
    let owner = app.login("luobei@demo.shanhe.cn", "demo-coop-2026").await;
    let coop = app
        .get("/api/v1/cooperatives", Some(&owner.token))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "萝北县冻梨合作社")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .unwrap();
    let shopper = app
        .login("shopper@demo.shanhe.cn", "demo-shopper-2026")
        .await;
    let order = app
        .place_order(
            &shopper,
            serde_json::json!([{"sku_id": sku, "quantity": 2}]),
        )
        .await
        .expect(201);
    app.pay(&shopper, order["id"].as_str().unwrap()).await;
    PearShop { coop, owner, order }
}

#[actix_web::test]
async fn the_console_is_for_the_coops_own_members_and_owner_pages_for_owners() {
    let app = spawn_app().await;
    let shop = pear_shop(&app).await;
    let coop = &shop.coop;
    let anonymous = Browser::new(&app);
    anonymous.get("/console").await.expect(303);
    anonymous.get(&format!("/console/{coop}")).await.expect(303);

    let shopper = Browser::new(&app);
    shopper
        .login("shopper@demo.shanhe.cn", "demo-shopper-2026")
        .await;
    shopper.get("/console").await.expect(403).shows("无权访问");
    shopper.get(&format!("/console/{coop}")).await.expect(404);
    shopper
        .get(&format!("/console/{coop}/lots"))
        .await
        .expect(404);

    // the rice co-op's owner sees nothing of the pear co-op
    let rice = Browser::new(&app);
    rice.login("suibin@demo.shanhe.cn", "demo-coop-2026").await;
    let own = rice.get("/console").await;
    own.expect(303);
    assert!(own.location.unwrap().starts_with("/console/"));
    for path in ["", "/lots", "/claims", "/settlement", "/members"] {
        rice.get(&format!("/console/{coop}{path}"))
            .await
            .expect(404);
    }
    let csrf = rice.csrf().await;
    let fulfilment = shop.order["fulfilments"][0]["id"].as_str().unwrap();
    rice.post(
        &format!("/console/{coop}/fulfilments/{fulfilment}/ship"),
        &[
            ("csrf_token", &csrf),
            ("carrier", "顺丰"),
            ("tracking_number", "X1"),
        ],
    )
    .await
    .expect(404);
    rice.get(&format!("/console/{coop}/fulfilments/{fulfilment}/slip"))
        .await
        .expect(404);

    // staff work the queue but not the owner's pages
    app.register("packer@luobei.test").await;
    app.add_coop_member(&shop.owner, coop, "packer@luobei.test", "staff")
        .await;
    let staff = Browser::new(&app);
    staff.login("packer@luobei.test", PASSWORD).await;
    // the top bar offers the console to co-op members only, the admin pages to admins only
    staff
        .get("/")
        .await
        .expect(200)
        .shows(r#"<a href="/console">工作台</a>"#);
    let shop_page = shopper.get("/").await;
    assert!(!shop_page.body.contains(r#"<a href="/console">工作台</a>"#));
    assert!(!shop_page.body.contains(r#"<a href="/admin">管理</a>"#));
    staff
        .get(&format!("/console/{coop}"))
        .await
        .expect(200)
        .shows(shop.order["number"].as_str().unwrap())
        .shows("快递公司")
        .shows("运单号");
    staff
        .get(&format!("/console/{coop}/members"))
        .await
        .expect(403);
    staff
        .get(&format!("/console/{coop}/settlement"))
        .await
        .expect(403);
    let owner = Browser::new(&app);
    owner.login("luobei@demo.shanhe.cn", "demo-coop-2026").await;
    owner
        .get(&format!("/console/{coop}/settlement?month=2026-11"))
        .await
        .expect(200)
        .shows("应结算");
    owner
        .get(&format!("/console/{coop}/settlement?month=garbage"))
        .await
        .expect(200)
        .shows("YYYY-MM");
    let csrf = owner.csrf().await;
    owner
        .post(
            &format!("/console/{coop}/members"),
            &[("csrf_token", &csrf), ("email", "nobody@luobei.test")],
        )
        .await
        .expect(422)
        .shows("field-error");
    app.register("second@luobei.test").await;
    owner
        .post(
            &format!("/console/{coop}/members"),
            &[("csrf_token", &csrf), ("email", "second@luobei.test")],
        )
        .await
        .expect(303);
    let second = Browser::new(&app);
    second.login("second@luobei.test", PASSWORD).await;
    second.get(&format!("/console/{coop}")).await.expect(200);
}

#[actix_web::test]
async fn a_coop_ships_receives_holds_and_decides_claims_from_the_console() {
    let app = spawn_app().await;
    let shop = pear_shop(&app).await;
    let coop = &shop.coop;
    let b = Browser::new(&app);
    b.login("luobei@demo.shanhe.cn", "demo-coop-2026").await;
    let csrf = b.csrf().await;
    let fulfilment = shop.order["fulfilments"][0]["id"].as_str().unwrap();
    let item = shop.order["items"][0]["id"].as_str().unwrap();
    let ship = format!("/console/{coop}/fulfilments/{fulfilment}/ship");
    let qty = format!("qty_{item}");

    // the slip carries each lot's label with its QR code
    let slip = b
        .get(&format!("/console/{coop}/fulfilments/{fulfilment}/slip"))
        .await;
    slip.expect(200).shows("装箱单").shows(r#"id="qr""#);

    // a missing carrier and too many units are refused with the reason, nothing shipped
    b.post(
        &ship,
        &[
            ("csrf_token", &csrf),
            ("carrier", ""),
            ("tracking_number", "SF1"),
            (&qty, "2"),
        ],
    )
    .await
    .expect(422)
    .shows("发货失败");
    b.post(
        &ship,
        &[
            ("csrf_token", &csrf),
            ("carrier", "顺丰冷运"),
            ("tracking_number", "SF1"),
            (&qty, "99"),
        ],
    )
    .await
    .expect(422)
    .shows("发货失败");
    let done = b
        .post(
            &ship,
            &[
                ("csrf_token", &csrf),
                ("carrier", "顺丰冷运"),
                ("tracking_number", "SF900"),
                (&qty, "2"),
            ],
        )
        .await;
    done.expect(303);
    let order = app
        .get(
            &format!("/api/v1/orders/{}", shop.order["id"].as_str().unwrap()),
            Some(&shop.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(order["status"], "shipped");
    assert_eq!(
        order["fulfilments"][0]["shipments"][0]["tracking_number"],
        "SF900"
    );

    // 入库: the API's rules, said beside the field
    let lots = b.get(&format!("/console/{coop}/lots")).await;
    lots.expect(200).shows("入库");
    let sku = shop.order["items"][0]["sku_id"].as_str().unwrap();
    let warehouse = shop.order["items"][0]["warehouse_id"].as_str().unwrap();
    let receive = format!("/console/{coop}/lots");
    b.post(
        &receive,
        &[
            ("csrf_token", &csrf),
            ("sku_id", sku),
            ("warehouse_id", warehouse),
            ("code", "LB-X"),
            ("quantity", "0"),
        ],
    )
    .await
    .expect(422)
    .shows("field-error");
    b.post(
        &receive,
        &[
            ("csrf_token", &csrf),
            ("sku_id", sku),
            ("warehouse_id", warehouse),
            ("code", "LB-X"),
            ("quantity", "12"),
        ],
    )
    .await
    .expect(303);
    b.post(
        &receive,
        &[
            ("csrf_token", &csrf),
            ("sku_id", sku),
            ("warehouse_id", warehouse),
            ("code", "LB-X"),
            ("quantity", "12"),
        ],
    )
    .await
    .expect(409);
    let listed = app
        .get(
            &format!("/api/v1/cooperatives/{coop}/lots?sku_id={sku}"),
            Some(&shop.owner.token),
        )
        .await
        .expect(200);
    let lot = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == "LB-X")
        .cloned()
        .expect("the received lot");
    assert_eq!(lot["on_hand"], 12);
    let lot_id = lot["id"].as_str().unwrap();
    b.post(
        &format!("/console/{coop}/lots/{lot_id}/hold"),
        &[("csrf_token", &csrf)],
    )
    .await
    .expect(303);
    let held = app
        .get(&format!("/api/v1/lots/{lot_id}"), Some(&shop.owner.token))
        .await
        .expect(200);
    assert_eq!(held["status"], "held");
    let adjust = format!("/console/{coop}/lots/{lot_id}/adjust");
    b.post(&adjust, &[("csrf_token", &csrf), ("delta", "0")])
        .await
        .expect(422)
        .shows("调整未保存");
    b.post(
        &adjust,
        &[("csrf_token", &csrf), ("delta", "-13"), ("reason", "破损")],
    )
    .await
    .expect(422)
    .shows("调整未保存");
    b.post(
        &adjust,
        &[("csrf_token", &csrf), ("delta", "-2"), ("reason", "破损")],
    )
    .await
    .expect(303);
    let adjusted = app
        .get(&format!("/api/v1/lots/{lot_id}"), Some(&shop.owner.token))
        .await
        .expect(200);
    assert_eq!(adjusted["on_hand"], 10);
    b.post(
        &format!("/console/{coop}/lots/{lot_id}/release"),
        &[("csrf_token", &csrf)],
    )
    .await
    .expect(303);
    let label = b
        .get(&format!("/console/{coop}/lots/{lot_id}/label.svg"))
        .await;
    label.expect(200).shows("LB-X");
    assert!(label.header("content-type").starts_with("image/svg+xml"));
    let rice = Browser::new(&app);
    rice.login("suibin@demo.shanhe.cn", "demo-coop-2026").await;
    rice.get(&format!("/console/{coop}/lots/{lot_id}/label.svg"))
        .await
        .expect(404);

    // the shopper claims a damaged box; the co-op decides on the claims page
    let shopper = app
        .login("shopper@demo.shanhe.cn", "demo-shopper-2026")
        .await;
    let parcel = order["fulfilments"][0]["shipments"][0]["id"]
        .as_str()
        .unwrap();
    app.post(
        &format!("/api/v1/shipments/{parcel}/events"),
        Some(&shop.owner.token),
        serde_json::json!({"status": "delivered", "temperature_celsius": -19.0}),
    )
    .await
    .expect(201);
    let order_id = shop.order["id"].as_str().unwrap();
    let claim = |n: i64| {
        serde_json::json!({"kind": "refund_only", "reason": "damaged",
            "items": [{"order_item_id": item, "quantity": n}], "note": "箱子压坏了"})
    };
    let first = app
        .post(
            &format!("/api/v1/orders/{order_id}/claims"),
            Some(&shopper.token),
            claim(1),
        )
        .await
        .expect(201);
    let second = app
        .post(
            &format!("/api/v1/orders/{order_id}/claims"),
            Some(&shopper.token),
            claim(1),
        )
        .await
        .expect(201);
    let page = b.get(&format!("/console/{coop}/claims")).await;
    page.expect(200)
        .shows("同意")
        .shows("拒绝")
        .shows("箱子压坏了");
    let (one, two) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    b.post(
        &format!("/console/{coop}/claims/{two}/reject"),
        &[("csrf_token", &csrf), ("reason", "")],
    )
    .await
    .expect(422)
    .shows("理由");
    b.post(
        &format!("/console/{coop}/claims/{one}/approve"),
        &[("csrf_token", &csrf)],
    )
    .await
    .expect(303);
    b.post(
        &format!("/console/{coop}/claims/{two}/reject"),
        &[("csrf_token", &csrf), ("reason", "照片看不出损坏")],
    )
    .await
    .expect(303);
    // deciding again is refused with the reason, not a failure
    b.post(
        &format!("/console/{coop}/claims/{one}/approve"),
        &[("csrf_token", &csrf)],
    )
    .await
    .expect(409);
    let c1 = app
        .get(&format!("/api/v1/claims/{one}"), Some(&shopper.token))
        .await
        .expect(200);
    let c2 = app
        .get(&format!("/api/v1/claims/{two}"), Some(&shopper.token))
        .await
        .expect(200);
    assert_eq!(
        (c1["status"].as_str(), c2["status"].as_str()),
        (Some("approved"), Some("rejected"))
    );
    app.assert_ledger_balanced();
    app.assert_lots_balanced();
}

/// Posts a multipart form (a file upload) with the session's cookie.
async fn upload(b: &Browser<'_>, path: &str, parts: &[(&str, &str)]) -> Page {
    let boundary = "shanhe-test-boundary";
    let mut body = String::new();
    for (name, value) in parts {
        if *name == "file" {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"order.csv\"\r\nContent-Type: text/csv\r\n\r\n{value}\r\n"
            ));
        } else {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let mut req = b
        .client
        .post(format!("{}{path}", b.app.base))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ));
    if let Some(c) = b.cookie.borrow().as_ref() {
        req = req.insert_header(("Cookie", c.clone()));
    }
    let mut res = req.send_body(body).await.expect("upload sent");
    let bytes = res.body().limit(4 * 1024 * 1024).await.expect("body");
    Page {
        status: res.status().as_u16(),
        location: res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        headers: res.headers().clone(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[actix_web::test]
async fn business_buyers_apply_and_order_from_a_checked_spreadsheet() {
    let app = spawn_app().await;
    pear(&app).await;
    let b = Browser::new(&app);
    b.get("/business").await.expect(303);
    b.register("cai@chaocai.test").await;
    let csrf = b.csrf().await;
    b.get("/business").await.expect(200).shows("申请企业账号");
    b.post(
        "/business/apply",
        &[
            ("csrf_token", &csrf),
            ("name", ""),
            ("business_license_no", "9144"),
            ("city", "汕头市"),
            ("contact_phone", "x"),
        ],
    )
    .await
    .expect(422)
    .shows("field-error");
    b.post(
        "/business/apply",
        &[
            ("csrf_token", &csrf),
            ("name", "=HYPERLINK(\"x\")潮菜馆"),
            ("business_license_no", "91440500MA4UXXXX1"),
            ("city", "汕头市"),
            ("contact_phone", "0754-88881234"),
        ],
    )
    .await
    .expect(303);
    let page = b.get("/business").await;
    page.expect(200)
        .shows("待平台审核")
        .shows("=HYPERLINK(&#34;x&#34;)潮菜馆");
    assert!(
        !page.body.contains("订单文件"),
        "no ordering before approval"
    );
    let buyer = app.login("cai@chaocai.test", PASSWORD).await;
    let orgs = app
        .get("/api/v1/organizations", Some(&buyer.token))
        .await
        .expect(200);
    let org = orgs["items"][0]["id"].as_str().unwrap().to_owned();
    // before approval an upload is refused with the reason
    let address = [
        ("recipient", "蔡师傅"),
        ("phone", "13923456789"),
        ("province", "440000"),
        ("city", "440500"),
        ("district", "440511"),
        ("line1", "外马路 12 号"),
        ("purchase_order_number", "PO-77"),
    ];
    let with = |file: &'static str, csrf: &str| {
        let mut v: Vec<(String, String)> = vec![
            ("csrf_token".into(), csrf.to_owned()),
            ("file".into(), file.to_owned()),
        ];
        v.extend(address.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        v
    };
    let parts = with("sku_code,quantity\nSB-RICE-25KG,10\n", &csrf);
    let parts: Vec<(&str, &str)> = parts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    upload(&b, &format!("/business/{org}/upload"), &parts)
        .await
        .expect(409)
        .shows("审核后");
    let admin = app.admin().await;
    app.post(
        &format!("/api/v1/organizations/{org}/approve"),
        Some(&admin.token),
        serde_json::json!({"payment_terms": "net_30", "credit_limit": "100000.00"}),
    )
    .await
    .expect(200);
    b.get("/business")
        .await
        .expect(200)
        .shows("订单文件")
        .shows("上传")
        .shows("¥100000.00");

    // every bad line by its spreadsheet number, and nothing placed
    let parts = with(
        "sku_code,quantity\nSB-RICE-25KG,10\nNO-SUCH,2\nSB-RICE-5KG,0\nSB-RICE-25KG,1\n",
        &csrf,
    );
    let parts: Vec<(&str, &str)> = parts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let bad = upload(&b, &format!("/business/{org}/upload"), &parts).await;
    bad.expect(422)
        .shows("第3行")
        .shows("第4行")
        .shows("第5行")
        .shows("已读取 4 行");
    assert!(!bad.body.contains("第2行"));
    // without this session's token: refused
    let parts = with("sku_code,quantity\nSB-RICE-25KG,10\n", "forged");
    let parts: Vec<(&str, &str)> = parts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    upload(&b, &format!("/business/{org}/upload"), &parts)
        .await
        .expect(403);
    // another buyer cannot upload for this organization
    let other = Browser::new(&app);
    other.register("eve@jinping.test").await;
    let ocsrf = other.csrf().await;
    let parts = with("sku_code,quantity\nSB-RICE-25KG,10\n", &ocsrf);
    let parts: Vec<(&str, &str)> = parts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    upload(&other, &format!("/business/{org}/upload"), &parts)
        .await
        .expect(404);

    let parts = with("sku_code,quantity\nSB-RICE-25KG,10\n", &csrf);
    let parts: Vec<(&str, &str)> = parts
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let preview = upload(&b, &format!("/business/{org}/upload"), &parts).await;
    preview
        .expect(200)
        .shows("确认订单")
        .shows("¥225.00")
        .shows("预计送达")
        .shows("提交订单");
    let key = preview.hidden("idempotency_key");
    let mut confirm: Vec<(&str, &str)> = address.to_vec();
    confirm.push(("csrf_token", &csrf));
    confirm.push(("idempotency_key", &key));
    confirm.push(("csv", "sku_code,quantity\nSB-RICE-25KG,10\n"));
    let placed = b.post(&format!("/business/{org}/orders"), &confirm).await;
    placed.expect(303);
    let again = b.post(&format!("/business/{org}/orders"), &confirm).await;
    assert_eq!(
        again.location, placed.location,
        "a second click is the same order"
    );
    let orders = app
        .get(
            &format!("/api/v1/orders?organization_id={org}"),
            Some(&buyer.token),
        )
        .await
        .expect(200);
    assert_eq!(orders["items"].as_array().unwrap().len(), 1);
    let order = &orders["items"][0];
    assert_eq!(order["payment_status"], "on_terms");
    assert_eq!(order["purchase_order_number"], "PO-77");
    assert_eq!(order["items"][0]["unit_price"], "225.00");
    b.get("/business")
        .await
        .expect(200)
        .shows("PO-77")
        .shows("¥97750.00");
}

#[actix_web::test]
async fn the_admin_pages_are_for_admins_and_approve_with_the_apis_rules() {
    let app = spawn_app().await;
    pear(&app).await;
    let shopper = Browser::new(&app);
    shopper
        .login("shopper@demo.shanhe.cn", "demo-shopper-2026")
        .await;
    shopper.get("/admin").await.expect(403).shows("无权访问");
    shopper.get("/admin/sales.csv").await.expect(403);
    Browser::new(&app).get("/admin").await.expect(303);
    let applicant = app.register("mart@jinping.test").await;
    let org = app
        .post(
            "/api/v1/organizations",
            Some(&applicant.token),
            serde_json::json!({"name": "金平区生鲜超市", "business_license_no": "91440500MA4UYYYY2",
                               "city": "汕头市", "contact_phone": "0754-88880000"}),
        )
        .await
        .expect(201);
    let org = org["id"].as_str().unwrap();
    let csrf_of = shopper.csrf().await;
    shopper
        .post(
            &format!("/admin/organizations/{org}/approve"),
            &[("csrf_token", &csrf_of), ("payment_terms", "net_30")],
        )
        .await
        .expect(403);

    let admin = Browser::new(&app);
    admin.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let home = admin.get("/admin").await;
    home.expect(200)
        .shows(r#"<a href="/admin">管理</a>"#)
        .shows("金平区生鲜超市")
        .shows("批准")
        .shows("拒绝")
        .shows(r#"<svg class="chart chart-wide""#);
    let csrf = admin.csrf().await;
    admin
        .post(
            &format!("/admin/organizations/{org}/approve"),
            &[
                ("csrf_token", &csrf),
                ("payment_terms", "net_30"),
                ("credit_limit", "1e9"),
            ],
        )
        .await
        .expect(422)
        .shows("额度应为金额");
    admin
        .post(
            &format!("/admin/organizations/{org}/reject"),
            &[("csrf_token", &csrf), ("reason", "")],
        )
        .await
        .expect(422);
    admin
        .post(
            &format!("/admin/organizations/{org}/approve"),
            &[
                ("csrf_token", &csrf),
                ("payment_terms", "net_30"),
                ("credit_limit", "30000"),
                ("min_remaining_shelf_life_days", "5"),
            ],
        )
        .await
        .expect(303);
    let api_admin = app.admin().await;
    let o = app
        .get(
            &format!("/api/v1/organizations/{org}"),
            Some(&api_admin.token),
        )
        .await
        .expect(200);
    assert_eq!(o["status"], "approved");
    assert_eq!(o["payment_terms"], "net_30");
    assert_eq!(o["credit_limit"], "30000.00");
    assert_eq!(o["min_remaining_shelf_life_days"], 5);
    let audit = app
        .get("/api/v1/audit-events", Some(&api_admin.token))
        .await
        .expect(200);
    assert!(audit.to_string().contains("organization.approved"));

    // today's paid order shows in the chart and in the export
    let (_, sku) = pear(&app).await;
    let buyer = app
        .login("shopper@demo.shanhe.cn", "demo-shopper-2026")
        .await;
    let order = app
        .place_order(&buyer, serde_json::json!([{"sku_id": sku, "quantity": 1}]))
        .await
        .expect(201);
    app.pay(&buyer, order["id"].as_str().unwrap()).await;
    let today = china_today();
    admin
        .get("/admin")
        .await
        .expect(200)
        .shows(&format!(
            "<title>{} ¥{}</title>",
            today.format("%m-%d"),
            order["subtotal"].as_str().unwrap()
        ))
        .shows("萝北县冻梨合作社");
    let csv = admin
        .get(&format!("/admin/sales.csv?from={today}&to={today}"))
        .await;
    csv.expect(200)
        .shows("key,label,orders,units,gross,refunds")
        .shows("萝北县冻梨合作社");
    assert!(csv.header("content-type").starts_with("text/csv"));
    admin.get("/admin/sales.csv?from=garbage").await.expect(400);
}

#[actix_web::test]
async fn admins_edit_rates_and_coops_and_read_the_audit_log_from_pages() {
    let app = spawn_app().await;
    let shopper = Browser::new(&app);
    shopper.register("lin@shantou.test").await;
    for path in ["/admin/rates", "/admin/audit", "/admin/cooperatives"] {
        shopper.get(path).await.expect(403);
    }
    let admin = Browser::new(&app);
    admin.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = admin.csrf().await;
    let page = admin.get("/admin/rates").await;
    page.expect(200).shows("运费设置").shows("保存运费表");
    // the form as shown, submitted back, changes nothing but is saved
    let re = regex::Regex::new(r#"name="([a-z_]+_[0-9]+)" value="([^"]*)""#).unwrap();
    let mut fields: Vec<(String, String)> = re
        .captures_iter(&page.body)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let sel = regex::Regex::new(
        r#"name="(storage_[0-9]+)">\s*(?s:.*?)<option value="([a-z]+)" selected>"#,
    )
    .unwrap();
    for c in sel.captures_iter(&page.body) {
        fields.push((c[1].to_owned(), c[2].to_owned()));
    }
    let rows = fields
        .iter()
        .filter(|(k, v)| k.starts_with("province_") && !v.is_empty())
        .count();
    assert!(rows >= 3, "the seeded rates are shown: {rows}");
    let mut form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form.push(("csrf_token", &csrf));
    admin.post("/admin/rates", &form).await.expect(303);
    // a cell that is no amount is named beside its row; a table without a * row is refused
    let mut bad: Vec<(&str, &str)> = form.clone();
    for f in bad.iter_mut() {
        if f.0 == "first_kg_fee_0" {
            f.1 = "12元";
        }
    }
    admin
        .post("/admin/rates", &bad)
        .await
        .expect(422)
        .shows("应为金额");
    let only_one: Vec<(&str, &str)> = form
        .iter()
        .filter(|(k, _)| k.ends_with("_0") || *k == "csrf_token")
        .cloned()
        .collect();
    admin
        .post("/admin/rates", &only_one)
        .await
        .expect(422)
        .shows("banner");
    let api_admin = app.admin().await;
    let rates = app.get("/api/v1/shipping-rates", None).await.expect(200);
    assert_eq!(
        rates["items"].as_array().unwrap().len(),
        rows,
        "refused tables changed nothing"
    );

    admin
        .post(
            "/admin/cooperatives",
            &[
                ("csrf_token", &csrf),
                ("name", ""),
                ("province", "黑龙江省"),
                ("city", "鹤岗市"),
                ("county", "萝北县"),
            ],
        )
        .await
        .expect(422)
        .shows("field-error");
    admin
        .post(
            "/admin/cooperatives",
            &[
                ("csrf_token", &csrf),
                ("name", "萝北县蓝莓合作社"),
                ("province", "黑龙江省"),
                ("city", "鹤岗市"),
                ("county", "萝北县"),
            ],
        )
        .await
        .expect(303);
    let coops = app
        .get("/api/v1/cooperatives", Some(&api_admin.token))
        .await
        .expect(200);
    let coop = coops["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "萝北县蓝莓合作社")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .expect("created");
    admin
        .post(
            &format!("/admin/cooperatives/{coop}/commission"),
            &[("csrf_token", &csrf), ("commission_rate", "2")],
        )
        .await
        .expect(422)
        .shows("0 到 1");
    admin
        .post(
            &format!("/admin/cooperatives/{coop}/commission"),
            &[("csrf_token", &csrf), ("commission_rate", "0.03")],
        )
        .await
        .expect(303);
    let c = app
        .get(
            &format!("/api/v1/cooperatives/{coop}"),
            Some(&api_admin.token),
        )
        .await
        .expect(200);
    assert_eq!(c["commission_rate"], "0.03");
    app.register("owner@blueberry.test").await;
    let members = format!("/admin/cooperatives/{coop}/members");
    admin
        .post(
            &members,
            &[
                ("csrf_token", &csrf),
                ("email", "ghost@blueberry.test"),
                ("role", "owner"),
            ],
        )
        .await
        .expect(422)
        .shows("field-error");
    admin
        .post(
            &members,
            &[
                ("csrf_token", &csrf),
                ("email", "owner@blueberry.test"),
                ("role", "owner"),
            ],
        )
        .await
        .expect(303);
    let new_owner = Browser::new(&app);
    new_owner.login("owner@blueberry.test", PASSWORD).await;
    new_owner
        .get(&format!("/console/{coop}/members"))
        .await
        .expect(200);
    admin
        .get("/admin/audit")
        .await
        .expect(200)
        .shows("shipping_rates.replaced")
        .shows("cooperative.created")
        .shows("cooperative.commission_rate_set");
}

#[actix_web::test]
async fn a_coop_creates_edits_and_publishes_products_from_the_console() {
    let app = spawn_app().await;
    let shop = pear_shop(&app).await;
    let coop = &shop.coop;
    let b = Browser::new(&app);
    b.login("luobei@demo.shanhe.cn", "demo-coop-2026").await;
    let csrf = b.csrf().await;
    let list = format!("/console/{coop}/products");
    b.get(&list)
        .await
        .expect(200)
        .shows("冻梨切片")
        .shows("新建商品");
    let product = |name: &'static str, price: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("name", name.to_owned()),
            ("origin", "黑龙江省鹤岗市萝北县".to_owned()),
            ("storage", "frozen".to_owned()),
            ("shelf_life_days", "180".to_owned()),
            ("certifications", "green_food".to_owned()),
            ("sku_existing_0", "0".to_owned()),
            ("sku_code_0", "LB-BERRY-1KG".to_owned()),
            ("sku_name_0", "1 kg 盒".to_owned()),
            ("sku_unit_0", "盒".to_owned()),
            ("sku_weight_0", "1000".to_owned()),
            ("sku_price_0", price.to_owned()),
            ("sku_channel_0", "retail".to_owned()),
        ]
    };
    let as_form = |v: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { v.clone() };
    let bad = as_form(&product("", "12块"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(&list, &bad).await.expect(422).shows("应为金额");
    let bad = as_form(&product("", "39.90"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(&list, &bad).await.expect(422).shows("field-error");
    let good = as_form(&product("冻蓝莓", "39.90"));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(&list, &good).await.expect(303);
    let page = b.get(&list).await;
    page.expect(200).shows("冻蓝莓").shows("草稿");
    let id = regex::Regex::new(r#"/products/([0-9a-f-]{36})"><strong>冻蓝莓"#)
        .unwrap()
        .captures(&page.body)
        .map(|c| c[1].to_owned())
        .expect("the new product's link");
    app.get(&format!("/api/v1/products/{id}"), None)
        .await
        .expect(404);
    b.post(&format!("{list}/{id}/publish"), &[("csrf_token", &csrf)])
        .await
        .expect(303);
    let published = app
        .get(&format!("/api/v1/products/{id}"), None)
        .await
        .expect(200);
    assert_eq!(published["certifications"][0], "green_food");

    // edit: a new price and a second SKU; the version guards against a stale form
    let edit = b.get(&format!("{list}/{id}")).await;
    edit.expect(200).shows("LB-BERRY-1KG").shows("新规格");
    let version = edit.hidden("version");
    let mut form = as_form(&product("冻蓝莓（新季）", "35.00"));
    form.retain(|(k, _)| *k != "sku_existing_0");
    form.push(("sku_existing_0", "1".into()));
    form.push(("version", version.clone()));
    for (k, v) in [
        ("sku_existing_1", "0"),
        ("sku_code_1", "LB-BERRY-3KG"),
        ("sku_name_1", "3 kg 箱"),
        ("sku_unit_1", "箱"),
        ("sku_weight_1", "3000"),
        ("sku_price_1", "99.00"),
        ("sku_channel_1", "both"),
    ] {
        form.push((k, v.into()));
    }
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(&format!("{list}/{id}"), &f).await.expect(303);
    let after = app
        .get(&format!("/api/v1/products/{id}"), None)
        .await
        .expect(200);
    assert_eq!(after["name"], "冻蓝莓（新季）");
    assert_eq!(after["skus"].as_array().unwrap().len(), 2);
    assert_eq!(after["price"], "35.00");
    // the same form again names a version that has moved on
    b.post(&format!("{list}/{id}"), &f)
        .await
        .expect(412)
        .shows("刚被别人修改过");
    // another co-op's owner reaches none of it
    let rice = Browser::new(&app);
    rice.login("suibin@demo.shanhe.cn", "demo-coop-2026").await;
    rice.get(&format!("{list}/{id}")).await.expect(404);
    let rcsrf = rice.csrf().await;
    rice.post(&format!("{list}/{id}/archive"), &[("csrf_token", &rcsrf)])
        .await
        .expect(404);
    b.post(&format!("{list}/{id}/archive"), &[("csrf_token", &csrf)])
        .await
        .expect(303);
    let archived = app.get(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(archived.status, 404);
}

#[actix_web::test]
async fn a_coop_counts_stock_of_goods_kept_without_lots() {
    let app = spawn_app().await;
    pear(&app).await;
    let owner = app.login("chaoyang@demo.shanhe.cn", "demo-coop-2026").await;
    let coops = app
        .get("/api/v1/cooperatives", Some(&owner.token))
        .await
        .expect(200);
    let coop = coops["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "潮阳区农产品合作社")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .unwrap();
    let stock = app
        .get(
            &format!("/api/v1/cooperatives/{coop}/stock"),
            Some(&owner.token),
        )
        .await
        .expect(200);
    let row = stock["items"][0].clone();
    let (sku, wh) = (
        row["sku_id"].as_str().unwrap(),
        row["warehouse_id"].as_str().unwrap(),
    );
    let b = Browser::new(&app);
    b.login("chaoyang@demo.shanhe.cn", "demo-coop-2026").await;
    let csrf = b.csrf().await;
    b.get(&format!("/console/{coop}/lots"))
        .await
        .expect(200)
        .shows("盘点")
        .shows("实际数量");
    let count = format!("/console/{coop}/stock");
    b.post(
        &count,
        &[
            ("csrf_token", &csrf),
            ("sku_id", sku),
            ("warehouse_id", wh),
            ("on_hand", "-3"),
        ],
    )
    .await
    .expect(422)
    .shows("盘点未保存");
    b.post(
        &count,
        &[
            ("csrf_token", &csrf),
            ("sku_id", sku),
            ("warehouse_id", wh),
            ("on_hand", "77"),
        ],
    )
    .await
    .expect(303);
    let after = app
        .get(
            &format!("/api/v1/cooperatives/{coop}/stock?sku_id={sku}"),
            Some(&owner.token),
        )
        .await
        .expect(200);
    assert_eq!(after["items"][0]["on_hand"], 77);
    // another co-op cannot count this co-op's stock
    let other = Browser::new(&app);
    other.login("luobei@demo.shanhe.cn", "demo-coop-2026").await;
    let ocsrf = other.csrf().await;
    other
        .post(
            &count,
            &[
                ("csrf_token", &ocsrf),
                ("sku_id", sku),
                ("warehouse_id", wh),
                ("on_hand", "0"),
            ],
        )
        .await
        .expect(404);
    app.assert_ledger_balanced();
}

#[actix_web::test]
async fn an_organizations_owner_adds_colleagues_who_then_see_it() {
    let app = spawn_app().await;
    let owner = app.register("cai@chaocai.test").await;
    app.approved_organization(&owner, serde_json::json!({"payment_terms": "prepaid"}))
        .await;
    let orgs = app
        .get("/api/v1/organizations", Some(&owner.token))
        .await
        .expect(200);
    let org = orgs["items"][0]["id"].as_str().unwrap().to_owned();
    app.register("chef@chaocai.test").await;
    let b = Browser::new(&app);
    b.login("cai@chaocai.test", PASSWORD).await;
    let csrf = b.csrf().await;
    let add = format!("/business/{org}/members");
    b.post(
        &add,
        &[("csrf_token", &csrf), ("email", "nobody@chaocai.test")],
    )
    .await
    .expect(422)
    .shows("field-error");
    b.post(
        &add,
        &[("csrf_token", &csrf), ("email", "chef@chaocai.test")],
    )
    .await
    .expect(303);
    let chef = Browser::new(&app);
    chef.login("chef@chaocai.test", PASSWORD).await;
    let page = chef.get("/business").await;
    page.expect(200).shows("汕头老牌潮菜馆");
    assert!(
        !page.body.contains("添加同事"),
        "members do not add members"
    );
    let ccsrf = chef.csrf().await;
    chef.post(
        &add,
        &[("csrf_token", &ccsrf), ("email", "cai@chaocai.test")],
    )
    .await
    .expect(403);
    let stranger = Browser::new(&app);
    stranger.register("eve@jinping.test").await;
    let scsrf = stranger.csrf().await;
    stranger
        .post(
            &add,
            &[("csrf_token", &scsrf), ("email", "eve@jinping.test")],
        )
        .await
        .expect(404);
}
