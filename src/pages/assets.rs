//! Files the pages need (styles, htmx, product pictures), embedded in the binary. Each is
//! served at a name carrying its content hash (`/static/app.3f9a1c2e.css`), cached for a
//! year: a new build changes the name, so no browser keeps an old copy. The plain name works
//! too, cached for an hour (product image URLs stored in the database use it).

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "src/pages/static/"]
struct Files;

struct Index {
    /// plain name → hashed name
    hashed: HashMap<String, String>,
    /// hashed name → plain name
    plain: HashMap<String, String>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut hashed = HashMap::new();
        let mut plain = HashMap::new();
        for name in Files::iter() {
            let Some(file) = Files::get(&name) else {
                continue;
            };
            let hash = hex::encode(&file.metadata.sha256_hash()[..4]);
            let with_hash = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            plain.insert(with_hash.clone(), name.to_string());
            hashed.insert(name.to_string(), with_hash);
        }
        Index { hashed, plain }
    })
}

/// The URL of an embedded file under its hashed name (`app.css` → `/static/app.1a2b3c4d.css`).
pub fn url(name: &str) -> String {
    match index().hashed.get(name) {
        Some(h) => format!("/static/{h}"),
        None => format!("/static/{name}"),
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `GET /static/{name}`.
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    let (file, cache) = match index().plain.get(&name) {
        Some(plain) => (Files::get(plain), "public, max-age=31536000, immutable"),
        None => (Files::get(&name), "public, max-age=3600"),
    };
    match file {
        Some(f) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type(&name)))
            .insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(f.data.into_owned()),
        None => super::error::PageError::NotFound.page(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_hashed_name_that_leads_back_to_it() {
        let css = url("app.css");
        assert!(css.starts_with("/static/app.") && css.ends_with(".css") && css.len() > 20);
        let hashed = css.trim_start_matches("/static/");
        assert_eq!(
            index().plain.get(hashed).map(String::as_str),
            Some("app.css")
        );
        assert_eq!(url("nothing.css"), "/static/nothing.css");
    }
}
