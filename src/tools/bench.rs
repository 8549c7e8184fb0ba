//! `shanhe bench`: drives concurrent order placement through the HTTP API of a running server
//! and checks the books afterwards. It seeds its own co-op, products, stock and buyers (with
//! the admin account the server was started with), then runs
//!   (a) `spread`: orders spread over many SKUs, and
//!   (b) `hot`: every client ordering the same SKU,
//! printing orders/s, latency percentiles, errors by status, SQL statements per order (from
//! the server's `/metrics`), and a verification that 201s = units reserved, no stock is below
//! zero and every stock row's on_hand equals the sum of its ledger. `catalogue` reads
//! catalogue pages; `login-flood` registers and signs in from many clients at once (run it
//! beside `catalogue`, with `--server-pid` to sample the server's memory).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Spread,
    Hot,
    /// spread, then hot
    Both,
    /// public catalogue pages (`GET /products?limit=20`), on whatever the server holds
    Catalogue,
    /// `--clients` clients registering new accounts and signing in for `--seconds`, to run
    /// beside `catalogue` and see what a password-hashing flood does to everyone else
    LoginFlood,
    /// a live-stream flash sale: `--units` of one SKU, `--orders` orders from `--clients`
    /// clients; reports how fast sold-out answers come once it is gone
    Flash,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Base URL of a running server
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An admin account of that server (to create the benchmark's co-op)
    #[arg(long, env = "SHANHE_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    #[arg(long, env = "SHANHE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Concurrent clients
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Orders to place per scenario (one unit each)
    #[arg(long, default_value_t = 2000)]
    pub orders: usize,
    /// SKUs the spread scenario spreads over
    #[arg(long, default_value_t = 200)]
    pub skus: usize,
    #[arg(long, value_enum, default_value = "both")]
    pub scenario: Scenario,
    /// How long the login flood lasts
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// The server's process id, to sample its resident memory during the login flood
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Only the catalogue pages whose label contains this (e.g. `q=`, `price`)
    #[arg(long)]
    pub pages: Option<String>,
    /// Units of the one SKU a flash sale sells
    #[arg(long, default_value_t = 100)]
    pub units: i64,
    /// Give the benchmark's co-op a cold-truck timetable (a 100-tonne truck every day), so
    /// every order books truck capacity
    #[arg(long)]
    pub timetable: bool,
    /// Make every benchmark SKU lot-tracked with this many lots of different dates (0: none),
    /// so each order reserves first-expired-first-out
    #[arg(long, default_value_t = 0)]
    pub lots: u32,
}

struct Http {
    client: awc::Client,
    base: String,
}

