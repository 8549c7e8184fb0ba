//! App wiring: every route in one place, the OpenAPI document, and server start-up.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{middleware, web, App, HttpResponse, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::aftersales;
use crate::auth::limiter::Limits;
use crate::auth::password::HashGate;
use crate::auth::tokens::{load_or_create_secret, TokenKeys};
use crate::auth::{self, password};
use crate::catalogue;
use crate::config::Config;
use crate::cooperatives;
use crate::db::{self, replicas::ReadPool, DbPool, DbUrl, SessionSettings};
use crate::delivery;
use crate::fulfilment;
use crate::http::openapi::Truthful;
use crate::http::{extract, ops};
use crate::inventory;
use crate::orders;
use crate::organizations;
use crate::pages;
use crate::payments;
use crate::reports;

#[derive(OpenApi)]
#[openapi(
    info(title = "汕鹤优选 API", version = "1", description = "Shantou orders, Hegang ships."),
    paths(
        auth::routes::register,
        auth::routes::login,
        auth::routes::refresh,
        auth::routes::logout,
        organizations::me::me,
        cooperatives::routes::create,
        cooperatives::routes::list,
        cooperatives::routes::get,
        cooperatives::routes::add_member,
        cooperatives::routes::create_warehouse,
        cooperatives::routes::list_warehouses,
        catalogue::categories::list,
        catalogue::categories::create,
        catalogue::routes::create,
        catalogue::routes::list,
        catalogue::routes::get,
        catalogue::routes::update,
        catalogue::routes::publish,
        catalogue::routes::unpublish,
        catalogue::routes::archive,
        inventory::routes::list,
        inventory::routes::stocktake,
        inventory::routes::adjust,
        inventory::routes::movements,
        inventory::lots::routes::receive,
        inventory::lots::routes::list,
        inventory::lots::routes::get,
        inventory::lots::routes::adjust,
        inventory::lots::routes::hold,
        inventory::lots::routes::release,
        inventory::lots::public::trace_json,
        inventory::lots::public::label_svg,
        fulfilment::trace::trace,
        aftersales::routes::open,
        aftersales::routes::of_order,
        aftersales::routes::get,
        aftersales::routes::of_cooperative,
        aftersales::routes::approve,
        aftersales::routes::reject,
        aftersales::routes::escalate,
        aftersales::routes::receive_return,
        aftersales::inspection::inspect,
        fulfilment::trace::recall,
        orders::shipping::list,
        orders::shipping::replace,
        delivery::divisions::list,
        delivery::routes::get,
        delivery::routes::put,
        orders::cart::get,
        orders::cart::put,
        orders::cart::delete,
        orders::routes::preview,
        orders::routes::create,
        orders::import::import,
        orders::reads::list,
        orders::reads::get,
        payments::cancel::cancel,
        orders::actions::confirm_receipt,
        orders::actions::mark_paid,
        payments::routes::create,
        payments::webhook::receive,
        organizations::routes::apply,
        organizations::routes::list,
        organizations::routes::get,
        organizations::routes::update,
        organizations::routes::approve,
        organizations::routes::reject,
        organizations::routes::add_member,
        organizations::routes::leave,
        fulfilment::routes::queue,
        fulfilment::routes::get,
        fulfilment::routes::ship,
        fulfilment::routes::add_event,
        fulfilment::routes::tracking,
        reports::sales::sales,
        reports::settlements::settlement,
        reports::audit_log::list,
        cooperatives::routes::set_commission_rate,
    ),
    modifiers(&BearerAuth, &Truthful),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "cooperatives", description = "Supplier co-operatives, members, warehouses"),
        (name = "catalogue", description = "Categories, products, SKUs and search"),
        (name = "inventory", description = "Stock, stocktakes, adjustments and the ledger"),
        (name = "lots", description = "Lots with dates, first-expired-first-out, traceability and recall"),
        (name = "orders", description = "Cart, checkout, orders and shipping rates"),
        (name = "delivery", description = "Division codes, cold-truck timetables, delivery dates"),
        (name = "payments", description = "Sandbox payments and the provider webhook"),
        (name = "organizations", description = "Business buyers"),
        (name = "fulfilment", description = "Co-op shipping queues, parcels and tracking"),
        (name = "after-sales", description = "Claims: buyers', the cold chain's and receiving inspections', and their refunds"),
        (name = "reports", description = "Sales, settlements and the audit log"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The whole API on one screen: one resource per path, so a method a path does not take is
/// a 405 rather than a 404.
pub fn api_routes(cfg: &mut web::ServiceConfig) {
    use auth::routes as a;
    use catalogue::categories as cat;
    use catalogue::routes as pr;
    use cooperatives::routes as co;
    use inventory::lots;
    use inventory::routes as inv;
    use orders::routes as ord;
    use organizations::routes as org;
    // routes are tried in this order, each dynamic one with a regex: placing an order, the
    // busiest write, comes first
    cfg.service(
        web::resource("/orders")
            .route(web::post().to(ord::create))
            .route(web::get().to(orders::reads::list))
            .default_service(web::to(|| ops::not_allowed("POST, GET"))),
    )
    .service(
        web::resource("/auth/register")
            .route(web::post().to(a::register))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/auth/login")
            .route(web::post().to(a::login))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/auth/refresh")
            .route(web::post().to(a::refresh))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/auth/logout")
            .route(web::post().to(a::logout))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/me")
            .route(web::get().to(organizations::me::me))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/cooperatives")
            .route(web::post().to(co::create))
            .route(web::get().to(co::list))
            .default_service(web::to(|| ops::not_allowed("POST, GET"))),
    )
    .service(
        web::resource("/cooperatives/{id}")
            .route(web::get().to(co::get))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/cooperatives/{id}/members")
            .route(web::post().to(co::add_member))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/cooperatives/{id}/warehouses")
            .route(web::post().to(co::create_warehouse))
            .route(web::get().to(co::list_warehouses))
            .default_service(web::to(|| ops::not_allowed("POST, GET"))),
    )
    .service(
        web::resource("/cooperatives/{id}/departures")
            .route(web::get().to(delivery::routes::get))
            .route(web::put().to(delivery::routes::put))
            .default_service(web::to(|| ops::not_allowed("GET, PUT"))),
    )
    .service(
        web::resource("/cooperatives/{id}/products")
            .route(web::post().to(pr::create))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/categories")
            .route(web::get().to(cat::list))
            .route(web::post().to(cat::create))
            .default_service(web::to(|| ops::not_allowed("GET, POST"))),
    )
    .service(
        web::resource("/products")
            .route(web::get().to(pr::list))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/products/{id}")
            .route(web::get().to(pr::get))
            .route(web::patch().to(pr::update))
            .default_service(web::to(|| ops::not_allowed("GET, PATCH"))),
    )
    .service(
        web::resource("/products/{id}/publish")
            .route(web::post().to(pr::publish))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/products/{id}/unpublish")
            .route(web::post().to(pr::unpublish))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/products/{id}/archive")
            .route(web::post().to(pr::archive))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/cooperatives/{id}/stock")
            .route(web::get().to(inv::list))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/cooperatives/{id}/stock/adjustments")
            .route(web::post().to(inv::adjust))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/skus/{sku_id}/stock/movements")
            .route(web::get().to(inv::movements))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/skus/{sku_id}/stock/{warehouse_id}")
            .route(web::put().to(inv::stocktake))
            .default_service(web::to(|| ops::not_allowed("PUT"))),
    )
    .service(
        web::resource("/cooperatives/{id}/lots")
            .route(web::get().to(lots::routes::list))
            .route(web::post().to(lots::routes::receive))
            .default_service(web::to(|| ops::not_allowed("GET, POST"))),
    )
    .service(
        web::resource("/lots/{id}")
            .route(web::get().to(lots::routes::get))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/lots/{id}/adjustments")
            .route(web::post().to(lots::routes::adjust))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/lots/{id}/hold")
            .route(web::post().to(lots::routes::hold))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/lots/{id}/release")
            .route(web::post().to(lots::routes::release))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/lots/{id}/label.svg")
            .route(web::get().to(lots::public::label_svg))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/lots/{id}/trace")
            .route(web::get().to(fulfilment::trace::trace))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/lots/{id}/recall")
            .route(web::post().to(fulfilment::trace::recall))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/orders/{id}/claims")
            .route(web::get().to(aftersales::routes::of_order))
            .route(web::post().to(aftersales::routes::open))
            .default_service(web::to(|| ops::not_allowed("GET, POST"))),
    )
    .service(
        web::resource("/cooperatives/{id}/claims")
            .route(web::get().to(aftersales::routes::of_cooperative))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/claims/{id}")
            .route(web::get().to(aftersales::routes::get))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/claims/{id}/approve")
            .route(web::post().to(aftersales::routes::approve))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/claims/{id}/reject")
            .route(web::post().to(aftersales::routes::reject))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/claims/{id}/escalate")
            .route(web::post().to(aftersales::routes::escalate))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/claims/{id}/receive-return")
            .route(web::post().to(aftersales::routes::receive_return))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/shipments/{id}/inspection")
            .route(web::post().to(aftersales::inspection::inspect))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/trace/{trace_code}")
            .route(web::get().to(lots::public::trace_json))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/divisions")
            .route(web::get().to(delivery::divisions::list))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/shipping-rates")
            .route(web::get().to(orders::shipping::list))
            .route(web::put().to(orders::shipping::replace))
            .default_service(web::to(|| ops::not_allowed("GET, PUT"))),
    )
    .service(
        web::resource("/cart")
            .route(web::get().to(orders::cart::get))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/cart/items/{sku_id}")
            .route(web::put().to(orders::cart::put))
            .route(web::delete().to(orders::cart::delete))
            .default_service(web::to(|| ops::not_allowed("PUT, DELETE"))),
    )
    .service(
        web::resource("/checkout/preview")
            .route(web::post().to(ord::preview))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/orders/import")
            .route(web::post().to(orders::import::import))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/orders/{id}")
            .route(web::get().to(orders::reads::get))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/orders/{id}/cancel")
            .route(web::post().to(payments::cancel::cancel))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/orders/{id}/confirm-receipt")
            .route(web::post().to(orders::actions::confirm_receipt))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/orders/{id}/mark-paid")
            .route(web::post().to(orders::actions::mark_paid))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/orders/{id}/payments")
            .route(web::post().to(payments::routes::create))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/payments/webhook")
            .route(web::post().to(payments::webhook::receive))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/organizations")
            .route(web::post().to(org::apply))
            .route(web::get().to(org::list))
            .default_service(web::to(|| ops::not_allowed("POST, GET"))),
    )
    .service(
        web::resource("/organizations/{id}")
            .route(web::get().to(org::get))
            .route(web::patch().to(org::update))
            .default_service(web::to(|| ops::not_allowed("GET, PATCH"))),
    )
    .service(
        web::resource("/organizations/{id}/approve")
            .route(web::post().to(org::approve))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/organizations/{id}/reject")
            .route(web::post().to(org::reject))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/organizations/{id}/members")
            .route(web::post().to(org::add_member))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/organizations/{id}/members/me")
            .route(web::delete().to(org::leave))
            .default_service(web::to(|| ops::not_allowed("DELETE"))),
    )
    .service(
        web::resource("/cooperatives/{id}/fulfilments")
            .route(web::get().to(fulfilment::routes::queue))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/fulfilments/{id}")
            .route(web::get().to(fulfilment::routes::get))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/fulfilments/{id}/shipments")
            .route(web::post().to(fulfilment::routes::ship))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/shipments/{id}/events")
            .route(web::post().to(fulfilment::routes::add_event))
            .default_service(web::to(|| ops::not_allowed("POST"))),
    )
    .service(
        web::resource("/orders/{id}/tracking")
            .route(web::get().to(fulfilment::routes::tracking))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/reports/sales")
            .route(web::get().to(reports::sales::sales))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/cooperatives/{id}/settlements")
            .route(web::get().to(reports::settlements::settlement))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    )
    .service(
        web::resource("/cooperatives/{id}/commission-rate")
            .route(web::put().to(co::set_commission_rate))
            .default_service(web::to(|| ops::not_allowed("PUT"))),
    )
    .service(
        web::resource("/audit-events")
            .route(web::get().to(reports::audit_log::list))
            .default_service(web::to(|| ops::not_allowed("GET"))),
    );
}

/// Everything built once at start-up and shared by the workers.
#[derive(Clone)]
pub struct Shared {
    pub config: web::Data<Config>,
    pub pool: web::Data<DbPool>,
    /// The replicas (and the primary) public catalogue reads go to.
    pub reads: web::Data<ReadPool>,
    pub keys: web::Data<TokenKeys>,
    pub limits: web::Data<Limits>,
    pub hash_gate: web::Data<HashGate>,
    /// What this instance remembers of rare catalogue searches.
    pub rare_queries: web::Data<crate::catalogue::search::RareQueries>,
    /// Signs and encrypts the pages' session cookies.
    pub session_key: actix_web::cookie::Key,
}

/// Where generated files (the JWT key) live: beside the SQLite file, else `data/`.
fn data_dir(url: &DbUrl) -> PathBuf {
    match url {
        DbUrl::Sqlite(p) => p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")),
        DbUrl::Postgres(_) => PathBuf::from("data"),
    }
}

pub fn open_pool(config: &Config) -> Result<DbPool, String> {
    db::build_pool(
        &config.database_url,
        config.pool_size(),
        SessionSettings {
            sqlite_synchronous_full: config.sqlite_sync_full,
            sqlite_cache_kib: config.sqlite_cache_mb.saturating_mul(1000),
            role: db::PoolRole::Primary,
            connect_timeout: config.db_connect_timeout,
        },
        config.queue_timeout,
    )
}

/// The read pool: the primary plus a pool per configured replica (PostgreSQL only), with
/// the watcher that checks their lag started.
pub fn open_replicas(config: &Config, primary: &DbPool) -> ReadPool {
    let urls: Vec<&String> = config
        .replica_urls
        .iter()
        .flatten()
        .filter_map(|u| match u {
            DbUrl::Postgres(u) => Some(u),
            DbUrl::Sqlite(_) => None,
        })
        .collect();
    if urls.is_empty() {
        return ReadPool::primary_only(primary.clone());
    }
    if matches!(config.database_url, DbUrl::Sqlite(_)) {
        tracing::warn!(
            "SHANHE_REPLICA_URLS is ignored: replicas are PostgreSQL's, and this server runs on SQLite"
        );
        return ReadPool::primary_only(primary.clone());
    }
    let settings = SessionSettings {
        sqlite_synchronous_full: false,
        sqlite_cache_kib: 2000,
        role: db::PoolRole::Replica,
        connect_timeout: config.db_connect_timeout,
    };
    let replicas = urls
        .into_iter()
        .map(|u| {
            let name = db::pg_hosts_and_database(u);
            tracing::info!(replica = %name, "catalogue reads may use this replica");
            (
                name,
                db::build_replica_pool(u, config.pool_size(), settings),
            )
        })
        .collect();
    let reads = ReadPool::new(primary.clone(), replicas);
    reads.watch(config.replica_max_lag);
    reads
}

/// Applies pending migrations, then indexes for search any product written before the
/// search index existed.
pub fn migrate(conn: &mut db::DbConn) -> Result<Vec<String>, String> {
    let applied = db::run_migrations(conn)?;
    let indexed = crate::catalogue::search_index::backfill(conn).map_err(|e| e.to_string())?;
    if indexed > 0 {
        tracing::info!(products = indexed, "indexed products for search");
    }
    Ok(applied)
}

/// Opens the database, applies migrations, loads keys and creates the first admin.
pub fn prepare(config: Config) -> Result<Shared, String> {
    ops::metrics_handle();
    db::install_statement_counter();
    let pool = open_pool(&config)?;
    {
        let mut conn = pool.get().map_err(|e| format!("cannot connect: {e}"))?;
        let applied = migrate(&mut conn)?;
        for m in applied {
            tracing::info!(migration = %m, "applied migration");
        }
        if let (Some(email), Some(pw)) = (&config.admin_email, &config.admin_password) {
            bootstrap_admin(&mut conn, email, pw.expose())?;
        }
    }
    let secret =
        load_or_create_secret(config.jwt_secret.as_ref(), &data_dir(&config.database_url))?;
    let keys = TokenKeys::new(&secret, config.access_token_ttl, config.refresh_token_ttl);
    let session_secret = crate::auth::tokens::load_or_create_key(
        config.session_secret.as_ref(),
        &data_dir(&config.database_url),
        "session_secret",
        "SHANHE_SESSION_SECRET",
    )?;
    let reads = open_replicas(&config, &pool);
    let rare_queries = crate::catalogue::search::RareQueries::new(config.search_candidates);
    Ok(Shared {
        config: web::Data::new(config),
        pool: web::Data::new(pool),
        reads: web::Data::new(reads),
        keys: web::Data::new(keys),
        limits: web::Data::new(Limits::default()),
        // about one argon2 hash per core at a time; a turn is waited for at most 2 s
        hash_gate: web::Data::new(HashGate::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
            Duration::from_secs(2),
        )),
        rare_queries: web::Data::new(rare_queries),
        session_key: pages::session::cookie_key(&session_secret),
    })
}

