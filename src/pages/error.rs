//! What a page answers when it cannot show what was asked: a Chinese page with no internals,
//! or, for a visitor who must sign in first, a 303 to `/login`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::layout::Layout;
use crate::http::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not signed in: go to the login page, then back to `next`.
    #[error("sign in first")]
    Login { next: String },
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A form without this session's CSRF token.
    #[error("csrf")]
    Csrf,
    #[error("too many attempts")]
    TooMany { retry_after: u64 },
    #[error("busy")]
    Busy { retry_after: u64 },
    #[error("internal")]
    Internal,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

impl PageError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            PageError::Login { .. } => (StatusCode::SEE_OTHER, "请先登录", String::new()),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "无权访问",
                "您的账号不能打开这个页面。如需帮助，请联系平台客服。".into(),
            ),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "页面不存在",
                "您要找的页面不存在或已下架。".into(),
            ),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "请求有误", m.clone()),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "页面已过期",
                "为了您的账号安全，请返回上一页，刷新后再提交一次。".into(),
            ),
            PageError::TooMany { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "尝试次数过多",
                "请稍等几分钟再试。".into(),
            ),
            PageError::Busy { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "商城正忙",
                "现在访问的人很多，请稍后刷新页面。".into(),
            ),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "出错了",
                "服务器暂时出了问题，我们会尽快处理，请稍后再试。".into(),
            ),
        }
    }

    /// The page itself.
    pub fn page(&self) -> HttpResponse {
        let (status, heading, message) = self.parts();
        if let PageError::Login { next } = self {
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .insert_header((header::CACHE_CONTROL, "private, no-store"))
                .finish();
        }
        let body = ErrorPage {
            layout: Layout::bare(heading),
            status: status.as_u16(),
            heading,
            message,
        }
        .render()
        .unwrap_or_else(|_| heading.to_owned());
        let mut res = HttpResponse::build(status);
        res.content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "private, no-store"));
        if let PageError::Busy { retry_after } | PageError::TooMany { retry_after } = self {
            res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        res.body(body)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        self.page()
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound => PageError::NotFound,
            ApiError::Forbidden(_) => PageError::Forbidden,
            ApiError::Unauthorized => PageError::Login { next: "/".into() },
            ApiError::Unavailable(_) => PageError::Busy { retry_after: 2 },
            ApiError::RateLimited { retry_after_secs } => PageError::TooMany {
                retry_after: retry_after_secs,
            },
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "page failed");
                PageError::Internal
            }
            ApiError::PayloadTooLarge => PageError::BadRequest("提交的内容太大。".into()),
            other => PageError::BadRequest(super::zh::problem(&other)),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "template failed");
        PageError::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(res: HttpResponse) -> String {
        let bytes = actix_web::body::to_bytes(res.into_body());
        let bytes = futures_util::FutureExt::now_or_never(bytes)
            .and_then(Result::ok)
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn every_error_is_a_chinese_page_without_internals() {
        for (e, status, words) in [
            (PageError::NotFound, 404, "页面不存在"),
            (PageError::Forbidden, 403, "无权访问"),
            (PageError::Csrf, 403, "页面已过期"),
            (PageError::Busy { retry_after: 2 }, 503, "商城正忙"),
            (PageError::Internal, 500, "出错了"),
            (
                PageError::from(ApiError::internal("secret table broke")),
                500,
                "出错了",
            ),
        ] {
            let res = e.page();
            assert_eq!(res.status().as_u16(), status);
            assert_eq!(
                res.headers()
                    .get(header::CACHE_CONTROL)
                    .and_then(|v| v.to_str().ok()),
                Some("private, no-store")
            );
            let busy = res.headers().get(header::RETRY_AFTER).is_some();
            assert_eq!(busy, status == 503, "Retry-After only when busy");
            let text = body(res);
            assert!(text.contains(words), "{status}: {text}");
            assert!(!text.contains("secret"), "no internals on the page");
        }
        let res = PageError::Login {
            next: "/orders?x=1".into(),
        }
        .page();
        assert_eq!(res.status().as_u16(), 303);
        assert_eq!(
            res.headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/login?next=%2Forders%3Fx%3D1")
        );
    }
}