impl Http {
    async fn call(
        &self,
        method: awc::http::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let mut res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .map_err(|e| format!("{path}: {e}"))?;
        let status = res.status().as_u16();
        let bytes = res
            .body()
            .limit(8 * 1024 * 1024)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, value))
    }

    async fn ok(
        &self,
        method: awc::http::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let (status, value) = self.call(method, path, token, body).await?;
        if (200..300).contains(&status) {
            Ok(value)
        } else {
            Err(format!("{path} answered {status}: {value}"))
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Result<Value, String> {
        self.ok(awc::http::Method::POST, path, token, Some(body))
            .await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Result<Value, String> {
        self.ok(awc::http::Method::GET, path, token, None).await
    }

    async fn metric(&self, name: &str) -> Result<f64, String> {
        let mut res = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let text = res
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&text);
        Ok(text
            .lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
    }
}

fn token(v: &Value) -> Result<String, String> {
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no token in {v}"))
}

fn id(v: &Value) -> Result<String, String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {v}"))
}

struct Seeded {
    owner: String,
    coop: String,
    skus: Vec<String>,
    buyers: Vec<String>,
}

async fn seed(
    http: &Http,
    args: &BenchArgs,
    sku_count: usize,
    units_each: i64,
) -> Result<Seeded, String> {
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let admin = token(
        &http
            .post(
                "/api/v1/auth/login",
                None,
                json!({
                    "email": args.admin_email.as_deref().ok_or("--admin-email (or SHANHE_ADMIN_EMAIL) is needed to seed")?,
                    "password": args.admin_password.as_deref().ok_or("--admin-password (or SHANHE_ADMIN_PASSWORD) is needed to seed")?,
                }),
            )
            .await?,
    )?;
    let coop = id(&http
        .post("/api/v1/cooperatives", Some(&admin), json!({"name": format!("压测合作社 {tag}"), "province": "黑龙江省", "city": "鹤岗市", "county": "绥滨县"}))
        .await?)?;
    let owner_email = format!("bench-owner-{tag}@bench.shanhe.local");
    let owner = token(&http
        .post("/api/v1/auth/register", None, json!({"email": owner_email, "password": "bench-password-123", "display_name": "压测"}))
        .await?)?;
    http.post(
        &format!("/api/v1/cooperatives/{coop}/members"),
        Some(&admin),
        json!({"email": owner_email, "role": "owner"}),
    )
    .await?;
    if args.timetable {
        let every_day: Vec<Value> = (1..=7)
            .map(|d| json!({"weekday": d, "cutoff": "23:59", "capacity_kg": 100_000}))
            .collect();
        http.ok(
            awc::http::Method::PUT,
            &format!("/api/v1/cooperatives/{coop}/departures"),
            Some(&owner),
            Some(json!({ "departures": every_day })),
        )
        .await?;
    }
    let warehouse = id(&http
        .post(
            &format!("/api/v1/cooperatives/{coop}/warehouses"),
            Some(&owner),
            json!({"name": "压测仓", "address": "鹤岗", "cold_storage": false}),
        )
        .await?)?;
    let mut skus = Vec::new();
    for chunk in 0..sku_count.div_ceil(50) {
        let n = 50.min(sku_count - chunk * 50);
        let sku_list: Vec<Value> = (0..n)
            .map(|i| json!({"code": format!("B{tag}-{chunk}-{i}"), "name": "1 kg", "unit": "袋", "net_weight_grams": 1000, "price": "10.00", "sales_channel": "retail", "lot_tracked": args.lots > 0}))
            .collect();
        let p = http
            .post(&format!("/api/v1/cooperatives/{coop}/products"), Some(&owner),
                  json!({"name": format!("压测大米 {chunk}"), "origin": "鹤岗", "storage": "ambient", "skus": sku_list}))
            .await?;
        let pid = id(&p)?;
        http.post(
            &format!("/api/v1/products/{pid}/publish"),
            Some(&owner),
            json!({}),
        )
        .await?;
        for s in p["skus"].as_array().into_iter().flatten() {
            skus.push(id(s)?);
        }
    }
    if args.lots > 0 {
        receive_lots(
            http, &owner, &coop, &warehouse, &skus, units_each, args.lots,
        )
        .await?;
    }
    for batch in skus.chunks(200).filter(|_| args.lots == 0) {
        let lines: Vec<Value> = batch
            .iter()
            .map(|s| json!({"sku_id": s, "warehouse_id": warehouse, "delta": units_each, "reason": "压测入库"}))
            .collect();
        http.post(
            &format!("/api/v1/cooperatives/{coop}/stock/adjustments"),
            Some(&owner),
            json!({ "adjustments": lines }),
        )
        .await?;
    }
    let mut buyers = Vec::new();
    for c in 0..args.clients {
        let v = http
            .post("/api/v1/auth/register", None,
                  json!({"email": format!("bench-buyer-{tag}-{c}@bench.shanhe.local"), "password": "bench-password-123", "display_name": "买家"}))
            .await?;
        buyers.push(token(&v)?);
    }
    Ok(Seeded {
        owner,
        coop,
        skus,
        buyers,
    })
}

/// Stocks each SKU as `lots` lots a month apart (the earliest a month out), the units split
/// evenly, the last lot taking the remainder.
async fn receive_lots(
    http: &Http,
    owner: &str,
    coop: &str,
    warehouse: &str,
    skus: &[String],
    units_each: i64,
    lots: u32,
) -> Result<(), String> {
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let share = (units_each / i64::from(lots)).max(1);
    for sku in skus {
        for n in 0..lots {
            let quantity = if n + 1 == lots {
                (units_each - share * i64::from(lots - 1)).max(1)
            } else {
                share
            };
            let best_before = today + chrono::Duration::days(30 * (i64::from(n) + 1));
            http.post(
                &format!("/api/v1/cooperatives/{coop}/lots"),
                Some(owner),
                json!({"sku_id": sku, "warehouse_id": warehouse, "code": format!("L{n}"),
                       "quantity": quantity, "best_before": best_before.format("%Y-%m-%d").to_string()}),
            )
            .await?;
        }
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Checks the books through the API: 201s = units reserved, nothing below zero, ledger balanced.
async fn verify(http: &Http, seeded: &Seeded, sold: usize) -> Result<String, String> {
    let mut reserved = 0i64;
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/cooperatives/{}/stock?limit=100", seeded.coop);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = http.get(&path, Some(&seeded.owner)).await?;
        for r in page["items"].as_array().into_iter().flatten() {
            reserved += r["reserved"].as_i64().unwrap_or(0);
            if r["available"].as_i64().unwrap_or(-1) < 0 || r["on_hand"].as_i64().unwrap_or(-1) < 0
            {
                return Err(format!("stock below zero: {r}"));
            }
            rows.push((
                r["sku_id"].as_str().unwrap_or_default().to_owned(),
                r["on_hand"].as_i64().unwrap_or(0),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    if reserved != sold as i64 {
        return Err(format!(
            "{sold} orders created but {reserved} units reserved"
        ));
    }
    for (sku, on_hand) in &rows {
        let mut sum = 0i64;
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/skus/{sku}/stock/movements?limit=100");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = http.get(&path, Some(&seeded.owner)).await?;
            sum += page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| m["delta"].as_i64().unwrap_or(0))
                .sum::<i64>();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        if sum != *on_hand {
            return Err(format!(
                "SKU {sku}: on_hand {on_hand} but the ledger sums to {sum}"
            ));
        }
    }
    Ok(format!("{sold} orders = {reserved} units reserved; no stock below zero; ledger balanced on {} rows", rows.len()))
}

async fn run(http: Rc<Http>, args: &BenchArgs, name: &str, sku_count: usize) -> Result<(), String> {
    let flash = name == "flash";
    let rss_before = http.metric("process_resident_memory_bytes").await?;
    let units_each = if flash {
        args.units
    } else {
        (args.orders * 2).div_ceil(sku_count) as i64 + 1
    };
    let seeded = Arc::new(seed(&http, args, sku_count, units_each).await?);
    let address = json!({"recipient": "林小姐", "phone": "13800138000", "province": "广东省", "city": "汕头市", "district": "金平区", "line1": "长平路 88 号"});
    let statements_before = http.metric("db_statements_total").await?;
    let tx_before = http.metric("db_transactions_total").await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (http, seeded, next, address) =
            (http.clone(), seeded.clone(), next.clone(), address.clone());
        let total = args.orders;
        tasks.push(actix_web::rt::spawn(async move {
            let mut out: Vec<(u16, Duration, Duration)> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                // round robin: every SKU gets its share, so stock never runs out mid-run
                let sku = &seeded.skus[i % seeded.skus.len()];
                let t = Instant::now();
                let status = match http
                    .call(awc::http::Method::POST, "/api/v1/orders", Some(&seeded.buyers[c]),
                          Some(json!({"items": [{"sku_id": sku, "quantity": 1}], "shipping_address": address})))
                    .await
                {
                    Ok((s, _)) => s,
                    Err(_) => 0,
                };
                out.push((status, t.elapsed(), started.elapsed()));
            }
            out
        }));
    }
    let mut timed = Vec::new();
    for t in tasks {
        timed.extend(t.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    let results: Vec<(u16, Duration)> = timed.iter().map(|(s, d, _)| (*s, *d)).collect();
    let statements = http.metric("db_statements_total").await? - statements_before;
    let transactions = http.metric("db_transactions_total").await? - tx_before;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let (by_status, latencies) = tally(&results);
    let ready = http.get("/health/ready", None).await.unwrap_or(Value::Null);
    println!(
        "{name}: {} orders, {} clients, {} SKU(s), database {}",
        args.orders,
        args.clients,
        sku_count,
        ready["database"].as_str().unwrap_or("?")
    );
    println!("  statuses: {by_status:?}  (0 = transport error)");
    println!(
        "  throughput: {:.1} orders/s ({created} created in {:.2} s)",
        created as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99)
    );
    println!(
        "  SQL per order request: {:.1} statements, {:.2} transactions (incl. the auth lookup)",
        statements / results.len().max(1) as f64,
        transactions / results.len().max(1) as f64
    );
    println!(
        "  server RSS: {:.0} MB before seeding, {:.0} MB at the end (process_resident_memory_bytes)",
        rss_before / 1e6,
        http.metric("process_resident_memory_bytes").await? / 1e6
    );
    if flash {
        // when the last unit went, and how fast the sold-out answers came after it
        let sold_out_at = timed
            .iter()
            .filter(|(s, _, _)| *s == 201)
            .map(|(_, _, at)| *at)
            .max()
            .unwrap_or_default();
        let after: Vec<&(u16, Duration, Duration)> = timed
            .iter()
            .filter(|(_, _, at)| *at > sold_out_at)
            .collect();
        let refused = after.iter().filter(|(s, _, _)| *s == 409).count();
        let window = (elapsed - sold_out_at).as_secs_f64().max(1e-9);
        let mut after_latency: Vec<Duration> = after.iter().map(|(_, d, _)| *d).collect();
        after_latency.sort();
        println!(
            "  flash: {created} sold in {:.2} s ({:.0} orders/s); then {refused} × 409 in {:.2} s ({:.0}/s, p99 {:.1} ms); 5xx: {}",
            sold_out_at.as_secs_f64(),
            created as f64 / sold_out_at.as_secs_f64().max(1e-9),
            window,
            refused as f64 / window,
            percentile(&after_latency, 0.99),
            results.iter().filter(|(s, _)| *s >= 500).count()
        );
    }
    match verify(&http, &seeded, created).await {
        Ok(msg) => println!("  verified: {msg}"),
        Err(e) => return Err(format!("verification failed: {e}")),
    }
    Ok(())
}

/// Reads catalogue pages as shoppers do: newest first, then a Chinese search, then a price
/// sort, round robin, `args.orders` requests in all.
/// The kinds of catalogue page measured: (label, query). `{category}` is the id of 粮油.
const CATALOGUE_PAGES: [(&str, &str); 11] = [
    ("newest first", "limit=20"),
    ("q=米 (1 character)", "limit=20&q=%E7%B1%B3"),
    ("q=大米 (2)", "limit=20&q=%E5%A4%A7%E7%B1%B3"),
    (
        "q=有机大米 (4)",
        "limit=20&q=%E6%9C%89%E6%9C%BA%E5%A4%A7%E7%B1%B3",
    ),
    (
        "q=黑土地冻梨 (5)",
        "limit=20&q=%E9%BB%91%E5%9C%9F%E5%9C%B0%E5%86%BB%E6%A2%A8",
    ),
    (
        "q=椴树蜜 price_asc",
        "limit=20&q=%E6%A4%B4%E6%A0%91%E8%9C%9C&sort=price_asc",
    ),
    ("category 粮油", "limit=20&category_id={category}"),
    (
        "price 30-60 yuan",
        "limit=20&min_price=30.00&max_price=60.00",
    ),
    (
        "price_asc in_stock",
        "limit=20&sort=price_asc&in_stock=true",
    ),
    ("price_desc", "limit=20&sort=price_desc"),
    (
        "q=梨 frozen in_stock",
        "limit=20&q=%E6%A2%A8&storage=frozen&in_stock=true",
    ),
];

/// Catalogue pages, each kind measured on its own: `--orders` pages of each from
/// `--clients` clients, on whatever catalogue the server holds (`shanhe demo --products N`).
async fn catalogue(http: Rc<Http>, args: &BenchArgs) -> Result<(), String> {
    let categories = http
        .ok(awc::http::Method::GET, "/api/v1/categories", None, None)
        .await?;
    let grain = categories
        .as_array()
        .or_else(|| categories["items"].as_array())
        .and_then(|list| list.iter().find(|c| c["name"] == "粮油"))
        .and_then(|c| c["id"].as_str())
        .unwrap_or("")
        .to_owned();
    let products = http
        .ok(
            awc::http::Method::GET,
            "/api/v1/products?limit=1",
            None,
            None,
        )
        .await?;
    println!(
        "catalogue: {} pages of each kind, {} clients (first page: {})",
        args.orders,
        args.clients,
        products["items"][0]["name"]
            .as_str()
            .unwrap_or("empty catalogue")
    );
    println!(
        "  {:<24} {:>10} {:>8} {:>8} {:>8} {:>10} {:>9}",
        "page", "pages/s", "p50 ms", "p95 ms", "p99 ms", "SQL/page", "statuses"
    );
    let only = args.pages.as_deref();
    for (label, query) in CATALOGUE_PAGES
        .into_iter()
        .filter(|(label, _)| only.is_none_or(|o| label.contains(o)))
    {
        let path = format!("/api/v1/products?{}", query.replace("{category}", &grain));
        let statements_before = http.metric("db_statements_total").await?;
        let started = Instant::now();
        let total = args.orders;
        let results = drive(http.clone(), args.clients, move |i| {
            (i < total).then(|| (awc::http::Method::GET, path.clone(), None))
        })
        .await?;
        let elapsed = started.elapsed();
        let statements = http.metric("db_statements_total").await? - statements_before;
        let (by_status, latencies) = tally(&results);
        let statuses = by_status
            .iter()
            .map(|(s, n)| format!("{s}:{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "  {:<24} {:>10.0} {:>8.1} {:>8.1} {:>8.1} {:>10.1} {:>9}",
            label,
            results.len() as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99),
            statements / results.len().max(1) as f64,
            statuses
        );
    }
    Ok(())
}

type Request = (awc::http::Method, String, Option<Value>);

/// Runs `clients` clients, each taking the next request number and sending what `request`
/// makes of it, until it says `None`; every answer's status (0: transport error) and time.
async fn drive<F>(
    http: Rc<Http>,
    clients: usize,
    request: F,
) -> Result<Vec<(u16, Duration)>, String>
where
    F: Fn(usize) -> Option<Request> + 'static,
{
    let request = Rc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, next, request) = (http.clone(), next.clone(), request.clone());
        tasks.push(actix_web::rt::spawn(async move {
            let mut out = Vec::new();
            while let Some((method, path, body)) = request(next.fetch_add(1, Ordering::Relaxed)) {
                let t = Instant::now();
                let status = match http.call(method, &path, None, body).await {
                    Ok((s, _)) => s,
                    Err(_) => 0,
                };
                out.push((status, t.elapsed()));
            }
            out
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.extend(t.await.map_err(|e| e.to_string())?);
    }
    Ok(results)
}

/// Answers by status, and the times sorted for percentiles.
fn tally(results: &[(u16, Duration)]) -> (BTreeMap<u16, usize>, Vec<Duration>) {
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for (s, _) in results {
        *by_status.entry(*s).or_default() += 1;
    }
    let mut latencies: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    (by_status, latencies)
}

/// Resident and peak memory of a process, in MiB (Linux `/proc`).
fn memory_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<f64>()
            .ok()
            .map(|kib| kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

async fn login_flood(http: Rc<Http>, args: &BenchArgs) -> Result<(), String> {
    let password = "flood-password-123";
    let email = "flood-owner@bench.local";
    // the account the sign-ins use (it may exist from an earlier run)
    let _ = http
        .call(
            awc::http::Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": email, "password": password, "display_name": "flood"})),
        )
        .await?;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let peak_rss = Rc::new(std::cell::Cell::new(0.0_f64));
    let sampler = args.server_pid.map(|pid| {
        let peak = peak_rss.clone();
        actix_web::rt::spawn(async move {
            while Instant::now() < deadline {
                if let Some((rss, _)) = memory_mib(pid) {
                    peak.set(peak.get().max(rss));
                }
                actix_web::rt::time::sleep(Duration::from_millis(200)).await;
            }
        })
    });
    let results = drive(http.clone(), args.clients, move |i| {
        if Instant::now() >= deadline {
            return None;
        }
        Some(if i % 2 == 0 {
            let email = format!("flood-{i}-{}@bench.local", uuid::Uuid::new_v4().simple());
            (
                awc::http::Method::POST,
                "/api/v1/auth/register".to_owned(),
                Some(json!({"email": email, "password": password, "display_name": "flood"})),
            )
        } else {
            (
                awc::http::Method::POST,
                "/api/v1/auth/login".to_owned(),
                Some(json!({"email": email, "password": password})),
            )
        })
    })
    .await?;
    if let Some(s) = sampler {
        let _ = s.await;
    }
    let (by_status, latencies) = tally(&results);
    println!(
        "login flood: {} requests, {} clients, {} s",
        results.len(),
        args.clients,
        args.seconds
    );
    println!("  statuses: {by_status:?}  (0 = transport error)");
    println!(
        "  latency: p50 {:.1} ms, p99 {:.1} ms",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99)
    );
    if let Some(pid) = args.server_pid {
        let (rss, hwm) = memory_mib(pid).unwrap_or_default();
        println!(
            "  server memory: peak RSS sampled {:.0} MiB, RSS now {rss:.0} MiB, high-water mark {hwm:.0} MiB",
            peak_rss.get()
        );
    }
    Ok(())
}

pub fn main(args: BenchArgs) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        // one thread drives every client: awc's client is single-threaded
        let http = Rc::new(Http {
            client: awc::Client::builder()
                .timeout(Duration::from_secs(60))
                .finish(),
            base: args.url.trim_end_matches('/').to_owned(),
        });
        if matches!(args.scenario, Scenario::Spread | Scenario::Both) {
            run(http.clone(), &args, "spread", args.skus.max(1)).await?;
        }
        if matches!(args.scenario, Scenario::Hot | Scenario::Both) {
            run(http.clone(), &args, "hot", 1).await?;
        }
        if args.scenario == Scenario::Flash {
            run(http.clone(), &args, "flash", 1).await?;
        }
        if args.scenario == Scenario::Catalogue {
            catalogue(http.clone(), &args).await?;
        }
        if args.scenario == Scenario::LoginFlood {
            login_flood(http, &args).await?;
        }
        Ok(())
    })
}
