#![allow(dead_code)]
//! The test harness: each test gets the real app on port 0 with a fresh, migrated database —
//! a temp SQLite file, or, when `TEST_DATABASE_URL` names a PostgreSQL server, a database
//! cloned from a migrated template and dropped afterwards — and talks HTTP to it.

use std::sync::OnceLock;

use awc::http::Method;
use diesel::prelude::*;
use serde_json::{json, Value};
use shanhe::config::{Config, Secret};
use shanhe::db::{self, DbConn, DbPool, DbUrl, SessionSettings};

pub const ADMIN_EMAIL: &str = "admin@shanhe.test";
pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const PASSWORD: &str = "correct-horse-battery";
pub const WEBHOOK_SECRET: &str = "whsec-test-secret";

pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub client: awc::Client,
    pub pool: DbPool,
    pub url: DbUrl,
    handle: actix_web::dev::ServerHandle,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: awc::http::header::HeaderMap,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "problems are application/problem+json"
        );
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        self.body
    }
}

/// A signed-in user as tests use it.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub refresh: String,
    pub user_id: String,
    pub email: String,
}

pub fn pg_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// A migrated template database, built once per migration set and reused.
fn pg_template(admin_url: &str) -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        use sha2::{Digest, Sha256};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        let mut files: Vec<_> = walk(&dir);
        files.sort();
        let mut hasher = Sha256::new();
        for f in &files {
            hasher.update(f.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(f).expect("read migration"));
        }
        let name = format!("shanhe_tpl_{}", &hex::encode(hasher.finalize())[..16]);
        let mut admin = diesel::PgConnection::establish(admin_url).expect("connect to PostgreSQL");
        diesel::sql_query("SELECT pg_advisory_lock(4242)")
            .execute(&mut admin)
            .expect("lock");
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let exists = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
        ))
        .get_result::<Count>(&mut admin)
        .expect("query pg_database")
        .n > 0;
        if !exists {
            // templates of older migration sets are of no further use once nothing uses them:
            // those built more than six hours ago go (a suite of another checkout, running now
            // on the same server, keeps its own)
            #[derive(QueryableByName)]
            struct Name {
                #[diesel(sql_type = diesel::sql_types::Text)]
                datname: String,
            }
            let stale: Vec<Name> = diesel::sql_query(
                "SELECT datname::text AS datname FROM pg_database WHERE datname LIKE 'shanhe_tpl_%' \
                 AND COALESCE(NULLIF(shobj_description(oid, 'pg_database'), ''), '0')::bigint \
                     < extract(epoch FROM now())::bigint - 6 * 3600",
            )
            .load(&mut admin)
            .unwrap_or_default();
            for t in stale {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", t.datname))
                    .execute(&mut admin);
            }
            let building = format!("{name}_build");
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}"))
                .execute(&mut admin);
            diesel::sql_query(format!("CREATE DATABASE {building}"))
                .execute(&mut admin)
                .expect("create template");
            {
                let mut conn = DbConn::Pg(
                    diesel::PgConnection::establish(&with_database(admin_url, &building))
                        .expect("connect to template"),
                );
                db::run_migrations(&mut conn).expect("migrate template");
            }
            diesel::sql_query(format!(
                "COMMENT ON DATABASE {building} IS '{}'",
                chrono::Utc::now().timestamp()
            ))
            .execute(&mut admin)
            .expect("date the template");
            diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                .execute(&mut admin)
                .expect("rename template");
        }
        diesel::sql_query("SELECT pg_advisory_unlock(4242)")
            .execute(&mut admin)
            .expect("unlock");
        name
    })
    .clone()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let (url, dir, pg) = match pg_admin_url() {
        Some(admin_url) => {
            let template = pg_template(&admin_url);
            let name = format!("shanhe_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(&admin_url).expect("connect");
            diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut admin)
                .expect("clone the template database");
            (
                DbUrl::Postgres(with_database(&admin_url, &name)),
                None,
                Some((admin_url, name)),
            )
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("shanhe.db");
            (DbUrl::Sqlite(path), Some(dir), None)
        }
    };
    start(url, dir, pg, adjust)
}

