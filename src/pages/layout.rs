//! What every page's frame shows: title, who is signed in, the CSRF token its forms carry,
//! and the hashed URLs of the style sheet and htmx.

use actix_web::HttpResponse;
use askama::Template;

use super::assets;
use super::error::PageError;

pub struct Layout {
    pub title: String,
    /// The signed-in user's display name.
    pub user_name: Option<String>,
    pub csrf: String,
    pub css: String,
    pub htmx: String,
    /// Which top-bar link is current: `shop`, `cart`, `orders`, `login`.
    pub section: &'static str,
    /// The signed-in user works for a co-op: the top bar links its console.
    pub console: bool,
    /// The signed-in user is a platform admin: the top bar links the admin pages.
    pub admin: bool,
}

impl Layout {
    pub fn new(title: impl Into<String>, user_name: Option<String>, csrf: String) -> Self {
        Layout {
            title: title.into(),
            user_name,
            csrf,
            css: assets::url("app.css"),
            htmx: assets::url("vendor/htmx-2.0.11.min.js"),
            section: "",
            console: false,
            admin: false,
        }
    }

    /// A frame for pages shown without a session (errors).
    pub fn bare(title: impl Into<String>) -> Self {
        Layout::new(title, None, String::new())
    }

    pub fn at(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }
}

/// A rendered page, 200.
pub fn html(t: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(t.render()?))
}

/// A redirect after a form: the browser GETs `to` (so a reload never posts twice).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, to))
        .finish()
}