/// Creates the admin account unless the email is taken (never re-sets a password).
pub fn bootstrap_admin(conn: &mut db::DbConn, email: &str, password: &str) -> Result<(), String> {
    let email = auth::domain::Email::parse(email).map_err(|m| format!("admin email {m}"))?;
    if password.is_empty() {
        return Err("SHANHE_ADMIN_PASSWORD is empty".into());
    }
    // the operator chose it: a weak one is warned about, not refused (refusing would keep the
    // server from starting at all)
    if let Err(m) = auth::domain::Password::parse(password, Some(email.as_str())) {
        tracing::warn!("SHANHE_ADMIN_PASSWORD {m}: choose a stronger one for production");
    }
    if auth::repo::find_by_email(conn, email.as_str())
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Ok(());
    }
    let hash = password::hash(password)?;
    // several instances starting together: the one that loses the race finds it created
    let outcome = match auth::repo::ensure_admin(conn, email.as_str(), "Administrator", &hash) {
        Err(crate::http::error::ApiError::Conflict(_)) => auth::repo::AdminOutcome::AlreadyExists,
        other => other.map_err(|e| e.to_string())?,
    };
    tracing::info!(email = %email.as_str(), ?outcome, "admin bootstrap");
    Ok(())
}

/// A running server and the port it bound.
pub struct Running {
    pub port: u16,
    pub handle: ServerHandle,
    pub server: actix_web::dev::Server,
}

