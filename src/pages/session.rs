//! Page sessions: an encrypted, signed cookie (`HttpOnly`, `SameSite=Lax`, `Secure` behind
//! https) holding the user's id, when they signed in, and the CSRF token every form carries.
//! The role is read from the database on each request, as the API's bearer tokens are.
//! The JSON API never reads this cookie, so a forged cross-site request cannot reach it.

use std::future::Future;
use std::pin::Pin;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionExt, SessionMiddleware};
use actix_web::cookie::{time, Key, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use diesel::prelude::*;
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use super::error::PageError;
use super::layout::Layout;
use crate::auth::{AuthUser, Role};
use crate::config::Secret;
use crate::db::{
    schema::{cooperative_members, users},
    DbPool,
};
use crate::http::blocking;
use crate::ids::UserId;

const USER: &str = "uid";
const SINCE: &str = "since";
const CSRF: &str = "csrf";
/// The hidden input every state-changing form carries.
pub const CSRF_FIELD: &str = "csrf_token";
/// A sign-in lasts this long, however often it is used.
const LIFETIME_DAYS: i64 = 7;

/// The cookie key: 64 bytes derived from the configured (or generated) secret.
pub fn cookie_key(secret: &Secret) -> Key {
    let digest = Sha512::new()
        .chain_update(b"shanhe page sessions\0")
        .chain_update(secret.expose().as_bytes())
        .finalize();
    Key::from(&digest[..])
}

pub fn middleware(key: Key, secure: bool) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name("shanhe_session".into())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_secure(secure)
        .cookie_path("/".into())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(
            PersistentSession::default().session_ttl(time::Duration::days(LIFETIME_DAYS)),
        )
        .build()
}

fn new_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// This session's CSRF token, made on first use.
fn csrf_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(CSRF) {
        return t;
    }
    let t = new_token();
    let _ = session.insert(CSRF, &t);
    t
}

/// Starts a signed-in session: a fresh cookie and a fresh CSRF token (nothing an attacker
/// planted before sign-in survives it).
pub fn sign_in(session: &Session, user: UserId) {
    session.renew();
    session.clear();
    let _ = session.insert(USER, user.to_string());
    let _ = session.insert(SINCE, chrono::Utc::now().timestamp());
    let _ = session.insert(CSRF, new_token());
}

pub fn sign_out(session: &Session) {
    session.purge();
}

fn signed_in_user(session: &Session) -> Option<UserId> {
    let since = session.get::<i64>(SINCE).ok().flatten()?;
    let age = chrono::Utc::now().timestamp() - since;
    if !(0..LIFETIME_DAYS * 86_400).contains(&age) {
        return None;
    }
    session.get::<String>(USER).ok().flatten()?.parse().ok()
}

/// A signed-in user as pages know them.
#[derive(Debug, Clone)]
pub struct PageUser {
    pub auth: AuthUser,
    pub name: String,
    /// Belongs to a co-op (the header offers its console).
    pub coop_member: bool,
}

/// Whoever is looking at a page: signed in or not, with the CSRF token for its forms and
/// the path they asked for (where the login page sends them back to).
pub struct Viewer {
    pub user: Option<PageUser>,
    pub csrf: String,
    pub path: String,
}

impl Viewer {
    /// The signed-in user, or a 303 to `/login` that comes back here.
    pub fn require(&self) -> Result<&PageUser, PageError> {
        self.user.as_ref().ok_or_else(|| PageError::Login {
            next: self.path.clone(),
        })
    }

    pub fn auth(&self) -> Option<&AuthUser> {
        self.user.as_ref().map(|u| &u.auth)
    }

    pub fn layout(&self, title: impl Into<String>) -> Layout {
        let mut layout = Layout::new(
            title,
            self.user.as_ref().map(|u| u.name.clone()),
            self.csrf.clone(),
        );
        if let Some(u) = &self.user {
            layout.console = u.coop_member;
            layout.admin = u.auth.is_admin();
        }
        layout
    }
}