/// Starts a server on `url`; the returned app drops the database only when it owns it
/// (`pg`), so several instances can share one.
fn start(
    url: DbUrl,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config::for_database(url.clone());
    config.jwt_secret = Some(Secret::new("test-secret-test-secret-test-secret"));
    config.admin_email = Some(ADMIN_EMAIL.into());
    config.admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.workers = Some(2);
    config.payment_webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
    config.db_pool_size = Some(6);
    adjust(&mut config);
    let shared = shanhe::app::prepare(config).expect("prepare the app");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let running = shanhe::app::start(shared, listener).expect("start");
    let handle = running.handle.clone();
    actix_web::rt::spawn(running.server);
    let pool = db::build_pool(
        &url,
        4,
        SessionSettings::primary(false),
        std::time::Duration::from_secs(10),
    )
    .expect("test pool");
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .finish();
    TestApp {
        base: format!("http://127.0.0.1:{}", running.port),
        port: running.port,
        client,
        pool,
        url,
        handle,
        _dir: dir,
        pg,
    }
}

impl TestApp {
    /// Another instance of the server on this app's database (as behind a load balancer).
    pub fn sibling(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        start(self.url.clone(), None, None, adjust)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // sends the stop command now; the returned future only waits for it
        drop(self.handle.stop(false));
        if let Some((admin_url, name)) = &self.pg {
            if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

impl TestApp {
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut req = self.client.request(method, url);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .expect("request sent");
        self.read(&mut res).await
    }

    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .insert_header(("Content-Type", content_type));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let mut res = req.send_body(body).await.expect("request sent");
        self.read(&mut res).await
    }

    async fn read<S>(&self, res: &mut awc::ClientResponse<S>) -> Resp
    where
        S: futures::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
    {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.body().limit(16 * 1024 * 1024).await.expect("read body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::POST, path, token, Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PUT, path, token, Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PATCH, path, token, Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::DELETE, path, token, None, &[]).await
    }

    pub async fn register(&self, email: &str) -> Session {
        let body = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": "测试用户"}),
            )
            .await
            .expect(201);
        Session {
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let body = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await
            .expect(200);
        Session {
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
        }
    }

    pub async fn admin(&self) -> Session {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Blocking database access for assertions the API does not expose.
    pub fn conn(&self) -> r2d2::PooledConnection<shanhe::db::ConnectionManager> {
        self.pool.get().expect("test connection")
    }
}

/// A product body: 有机大米 with retail bags and a wholesale sack with tiers.
pub fn rice_product(code_prefix: &str) -> Value {
    json!({
        "name": "有机大米",
        "subtitle": "绥滨县黑土地当季新米",
        "description": "寒地黑土种植，一年一季。",
        "origin": "黑龙江省鹤岗市绥滨县",
        "storage": "ambient",
        "shelf_life_days": 365,
        "certifications": ["organic", "geographical_indication"],
        "images": ["https://img.shanhe.example/rice.jpg"],
        "skus": [
            {"code": format!("{code_prefix}-5KG"), "name": "5 kg 袋", "unit": "袋", "net_weight_grams": 5000,
             "price": "59.90", "sales_channel": "retail"},
            {"code": format!("{code_prefix}-10KG"), "name": "10 kg 箱", "unit": "箱", "net_weight_grams": 10000,
             "price": "109.00", "sales_channel": "both"},
            {"code": format!("{code_prefix}-25KG"), "name": "25 kg 麻袋", "unit": "袋", "net_weight_grams": 25000,
             "price": "240.00", "sales_channel": "wholesale", "min_order_quantity": 4,
             "tiers": [{"min_quantity": 10, "unit_price": "225.00"}, {"min_quantity": 40, "unit_price": "210.00"}]}
        ]
    })
}

/// A minimal product with one retail SKU.
pub fn simple_product(name: &str, code: &str, price: &str, storage: &str) -> Value {
    json!({
        "name": name,
        "origin": "黑龙江省鹤岗市",
        "storage": storage,
        "skus": [{"code": code, "name": "1 件", "unit": "件", "net_weight_grams": 1000,
                  "price": price, "sales_channel": "retail"}]
    })
}

impl TestApp {
    pub async fn create_cooperative(&self, admin: &Session, name: &str) -> String {
        let body = self
            .post(
                "/api/v1/cooperatives",
                Some(&admin.token),
                json!({"name": name, "province": "黑龙江省", "city": "鹤岗市", "county": "绥滨县",
                       "description": "寒地黑土合作社", "contact_phone": "13904680000"}),
            )
            .await
            .expect(201);
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn add_coop_member(&self, by: &Session, coop: &str, email: &str, role: &str) {
        self.post(
            &format!("/api/v1/cooperatives/{coop}/members"),
            Some(&by.token),
            json!({"email": email, "role": role}),
        )
        .await
        .expect(201);
    }

    /// A new co-op with a freshly registered owner.
    pub async fn coop_owner(&self, name: &str) -> (Session, String) {
        let admin = self.admin().await;
        let coop = self.create_cooperative(&admin, name).await;
        let email = format!("owner-{}@coop.example.cn", uuid::Uuid::new_v4().simple());
        let owner = self.register(&email).await;
        self.add_coop_member(&admin, &coop, &email, "owner").await;
        (owner, coop)
    }

    pub async fn create_warehouse(&self, by: &Session, coop: &str, cold: bool) -> String {
        let body = self
            .post(
                &format!("/api/v1/cooperatives/{coop}/warehouses"),
                Some(&by.token),
                json!({"name": if cold { "冷库" } else { "常温仓" }, "address": "鹤岗市绥滨县工业园 1 号", "cold_storage": cold}),
            )
            .await
            .expect(201);
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn create_product(&self, by: &Session, coop: &str, body: Value) -> Value {
        self.post(
            &format!("/api/v1/cooperatives/{coop}/products"),
            Some(&by.token),
            body,
        )
        .await
        .expect(201)
    }

    pub async fn publish_product(&self, by: &Session, product: &str) -> Value {
        self.post(
            &format!("/api/v1/products/{product}/publish"),
            Some(&by.token),
            json!({}),
        )
        .await
        .expect(200)
    }
}

/// A co-op with an owner, one ambient and one cold warehouse, and a published rice product.
pub struct Shop {
    pub owner: Session,
    pub coop: String,
    pub warehouse: String,
    pub cold_warehouse: String,
    pub product: Value,
    /// SKU ids by code suffix: "5KG", "10KG", "25KG".
    pub skus: std::collections::HashMap<String, String>,
}

impl TestApp {
    pub async fn shop(&self, name: &str, code_prefix: &str) -> Shop {
        let (owner, coop) = self.coop_owner(name).await;
        let warehouse = self.create_warehouse(&owner, &coop, false).await;
        let cold_warehouse = self.create_warehouse(&owner, &coop, true).await;
        let product = self
            .create_product(&owner, &coop, rice_product(code_prefix))
            .await;
        let product = self
            .publish_product(&owner, product["id"].as_str().unwrap())
            .await;
        let skus = product["skus"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let code = s["code"].as_str().unwrap();
                let suffix = code.rsplit('-').next().unwrap().to_owned();
                (suffix, s["id"].as_str().unwrap().to_owned())
            })
            .collect();
        Shop {
            owner,
            coop,
            warehouse,
            cold_warehouse,
            product,
            skus,
        }
    }

    /// Receives stock through the API.
    pub async fn receive(
        &self,
        by: &Session,
        coop: &str,
        sku: &str,
        warehouse: &str,
        units: i64,
    ) -> Value {
        self.post(
            &format!("/api/v1/cooperatives/{coop}/stock/adjustments"),
            Some(&by.token),
            json!({"adjustments": [{"sku_id": sku, "warehouse_id": warehouse, "delta": units, "reason": "到货"}]}),
        )
        .await
        .expect(200)
    }

    /// The ledger invariant: every stock row's on_hand is the sum of its movements, and
    /// 0 ≤ reserved ≤ on_hand.
    pub fn assert_ledger_balanced(&self) {
        use shanhe::db::schema::{stock, stock_movements};
        let mut conn = self.conn();
        let rows: Vec<(String, String, i64, i64)> = stock::table
            .select((
                stock::sku_id,
                stock::warehouse_id,
                stock::on_hand,
                stock::reserved,
            ))
            .load(&mut *conn)
            .unwrap();
        let moves: Vec<(String, String, i64)> = stock_movements::table
            .select((
                stock_movements::sku_id,
                stock_movements::warehouse_id,
                stock_movements::delta,
            ))
            .load(&mut *conn)
            .unwrap();
        for (sku, wh, on_hand, reserved) in rows {
            let sum: i64 = moves
                .iter()
                .filter(|(s, w, _)| *s == sku && *w == wh)
                .map(|(_, _, d)| d)
                .sum();
            assert_eq!(
                on_hand, sum,
                "on_hand of {sku}@{wh} equals the sum of its movements"
            );
            assert!(
                0 <= reserved && reserved <= on_hand,
                "0 ≤ reserved ≤ on_hand"
            );
        }
        self.assert_lots_balanced();
    }

    /// The lot invariants: each lot's on_hand is the sum of its own movements and
    /// 0 ≤ reserved ≤ on_hand; the stock row of a lot-tracked SKU is the sum of its lots;
    /// every movement of a lot-tracked SKU names its lot.
    pub fn assert_lots_balanced(&self) {
        use shanhe::db::schema::{lots, skus, stock, stock_movements};
        let mut conn = self.conn();
        let lot_rows: Vec<(String, String, String, i64, i64)> = lots::table
            .select((
                lots::id,
                lots::sku_id,
                lots::warehouse_id,
                lots::on_hand,
                lots::reserved,
            ))
            .load(&mut *conn)
            .unwrap();
        let moves: Vec<(String, Option<String>, i64)> = stock_movements::table
            .select((
                stock_movements::sku_id,
                stock_movements::lot_id,
                stock_movements::delta,
            ))
            .load(&mut *conn)
            .unwrap();
        for (id, _, _, on_hand, reserved) in &lot_rows {
            let sum: i64 = moves
                .iter()
                .filter(|(_, l, _)| l.as_deref() == Some(id.as_str()))
                .map(|(_, _, d)| d)
                .sum();
            assert_eq!(
                *on_hand, sum,
                "lot {id}: on_hand is the sum of its movements"
            );
            assert!(
                0 <= *reserved && reserved <= on_hand,
                "lot {id}: 0 ≤ reserved ≤ on_hand"
            );
        }
        let tracked: Vec<String> = skus::table
            .filter(skus::lot_tracked.eq(true))
            .select(skus::id)
            .load(&mut *conn)
            .unwrap();
        let rows: Vec<(String, String, i64, i64)> = stock::table
            .filter(stock::sku_id.eq_any(&tracked))
            .select((
                stock::sku_id,
                stock::warehouse_id,
                stock::on_hand,
                stock::reserved,
            ))
            .load(&mut *conn)
            .unwrap();
        for (sku, wh, on_hand, reserved) in rows {
            let mine = lot_rows.iter().filter(|l| l.1 == sku && l.2 == wh);
            let (h, r) = mine.fold((0, 0), |(h, r), l| (h + l.3, r + l.4));
            assert_eq!(
                (on_hand, reserved),
                (h, r),
                "stock row {sku}@{wh} is the sum of its lots"
            );
        }
        for (sku, lot, _) in &moves {
            if tracked.contains(sku) {
                assert!(
                    lot.is_some(),
                    "a movement of lot-tracked {sku} names its lot"
                );
            }
        }
    }

    pub async fn stock_row(&self, by: &Session, coop: &str, sku: &str, warehouse: &str) -> Value {
        let list = self
            .get(
                &format!("/api/v1/cooperatives/{coop}/stock?sku_id={sku}&warehouse_id={warehouse}"),
                Some(&by.token),
            )
            .await
            .expect(200);
        list["items"][0].clone()
    }
}

/// A Shantou delivery address.
pub fn shantou() -> Value {
    json!({"recipient": "林小姐", "phone": "13800138000", "province": "广东省", "city": "汕头市",
           "district": "金平区", "line1": "长平路 88 号", "postal_code": "515000"})
}

impl TestApp {
    pub async fn place_order(&self, buyer: &Session, items: Value) -> Resp {
        self.post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"items": items, "shipping_address": shantou()}),
        )
        .await
    }

    pub async fn place_order_at(&self, buyer: &Session, items: Value, address: Value) -> Resp {
        self.post(
            "/api/v1/orders",
            Some(&buyer.token),
            json!({"items": items, "shipping_address": address}),
        )
        .await
    }

    /// An order as `by` (its buyer, a co-op, an admin) reads it now.
    pub async fn read_order(&self, by: &Session, order: &Value) -> Value {
        self.get(
            &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
            Some(&by.token),
        )
        .await
        .expect(200)
    }

    pub async fn pay_intent(&self, buyer: &Session, order: &str) -> Value {
        self.post(
            &format!("/api/v1/orders/{order}/payments"),
            Some(&buyer.token),
            json!({}),
        )
        .await
        .expect(201)
    }

    /// Sends a provider notification signed at `t` (now when `None`).
    pub async fn webhook(&self, body: Value, secret: &str, t: Option<i64>) -> Resp {
        let raw = body.to_string().into_bytes();
        let t = t.unwrap_or_else(|| chrono::Utc::now().timestamp());
        let sig = shanhe::payments::signature::sign(secret, &raw, t);
        let mut res = self
            .client
            .post(format!("{}/api/v1/payments/webhook", self.base))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Shanhe-Signature", sig))
            .send_body(raw)
            .await
            .expect("webhook sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.body().await.expect("body");
        Resp {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    /// Pays an order through the sandbox: intent, then a signed success notification.
    pub async fn pay(&self, buyer: &Session, order: &str) -> Value {
        let p = self.pay_intent(buyer, order).await;
        self.webhook(
            json!({"payment_id": p["id"], "status": "succeeded", "provider_reference": "SBX-1", "amount": p["amount"]}),
            WEBHOOK_SECRET,
            None,
        )
        .await
        .expect(200);
        p
    }

    pub fn available(&self, sku: &str) -> i64 {
        use shanhe::db::schema::stock;
        let mut conn = self.conn();
        let rows: Vec<(i64, i64)> = stock::table
            .filter(stock::sku_id.eq(sku))
            .select((stock::on_hand, stock::reserved))
            .load(&mut *conn)
            .unwrap();
        rows.iter().map(|(h, r)| h - r).sum()
    }

    pub fn reserved(&self, sku: &str) -> i64 {
        use shanhe::db::schema::stock;
        let mut conn = self.conn();
        let rows: Vec<i64> = stock::table
            .filter(stock::sku_id.eq(sku))
            .select(stock::reserved)
            .load(&mut *conn)
            .unwrap();
        rows.iter().sum()
    }
}

/// Today in China Standard Time, the calendar lot dates are written in.
pub fn china_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// `days` from today (China time), as `YYYY-MM-DD`.
pub fn days_from_today(days: i64) -> String {
    (china_today() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

impl TestApp {
    /// Receives a lot through the API: `lot` is the request body without the harvest date,
    /// which is three weeks ago.
    pub async fn receive_lot(&self, by: &Session, coop: &str, mut lot: Value) -> Value {
        lot["harvested_on"] = json!(days_from_today(-20));
        self.post(
            &format!("/api/v1/cooperatives/{coop}/lots"),
            Some(&by.token),
            lot,
        )
        .await
        .expect(201)
    }
}

impl TestApp {
    /// A restaurant organization owned by `owner`, approved by the admin with `approval`
    /// (`{"payment_terms": …, "credit_limit"?: …, "min_remaining_shelf_life_days"?: …}`).
    pub async fn approved_organization(&self, owner: &Session, approval: Value) -> String {
        let org = self
            .post(
                "/api/v1/organizations",
                Some(&owner.token),
                json!({"name": "汕头老牌潮菜馆", "business_license_no": "91440500MA4UXXXX1",
                       "city": "汕头市", "contact_phone": "0754-88881234"}),
            )
            .await
            .expect(201);
        let org = org["id"].as_str().unwrap().to_owned();
        let admin = self.admin().await;
        self.post(
            &format!("/api/v1/organizations/{org}/approve"),
            Some(&admin.token),
            approval,
        )
        .await
        .expect(200);
        org
    }
}