/// Cancels overdue unpaid orders and completes delivered ones every `every`, for as long as
/// the server holds its pool (the task ends once the server has stopped).
fn spawn_sweeps(pool: &std::sync::Weak<DbPool>, every: Duration, auto_complete_days: u32) {
    let pool = pool.clone();
    let every = every.max(Duration::from_millis(100));
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let Some(pool) = pool.upgrade() else { break };
            match orders::lifecycle::sweep(&pool, auto_complete_days).await {
                Ok((0, 0)) => {}
                Ok((cancelled, completed)) => {
                    tracing::info!(cancelled, completed, "order sweep")
                }
                Err(e) => tracing::warn!(error = %e, "order sweep failed"),
            }
        }
    });
}

/// CORS for storefronts running in browsers: only the configured origins (`*` for any).
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_MATCH,
            actix_web::http::header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            actix_web::http::header::ETAG,
            actix_web::http::header::RETRY_AFTER,
        ])
        .max_age(3600);
    for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// `GET /api/openapi.json`: the API's OpenAPI document.
async fn openapi_json(spec: web::Data<web::Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(web::Bytes::clone(&spec))
}

/// `/docs` without the slash: the Swagger UI page loads its assets relative to `/docs/`, so
/// this answers 200 with a page that moves the browser there (clients that do not follow
/// redirects still get a page, not a 3xx).
async fn docs_redirect() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>汕鹤优选 API</title>\
             <meta http-equiv=\"refresh\" content=\"0; url=/docs/\"></head><body>\
             <p><a href=\"/docs/\">汕鹤优选 API reference (Swagger UI)</a></p></body></html>",
        )
}

