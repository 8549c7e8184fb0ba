//! The storefront in a real Chromium, driven through chromedriver (WebDriver): a shopper
//! registers, finds 大米, buys two bags, checks out to 广东省 汕头市 龙湖区 and pays in the
//! sandbox — on a desktop window and on a 360 px phone — and a page that needs a login
//! sends an anonymous visitor to /login. Runs on SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`. A screenshot of every step goes to `SHANHE_SCREENSHOTS` (default
//! `target/screenshots`).
//!
//! `cargo test --test browser` (needs `chromium` and
//! `chromedriver` on the PATH, or `CHROMEDRIVER` naming the driver).

#[path = "../api/helpers.rs"]
mod helpers;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use helpers::*;
use serde_json::json;

/// chromedriver on a port of its own, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn driver() -> Driver {
    let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let child = Command::new(&program)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {program} ({e}): install Debian's chromium and chromium-driver")
        });
    let d = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return d;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start listening");
}

async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--lang=zh-CN",
                         format!("--window-size={width},{height}")] }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let c = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session");
    c.set_window_size(width, height).await.expect("window size");
    c
}

/// Where screenshots go, one folder per database and window.
fn shots(kind: &str) -> PathBuf {
    let root = std::env::var("SHANHE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"));
    let dir = root.join(kind);
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

struct Page<'a> {
    c: &'a Client,
    base: String,
    dir: PathBuf,
    step: u32,
    phone: bool,
}

