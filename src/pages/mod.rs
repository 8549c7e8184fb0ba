//! The marketplace in a browser: server-rendered Chinese pages from the same binary, calling
//! the same domain functions as the JSON handlers (a price, a stock check or a permission
//! lives in one place). Sessions are cookies; every form carries a CSRF token.

pub mod account;
pub mod admin;
pub mod assets;
pub mod business;
pub mod cart;
pub mod chart;
pub mod console;
pub mod error;
pub mod layout;
pub mod orders;
pub mod products;
pub mod session;
pub mod shop;
pub mod zh;

use actix_web::http::header;
use actix_web::{middleware, web, HttpRequest, HttpResponse};

use crate::http::error::ApiError;

/// Every page, on one screen.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(shop::index))
        .route("/products/{id}", web::get().to(shop::product))
        .route("/login", web::get().to(account::login_form))
        .route("/login", web::post().to(account::login))
        .route("/register", web::get().to(account::register_form))
        .route("/register", web::post().to(account::register))
        .route("/logout", web::post().to(account::logout))
        .route("/cart", web::get().to(cart::show))
        .route("/cart/items", web::post().to(cart::add))
        .route("/cart/items/{sku_id}", web::post().to(cart::update))
        .route("/cart/items/{sku_id}/remove", web::post().to(cart::remove))
        .route("/checkout", web::get().to(cart::checkout))
        .route("/checkout", web::post().to(cart::place_order))
        .route("/checkout/region", web::get().to(cart::region))
        .route("/orders", web::get().to(orders::list))
        .route("/orders/{id}", web::get().to(orders::show))
        .route("/orders/{id}/pay", web::post().to(orders::pay))
        .route(
            "/orders/{id}/parcels/{shipment}/inspect",
            web::post().to(orders::inspect),
        )
        .route("/pay/{payment_id}", web::get().to(orders::sandbox_page))
        .route("/pay/{payment_id}", web::post().to(orders::sandbox_confirm))
        .route("/admin", web::get().to(admin::home))
        .route("/admin/sales.csv", web::get().to(admin::sales_export))
        .route("/admin/rates", web::get().to(admin::rates))
        .route("/admin/rates", web::post().to(admin::save_rates))
        .route("/admin/audit", web::get().to(admin::audit))
        .route("/admin/cooperatives", web::get().to(admin::cooperatives))
        .route(
            "/admin/cooperatives",
            web::post().to(admin::create_cooperative),
        )
        .route(
            "/admin/cooperatives/{id}/members",
            web::post().to(admin::add_coop_member),
        )
        .route(
            "/admin/cooperatives/{id}/commission",
            web::post().to(admin::set_commission),
        )
        .route(
            "/admin/organizations/{id}/{action}",
            web::post().to(admin::decide),
        )
        .route("/business", web::get().to(business::home))
        .route("/business/apply", web::post().to(business::apply))
        .route(
            "/business/{org}/members",
            web::post().to(business::add_member),
        )
        .route("/business/{org}/upload", web::post().to(business::upload))
        .route("/business/{org}/orders", web::post().to(business::confirm))
        .route("/console", web::get().to(console::start))
        .route("/console/{coop}", web::get().to(console::home))
        .route(
            "/console/{coop}/fulfilments/{id}/ship",
            web::post().to(console::ship),
        )
        .route(
            "/console/{coop}/fulfilments/{id}/slip",
            web::get().to(console::slip),
        )
        .route("/console/{coop}/products", web::get().to(products::list))
        .route("/console/{coop}/products", web::post().to(products::create))
        .route(
            "/console/{coop}/products/{id}",
            web::get().to(products::edit),
        )
        .route(
            "/console/{coop}/products/{id}",
            web::post().to(products::save),
        )
        .route(
            "/console/{coop}/products/{id}/{action}",
            web::post().to(products::set_status),
        )
        .route("/console/{coop}/lots", web::get().to(console::lots))
        .route("/console/{coop}/lots", web::post().to(console::receive))
        .route(
            "/console/{coop}/lots/{id}/label.svg",
            web::get().to(console::label),
        )
        .route(
            "/console/{coop}/stock",
            web::post().to(console::count_stock),
        )
        .route(
            "/console/{coop}/lots/{id}/adjust",
            web::post().to(console::adjust_lot),
        )
        .route(
            "/console/{coop}/lots/{id}/{action}",
            web::post().to(console::hold),
        )
        .route("/console/{coop}/claims", web::get().to(console::claims))
        .route(
            "/console/{coop}/claims/{id}/{action}",
            web::post().to(console::decide),
        )
        .route(
            "/console/{coop}/settlement",
            web::get().to(console::settlement),
        )
        .route("/console/{coop}/members", web::get().to(console::members))
        .route(
            "/console/{coop}/members",
            web::post().to(console::add_member),
        );
}

/// Headers every page carries: never cached by a proxy (pages show who is signed in), never
/// framed, no script or style from anywhere but this server.
pub fn headers() -> middleware::DefaultHeaders {
    middleware::DefaultHeaders::new()
        .add((header::CACHE_CONTROL, "private, no-store"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; \
             form-action 'self'; frame-ancestors 'none'",
        ))
}

/// A path nothing answers: the 404 page for a browser, problem+json for everyone else.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        error::PageError::NotFound.page()
    } else {
        actix_web::ResponseError::error_response(&ApiError::NotFound)
    }
}