/// Binds `listener` and builds the server; the caller awaits `server`.
pub fn start(shared: Shared, listener: TcpListener) -> std::io::Result<Running> {
    let bound = listener.local_addr()?;
    let port = bound.port();
    let public_url = web::Data::new(crate::config::PublicUrl::resolve(
        shared.config.public_url.as_deref(),
        bound,
    ));
    let workers = shared.config.workers;
    // cookies marked Secure only where the public reaches the server over https
    let secure_cookies = public_url.as_str().starts_with("https://");
    // one blocking thread per connection the pools can hand out at once, and two to spare
    let pools = if shared.reads.has_replicas() { 2 } else { 1 };
    let blocking_threads = usize::try_from(shared.config.pool_size()).unwrap_or(8) * pools + 2;
    let sweep_pool = std::sync::Arc::downgrade(&shared.pool.clone().into_inner());
    let sweep_every = shared.config.sweep_every();
    let auto_complete_days = shared.config.auto_complete_days;
    let metrics = ops::metrics_handle();
    drop(metrics);
    // serialized once and shared by every worker (a spec object per worker cost megabytes)
    let openapi =
        web::Data::new(web::Bytes::from(ApiDoc::openapi().to_json().map_err(
            |e| std::io::Error::other(format!("the OpenAPI document: {e}")),
        )?));
    let server = HttpServer::new(move || {
        let swagger = SwaggerUi::new("/docs/{_:.*}")
            .config(utoipa_swagger_ui::Config::new(["/api/openapi.json"]).validator_url("none"));
        App::new()
            // without configured origins no CORS layer at all: same-origin and non-browser
            // clients are untouched
            .wrap(middleware::Condition::new(
                !shared.config.cors_origins.is_empty(),
                cors(&shared.config.cors_origins),
            ))
            .app_data(shared.config.clone())
            .app_data(shared.pool.clone())
            .app_data(shared.reads.clone())
            .app_data(shared.keys.clone())
            .app_data(shared.limits.clone())
            .app_data(shared.hash_gate.clone())
            .app_data(shared.rare_queries.clone())
            .app_data(public_url.clone())
            // order views show parcels through fulfilment's query (orders never reads them)
            .app_data(web::Data::new(fulfilment::views::PARCELS))
            .app_data(web::Data::new(fulfilment::routes::AfterDelivery(
                aftersales::cold_chain_on_delivery,
            )))
            .app_data(web::PathConfig::default().error_handler(extract::path_error))
            .app_data(web::QueryConfig::default().error_handler(extract::query_error))
            .wrap(middleware::from_fn(extract::refuse_control_in_query))
            .wrap(middleware::from_fn(ops::problems_everywhere))
            .wrap(middleware::from_fn(ops::observe))
            .wrap(TracingLogger::default())
            .route("/health/live", web::get().to(ops::live))
            .route("/health/ready", web::get().to(ops::ready))
            .route("/metrics", web::get().to(ops::metrics_text))
            .route("/docs", web::get().to(docs_redirect))
            .route(
                "/t/{trace_code}",
                web::get().to(inventory::lots::public::trace_html),
            )
            .route("/static/{name:.+}", web::get().to(pages::assets::serve))
            .app_data(openapi.clone())
            .route("/api/openapi.json", web::get().to(openapi_json))
            .service(swagger)
            .service(web::scope("/api/v1").configure(api_routes))
            .service(
                // the pages, the only part that reads the session cookie
                web::scope("")
                    .wrap(pages::session::middleware(
                        shared.session_key.clone(),
                        secure_cookies,
                    ))
                    .wrap(pages::headers())
                    .configure(pages::routes)
                    .default_service(web::to(pages::not_found)),
            )
    })
    .shutdown_timeout(10)
    // blocking work is database work, which cannot go faster than the pool's connections:
    // more threads only wait (and each keeps its own stack and allocator arena)
    .worker_max_blocking_threads(blocking_threads);
    let server = match workers {
        Some(n) => server.workers(n.max(1)),
        None => server,
    };
    let server = server.listen(listener)?.run();
    spawn_sweeps(&sweep_pool, sweep_every, auto_complete_days);
    Ok(Running {
        port,
        handle: server.handle(),
        server,
    })
}