impl Page<'_> {
    async fn goto(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    async fn path(&self) -> String {
        self.c.current_url().await.expect("url").path().to_owned()
    }

    /// Saves a screenshot and, on the phone, checks nothing scrolls sideways.
    async fn shot(&mut self, name: &str) {
        self.step += 1;
        let png = self.c.screenshot().await.expect("screenshot");
        std::fs::write(self.dir.join(format!("{:02}-{name}.png", self.step)), png).expect("save");
        if self.phone {
            let fits = self
                .c
                .execute(
                    "return document.documentElement.scrollWidth <= window.innerWidth;",
                    vec![],
                )
                .await
                .expect("measure");
            assert_eq!(
                fits,
                json!(true),
                "{name}: the page scrolls sideways at 360 px"
            );
        }
    }

    /// The field a `<label>` with this text names.
    async fn field(&self, label: &str) -> fantoccini::elements::Element {
        let xpath = format!("//*[@id=(//label[normalize-space(.)='{label}']/@for)]");
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no field labelled {label}: {e}"))
    }

    async fn fill(&self, label: &str, text: &str) {
        let f = self.field(label).await;
        f.clear().await.expect("clear");
        f.send_keys(text).await.expect("type");
    }

    async fn choose(&self, label: &str, option: &str) {
        // the choices arrive with htmx: wait until this one is there
        let xpath = format!(
            "//*[@id=(//label[normalize-space(.)='{label}']/@for)]/option[normalize-space(.)='{option}']"
        );
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("{label} offers no {option}: {e}"));
        self.field(label)
            .await
            .select_by_label(option)
            .await
            .expect("choose");
    }

    async fn press(&self, text: &str) {
        let xpath = format!("//button[normalize-space(.)='{text}']");
        self.c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {text}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Waits until the page's text contains `text`.
    async fn until_text(&self, text: &str) {
        for _ in 0..100 {
            let body = self.c.source().await.expect("page source");
            if body.contains(text) {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let body = self.c.source().await.unwrap_or_default();
        panic!("the page never showed {text:?}; it shows:\n{body}");
    }

    async fn until_path(&self, prefix: &str) -> String {
        for _ in 0..100 {
            let p = self.path().await;
            if p.starts_with(prefix) {
                return p;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never reached {prefix}; at {}", self.path().await);
    }
}

/// One shopper's whole purchase in a window of this size.
async fn shop_in(app: &TestApp, driver: &Driver, width: u32, height: u32, who: &str) {
    let kind = format!(
        "{}-{}",
        if app.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        },
        if width <= 400 { "phone" } else { "desktop" }
    );
    let c = browser(driver, width, height).await;
    let mut p = Page {
        c: &c,
        base: app.base.clone(),
        dir: shots(&kind),
        step: 0,
        phone: width <= 400,
    };

    // a page that needs a login sends an anonymous visitor there
    p.goto("/orders").await;
    assert_eq!(p.until_path("/login").await, "/login");
    p.shot("login-required").await;

    p.goto("/register").await;
    p.fill("邮箱", &format!("{who}@shantou.test")).await;
    p.fill("密码", "black-soil-rice-2026").await;
    p.fill("昵称", "汕头阿明").await;
    p.shot("register").await;
    p.press("注册").await;
    p.until_text("退出").await;

    p.goto("/").await;
    p.fill("搜索", "大米").await;
    p.shot("search").await;
    p.press("查找").await;
    p.until_text("有机大米").await;
    p.shot("results").await;
    c.find(Locator::XPath("//a[.//h2[normalize-space(.)='有机大米']]"))
        .await
        .expect("the rice's card")
        .click()
        .await
        .expect("open the product");
    p.until_path("/products/").await;
    p.until_text("保质期至").await;
    p.fill("数量", "2").await;
    p.shot("product").await;
    p.press("加入购物车").await;
    assert_eq!(p.until_path("/cart").await, "/cart");
    p.until_text("¥119.80").await;
    p.shot("cart").await;
    p.press("去结算").await;
    p.until_path("/checkout").await;
    p.fill("收货人", "陈阿明").await;
    p.fill("手机号", "13800138000").await;
    p.choose("省", "广东省").await;
    p.choose("市", "汕头市").await;
    p.choose("区", "龙湖区").await;
    p.fill("详细地址", "长平路 88 号").await;
    // the server worked the fee out for 龙湖区
    p.until_text("预计送达").await;
    p.shot("checkout").await;
    p.press("提交订单").await;
    let order_path = p.until_path("/orders/").await;
    p.until_text("待支付").await;
    p.shot("order-unpaid").await;
    p.press("去支付").await;
    p.until_path("/pay/").await;
    p.shot("sandbox-pay").await;
    p.press("确认支付").await;
    assert_eq!(p.until_path("/orders/").await, order_path);
    p.until_text("已支付").await;
    p.until_text("待发货").await;
    p.shot("order-paid").await;

    // the co-op ships it; the shopper's page shows the parcel and its temperatures
    let id = order_path.trim_start_matches("/orders/");
    ship_with_readings(app, id).await;
    p.goto(&order_path).await;
    p.until_text("运单号").await;
    c.execute(
        "document.querySelector('.parcel').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    p.shot("order-shipped").await;
    c.close().await.expect("close the browser");

    // what the pages did is what the API sees
    let order = {
        let mut conn = app.conn();
        use diesel::prelude::*;
        use shanhe::db::schema::orders;
        orders::table
            .filter(orders::id.eq(id.parse::<shanhe::ids::OrderId>().expect("an order id")))
            .select((orders::status, orders::payment_status, orders::total))
            .first::<(String, String, i64)>(&mut *conn)
            .expect("the order")
    };
    assert_eq!((order.0.as_str(), order.1.as_str()), ("shipped", "paid"));
}

/// Signs in through the login page.
async fn sign_in(p: &mut Page<'_>, email: &str, password: &str) {
    p.goto("/login").await;
    p.fill("邮箱", email).await;
    p.fill("密码", password).await;
    p.press("登录").await;
    p.until_text("退出").await;
}

/// A co-op staff member receives a lot of 冻梨, finds the paid order in the queue and ships
/// it; the shopper then sees it shipped.
async fn console_in(app: &TestApp, driver: &Driver, width: u32, height: u32) {
    let kind = format!(
        "{}-console-{}",
        if app.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        },
        if width <= 400 { "phone" } else { "desktop" }
    );
    // the shopper's paid order and a new staff member, through the API
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
        .expect("the pear co-op");
    let staff_email = format!("packer-{width}@luobei.test");
    app.register(&staff_email).await;
    app.post(
        &format!("/api/v1/cooperatives/{coop}/members"),
        Some(&owner.token),
        json!({"email": staff_email, "role": "staff"}),
    )
    .await
    .expect(201);
    let pears = app
        .get("/api/v1/products?storage=frozen", None)
        .await
        .expect(200);
    let product = app
        .get(
            &format!(
                "/api/v1/products/{}",
                pears["items"][0]["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .expect(200);
    let sku = product["skus"][0].clone();
    let shopper = app
        .login("shopper@demo.shanhe.cn", "demo-shopper-2026")
        .await;
    let order = app
        .place_order(&shopper, json!([{"sku_id": sku["id"], "quantity": 1}]))
        .await
        .expect(201);
    app.pay(&shopper, order["id"].as_str().unwrap()).await;
    let cold = app
        .get(
            &format!("/api/v1/cooperatives/{coop}/warehouses"),
            Some(&owner.token),
        )
        .await
        .expect(200);
    let cold = cold["items"]
        .as_array()
        .or_else(|| cold.as_array())
        .unwrap()
        .iter()
        .find(|w| w["cold_storage"] == true)
        .map(|w| format!("{}（冷库）", w["name"].as_str().unwrap()))
        .expect("a cold store");

    let c = browser(driver, width, height).await;
    let mut p = Page {
        c: &c,
        base: app.base.clone(),
        dir: shots(&kind),
        step: 0,
        phone: width <= 400,
    };
    sign_in(&mut p, &staff_email, PASSWORD).await;
    p.goto("/console").await;
    p.until_path(&format!("/console/{coop}")).await;
    p.until_text(order["number"].as_str().unwrap()).await;
    p.shot("console-home").await;

    c.find(Locator::LinkText("库存批次"))
        .await
        .expect("the lots tab")
        .click()
        .await
        .expect("open lots");
    p.until_path(&format!("/console/{coop}/lots")).await;
    p.choose(
        "商品规格",
        &format!("冻梨切片 · {}", sku["name"].as_str().unwrap()),
    )
    .await;
    p.choose("仓库", &cold).await;
    p.fill("批次号", &format!("LB-NEW-{width}")).await;
    p.fill("数量", "40").await;
    p.shot("receive-lot").await;
    p.press("入库").await;
    p.until_text("已入库").await;
    p.until_text(&format!("LB-NEW-{width}")).await;
    p.shot("lot-received").await;
    c.find(Locator::LinkText("商品"))
        .await
        .expect("the products tab")
        .click()
        .await
        .expect("open products");
    p.until_text("新建商品").await;
    p.shot("products").await;
    c.find(Locator::LinkText("售后"))
        .await
        .expect("the claims tab")
        .click()
        .await
        .expect("open claims");
    p.until_text("售后申请").await;
    p.shot("claims").await;

    c.find(Locator::LinkText("今日工作"))
        .await
        .expect("the home tab")
        .click()
        .await
        .expect("open home");
    p.until_text(order["number"].as_str().unwrap()).await;
    p.fill("快递公司", "顺丰冷运").await;
    p.fill("运单号", &format!("SF-{width}-0001")).await;
    p.shot("ship-form").await;
    p.press("发货").await;
    p.until_text("已发货").await;
    p.shot("shipped").await;

    // the shopper sees it shipped
    p.press("退出").await;
    p.until_text("登录").await;
    sign_in(&mut p, "shopper@demo.shanhe.cn", "demo-shopper-2026").await;
    p.goto(&format!("/orders/{}", order["id"].as_str().unwrap()))
        .await;
    p.until_text(&format!("SF-{width}-0001")).await;
    p.until_text("已发货").await;
    p.shot("shopper-sees-shipped").await;
    c.close().await.expect("close the browser");
}

fn kind(app: &TestApp, what: &str, width: u32) -> String {
    format!(
        "{}-{what}-{}",
        if app.is_postgres() {
            "postgres"
        } else {
            "sqlite"
        },
        if width <= 400 { "phone" } else { "desktop" }
    )
}

/// A restaurant's buyer uploads a spreadsheet with two bad lines, sees both, fixes the
/// file, and places the order on net-30 terms.
async fn business_in(app: &TestApp, driver: &Driver, width: u32, height: u32) {
    let email = format!("buyer-{width}@chaocai.test");
    let buyer = app.register(&email).await;
    app.approved_organization(
        &buyer,
        json!({"payment_terms": "net_30", "credit_limit": "100000.00"}),
    )
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("本周订单.csv");
    std::fs::write(
        &bad,
        "sku_code,quantity\nSB-RICE-25KG,10\nNO-SUCH-SKU,3\nSB-RICE-5KG,0\n",
    )
    .expect("write the file");
    let good = dir.path().join("本周订单-改.csv");
    std::fs::write(&good, "sku_code,quantity\nSB-RICE-25KG,10\nSB-RICE-5KG,4\n")
        .expect("write the file");

    let c = browser(driver, width, height).await;
    let mut p = Page {
        c: &c,
        base: app.base.clone(),
        dir: shots(&kind(app, "business", width)),
        step: 0,
        phone: width <= 400,
    };
    sign_in(&mut p, &email, PASSWORD).await;
    p.goto("/business").await;
    p.until_text("按表格下单").await;
    p.fill("收货人", "潮菜馆 蔡师傅").await;
    p.fill("手机号", "13923456789").await;
    p.choose("省", "广东省").await;
    p.choose("市", "汕头市").await;
    p.choose("区", "金平区").await;
    p.fill("详细地址", "外马路 12 号").await;
    p.fill("采购单号（选填）", &format!("PO-{width}")).await;
    p.field("订单文件")
        .await
        .send_keys(bad.to_str().unwrap())
        .await
        .expect("choose the file");
    p.shot("upload-form").await;
    p.press("上传").await;
    p.until_text("第3行").await;
    p.until_text("第4行").await;
    p.shot("bad-lines").await;
    // the address stays; only the file is chosen again
    p.field("订单文件")
        .await
        .send_keys(good.to_str().unwrap())
        .await
        .expect("choose the fixed file");
    p.press("上传").await;
    p.until_text("确认订单").await;
    p.until_text("¥225.00").await;
    p.until_text("预计送达").await;
    p.shot("preview").await;
    p.press("提交订单").await;
    p.until_path("/orders/").await;
    p.until_text("账期支付").await;
    p.until_text("待发货").await;
    p.shot("placed-on-terms").await;
    p.goto("/business").await;
    p.until_text(&format!("PO-{width}")).await;
    p.until_text("可用").await;
    p.shot("business-orders").await;
    c.close().await.expect("close the browser");
}

/// An admin approves an organization and sees the day's sales in the chart.
async fn admin_in(app: &TestApp, driver: &Driver, width: u32, height: u32) {
    let applicant = app
        .register(&format!("applicant-{width}@jinping.test"))
        .await;
    app.post(
        "/api/v1/organizations",
        Some(&applicant.token),
        json!({"name": format!("金平区生鲜超市{width}"), "business_license_no": "91440500MA4UYYYY2",
               "city": "汕头市", "contact_phone": "0754-88880000"}),
    )
    .await
    .expect(201);
    let c = browser(driver, width, height).await;
    let mut p = Page {
        c: &c,
        base: app.base.clone(),
        dir: shots(&kind(app, "admin", width)),
        step: 0,
        phone: width <= 400,
    };
    sign_in(&mut p, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    p.goto("/admin").await;
    p.until_text(&format!("金平区生鲜超市{width}")).await;
    p.shot("admin-home").await;
    p.choose("付款方式", "月结 30 天").await;
    p.fill("信用额度（元）", "30000").await;
    p.press("批准").await;
    p.until_text("已批准。").await;
    // today's sales (the orders the other shoppers placed) are a bar with today's date
    let today = china_today().format("%m-%d").to_string();
    p.until_text(&format!("<title>{today} ¥")).await;
    c.execute("document.querySelector('figure').scrollIntoView();", vec![])
        .await
        .expect("scroll");
    p.shot("sales-chart").await;
    for (path, text, name) in [
        ("/admin/rates", "保存运费表", "rates"),
        ("/admin/cooperatives", "新建合作社", "cooperatives"),
        ("/admin/audit", "organization.approved", "audit"),
    ] {
        p.goto(path).await;
        p.until_text(text).await;
        p.shot(name).await;
    }
    c.close().await.expect("close the browser");
}

/// The demo rice co-op ships the order's one item with three readings along the way.
async fn ship_with_readings(app: &TestApp, order: &str) {
    let coop = app.login("suibin@demo.shanhe.cn", "demo-coop-2026").await;
    let o = app
        .get(&format!("/api/v1/orders/{order}"), Some(&coop.token))
        .await
        .expect(200);
    let parcel = app
        .post(
            &format!(
                "/api/v1/fulfilments/{}/shipments",
                o["fulfilments"][0]["id"].as_str().unwrap()
            ),
            Some(&coop.token),
            json!({"carrier": "顺丰", "tracking_number": "SF1234567890",
                   "items": [{"order_item_id": o["items"][0]["id"], "quantity": 2}]}),
        )
        .await
        .expect(201);
    for (place, t) in [("鹤岗", 6.0), ("沈阳", 9.5), ("汕头", 12.0)] {
        app.post(
            &format!(
                "/api/v1/shipments/{}/events",
                parcel["id"].as_str().unwrap()
            ),
            Some(&coop.token),
            json!({"status": "in_transit", "location": place, "temperature_celsius": t}),
        )
        .await
        .expect(201);
    }
}

#[actix_web::test]
async fn a_shopper_buys_rice_on_a_desktop_and_on_a_phone() {
    let app = spawn_app().await;
    {
        let mut conn = app.conn();
        shanhe::tools::demo::load(&mut conn).expect("the demo loads");
    }
    let driver = driver().await;
    shop_in(&app, &driver, 1280, 900, "desk").await;
    shop_in(&app, &driver, 360, 780, "phone").await;
    app.assert_ledger_balanced();
    app.assert_lots_balanced();
}

#[actix_web::test]
async fn a_restaurant_orders_from_a_spreadsheet_and_an_admin_approves_and_reads_sales() {
    let app = spawn_app().await;
    {
        let mut conn = app.conn();
        shanhe::tools::demo::load(&mut conn).expect("the demo loads");
    }
    let driver = driver().await;
    business_in(&app, &driver, 1280, 900).await;
    business_in(&app, &driver, 360, 780).await;
    admin_in(&app, &driver, 1280, 900).await;
    admin_in(&app, &driver, 360, 780).await;
    app.assert_ledger_balanced();
    app.assert_lots_balanced();
}

#[actix_web::test]
async fn a_coop_member_receives_a_lot_and_ships_a_paid_order() {
    let app = spawn_app().await;
    {
        let mut conn = app.conn();
        shanhe::tools::demo::load(&mut conn).expect("the demo loads");
    }
    let driver = driver().await;
    console_in(&app, &driver, 1280, 900).await;
    console_in(&app, &driver, 360, 780).await;
    app.assert_ledger_balanced();
    app.assert_lots_balanced();
}