async fn viewer(req: HttpRequest) -> Result<Viewer, PageError> {
    let session = req.get_session();
    let csrf = csrf_token(&session);
    let path = match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_owned(),
        None => "/".to_owned(),
    };
    let Some(id) = signed_in_user(&session) else {
        return Ok(Viewer {
            user: None,
            csrf,
            path,
        });
    };
    let pool = req
        .app_data::<web::Data<DbPool>>()
        .ok_or(PageError::Internal)?
        .clone();
    let found = blocking::run(&pool, move |conn| {
        // one statement: the role, the name, and whether a co-op's console is theirs
        let member = diesel::dsl::exists(
            cooperative_members::table.filter(cooperative_members::user_id.eq(id)),
        );
        users::table
            .find(id)
            .select((users::role, users::display_name, member))
            .first::<(Role, String, bool)>(conn)
            .optional()
            .map_err(crate::http::error::ApiError::from)
    })
    .await?;
    let user = match found {
        Some((role, name, coop_member)) => Some(PageUser {
            auth: AuthUser { id, role },
            name,
            coop_member,
        }),
        None => {
            // the account is gone: so is the session
            session.purge();
            None
        }
    };
    Ok(Viewer { user, csrf, path })
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(viewer(req.clone()))
    }
}

/// Passes when `sent` is this session's CSRF token (else the 403 page).
fn check_csrf(req: &HttpRequest, sent: Option<&str>) -> Result<(), PageError> {
    let expected = req.get_session().get::<String>(CSRF).ok().flatten();
    let valid = match (sent, expected.as_deref()) {
        (Some(s), Some(e)) if !e.is_empty() => bool::from(s.as_bytes().ct_eq(e.as_bytes())),
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(PageError::Csrf)
    }
}

/// A posted `multipart/form-data` form (a file upload): every part as text, at most
/// `UPLOAD_LIMIT` bytes in all, accepted only with this session's CSRF token.
pub struct PageUpload(pub std::collections::HashMap<String, String>);

/// What an upload form may carry in all (a spreadsheet of up to 1 MiB and its fields).
pub const UPLOAD_LIMIT: usize = 1024 * 1024 + 64 * 1024;

impl FromRequest for PageUpload {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use futures_util::StreamExt;
        let req = req.clone();
        let mut form = actix_multipart::Multipart::new(req.headers(), payload.take());
        Box::pin(async move {
            let bad = || PageError::BadRequest("上传的内容无法识别，请重新选择文件。".into());
            let mut parts = std::collections::HashMap::new();
            let mut total = 0usize;
            while let Some(field) = form.next().await {
                let mut field = field.map_err(|_| bad())?;
                let name = field.name().unwrap_or_default().to_owned();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|_| bad())?;
                    total += chunk.len();
                    if total > UPLOAD_LIMIT {
                        return Err(PageError::BadRequest("文件太大：最多 1 MB。".into()));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(bytes).map_err(|_| {
                    PageError::BadRequest(
                        "文件需为 UTF-8 编码的 CSV（在表格软件中另存为“CSV UTF-8”）。".into(),
                    )
                })?;
                parts.insert(name, text);
            }
            check_csrf(&req, parts.get(CSRF_FIELD).map(String::as_str))?;
            Ok(PageUpload(parts))
        })
    }
}

/// A posted form, accepted only with this session's CSRF token (else the 403 page); its
/// fields then deserialize into `T` (a malformed body is the 400 page).
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for PageForm<T> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let bytes = body
                .await
                .map_err(|_| PageError::BadRequest("提交的内容太大或不完整。".into()))?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| PageError::BadRequest("表单内容无法识别。".into()))?;
            let sent = pairs
                .iter()
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v.as_str());
            check_csrf(&req, sent)?;
            serde_urlencoded::from_bytes::<T>(&bytes)
                .map(PageForm)
                .map_err(|_| PageError::BadRequest("表单内容无法识别。".into()))
        })
    }
}
