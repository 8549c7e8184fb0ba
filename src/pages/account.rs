//! `/login`, `/register` and `/logout`: the API's accounts, password checks and limits, with
//! a cookie session instead of tokens.

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::layout::{see_other, Layout};
use super::session::{self, PageForm, Viewer};
use super::zh;
use crate::auth::limiter::Limits;
use crate::auth::password::HashGate;
use crate::auth::routes::{
    check_password, client_address, create_account, NewAccount, RegisterRequest,
};
use crate::db::DbPool;
use crate::http::error::{ApiError, FieldError};
use crate::http::text::{EmailText, Line};

/// Messages shown beside a form's fields.
#[derive(Debug, Default)]
pub struct FieldMessages(pub Vec<(String, String)>);

impl FieldMessages {
    /// The message for `field` (the domain's field name, or its last part:
    /// `shipping_address.phone` answers to `phone`).
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field || f.rsplit('.').next() == Some(field))
            .map(|(_, m)| m.as_str())
    }

    pub fn from_errors(errors: &[FieldError]) -> Self {
        FieldMessages(
            errors
                .iter()
                .map(|e| (e.field.clone(), zh::message(e)))
                .collect(),
        )
    }
}

/// Where to go after signing in: only a path on this site.
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control);
    if ok {
        next
    } else {
        "/"
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    email: String,
    display_name: String,
    next: String,
    problem: Option<String>,
    errors: FieldMessages,
}

fn respond(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// `GET /login`.
pub async fn login_form(req: HttpRequest, viewer: Viewer) -> Result<HttpResponse, PageError> {
    let q: NextQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    respond(
        StatusCode::OK,
        &LoginPage {
            layout: viewer.layout("登录").at("login"),
            email: String::new(),
            next: safe_next(&q.next).to_owned(),
            problem: None,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: the API's password check and login limits.
#[allow(clippy::too_many_arguments)]
pub async fn login(
    req: HttpRequest,
    viewer: Viewer,
    session: Session,
    pool: web::Data<DbPool>,
    gate: web::Data<HashGate>,
    limits: web::Data<Limits>,
    form: PageForm<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let LoginForm {
        email,
        password,
        next,
    } = form.0;
    let next = safe_next(&next).to_owned();
    let outcome = check_password(
        &pool,
        &gate,
        **limits,
        &email,
        password,
        client_address(&req),
        |_, _| Ok(()),
    )
    .await;
    let (status, problem, retry) = match outcome {
        Ok((user, ())) => {
            session::sign_in(&session, user.id);
            return Ok(see_other(&next));
        }
        Err(ApiError::Unauthorized) => (
            StatusCode::UNAUTHORIZED,
            "邮箱或密码不正确。".to_owned(),
            None,
        ),
        Err(ApiError::RateLimited { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("尝试次数过多，请 {} 秒后再试。", retry_after_secs.max(1)),
            Some(retry_after_secs),
        ),
        Err(other) => return Err(other.into()),
    };
    let page = LoginPage {
        layout: viewer.layout("登录").at("login"),
        email: email
            .chars()
            .filter(|c| !c.is_control())
            .take(254)
            .collect(),
        next,
        problem: Some(problem),
    };
    let mut res = respond(status, &page)?;
    if let Some(s) = retry {
        res.headers_mut().insert(header::RETRY_AFTER, s.into());
    }
    Ok(res)
}

/// `GET /register`.
pub async fn register_form(req: HttpRequest, viewer: Viewer) -> Result<HttpResponse, PageError> {
    let q: NextQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    respond(
        StatusCode::OK,
        &RegisterPage {
            layout: viewer.layout("注册").at("login"),
            email: String::new(),
            display_name: String::new(),
            next: safe_next(&q.next).to_owned(),
            problem: None,
            errors: FieldMessages::default(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    next: String,
}

/// `POST /register`: the API's account rules and registration limit; signs the new
/// shopper in.
#[allow(clippy::too_many_arguments)]
pub async fn register(
    req: HttpRequest,
    viewer: Viewer,
    session: Session,
    pool: web::Data<DbPool>,
    gate: web::Data<HashGate>,
    limits: web::Data<Limits>,
    form: PageForm<RegisterForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.0;
    let next = safe_next(&f.next).to_owned();
    let request = RegisterRequest {
        email: EmailText(f.email.clone()),
        password: f.password,
        display_name: Line(f.display_name.clone()),
        phone: None,
    };
    let outcome = match NewAccount::try_from(request) {
        Ok(account) => {
            create_account(
                &pool,
                &gate,
                **limits,
                account,
                client_address(&req),
                |_, _| Ok(()),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let (status, problem, errors) = match outcome {
        Ok((user, ())) => {
            session::sign_in(&session, user.id);
            return Ok(see_other(&next));
        }
        Err(ApiError::Validation(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            FieldMessages::from_errors(&errors),
        ),
        Err(ApiError::Conflict(_)) => (
            StatusCode::CONFLICT,
            None,
            FieldMessages(vec![(
                "email".into(),
                "这个邮箱已经注册过，请直接登录。".into(),
            )]),
        ),
        Err(ApiError::RateLimited { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            Some(format!(
                "注册太频繁，请 {} 秒后再试。",
                retry_after_secs.max(1)
            )),
            FieldMessages::default(),
        ),
        Err(other) => return Err(other.into()),
    };
    let clean = |s: &str, n: usize| s.chars().filter(|c| !c.is_control()).take(n).collect();
    respond(
        status,
        &RegisterPage {
            layout: viewer.layout("注册").at("login"),
            email: clean(&f.email, 254),
            display_name: clean(&f.display_name, 64),
            next,
            problem,
            errors,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct Nothing {}

/// `POST /logout`.
pub async fn logout(session: Session, _form: PageForm<Nothing>) -> HttpResponse {
    session::sign_out(&session);
    see_other("/")
}
