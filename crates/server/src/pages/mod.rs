//! Server-rendered pages (askama templates, htmx for small interactions, no front-end build):
//! the holder wallet under `/wallet`, the public verification pages under `/verify`, and
//! their static assets. Pages speak Simplified Chinese by default with an English switch.
//!
//! Invariants: a page shows personal data only to a signed-in holder who may see the license
//! (see `elicense_app::wallet::licenses`), or the fields a holder chose to disclose in a
//! presentation; errors render as a page with a stable code, never a stack trace; every page
//! carries a strict Content-Security-Policy (scripts and styles from this origin only).

pub mod assets;
pub mod auth;
pub mod counter;
pub mod i18n;
pub mod oidc;
pub mod redirect;
pub mod seals;
pub mod security;
pub mod shares;
pub mod verify;
pub mod vp;
pub mod wallet;

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use elicense_app::AppError;

use crate::error::ApiError;
use crate::state::AppState;
pub use i18n::{Lang, T};

/// One page route: its method, path template and handler. [`router`] is built from
/// [`routes`] and [`route_list`] reads the same entries, so the list cannot drift from what
/// is served (the authorization-matrix test iterates it).
pub struct PageRoute {
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

impl PageRoute {
    fn with_body_limit(mut self, bytes: usize) -> Self {
        self.handler = self
            .handler
            .layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }
}

/// `handler` for `method` at `path`.
fn at<H, X>(method: Method, path: &'static str, handler: H) -> PageRoute
where
    H: Handler<X, AppState>,
    X: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum routes by");
    PageRoute {
        method,
        path,
        handler: on(filter, handler),
    }
}

/// Every page route.
pub fn routes() -> Vec<PageRoute> {
    use Method as M;
    vec![
        at(M::GET, "/", index),
        at(M::GET, "/prefs", prefs),
        at(M::GET, "/assets/{file}", assets::handler),
        at(M::GET, "/wallet/login", auth::login_form),
        at(M::POST, "/wallet/login", auth::login),
        at(M::POST, "/wallet/logout", auth::logout),
        at(M::GET, "/wallet/oidc/start", oidc::start),
        at(M::GET, "/wallet/oidc/callback", oidc::callback),
        at(M::GET, "/wallet", wallet::list),
        at(M::GET, "/wallet/licenses/{identifier}", wallet::detail),
        at(
            M::GET,
            "/wallet/licenses/{identifier}/face/{format}",
            wallet::face,
        ),
        at(
            M::GET,
            "/wallet/licenses/{identifier}/present",
            wallet::present,
        ),
        at(
            M::POST,
            "/wallet/licenses/{identifier}/authorizations",
            wallet::authorize,
        ),
        at(
            M::POST,
            "/wallet/licenses/{identifier}/credential-offer",
            wallet::offer,
        ),
        at(
            M::POST,
            "/wallet/licenses/{identifier}/authorizations/{id}/withdraw",
            wallet::withdraw,
        ),
        at(M::GET, "/wallet/security", security::page),
        at(M::GET, "/wallet/seals", seals::wallet),
        at(M::GET, "/wallet/requests", shares::list),
        at(M::POST, "/wallet/requests/{id}/consent", shares::consent),
        at(M::POST, "/wallet/requests/{id}/refuse", shares::refuse),
        at(M::GET, "/wallet/vp", vp::show),
        at(M::GET, "/wallet/code", vp::code),
        at(M::GET, "/wallet/code/box", vp::code_next),
        at(M::GET, "/counter", counter::page),
        at(M::POST, "/counter/requests", counter::start),
        at(M::GET, "/counter/requests/{id}", counter::request),
        at(
            M::GET,
            "/counter/requests/{id}/status",
            counter::request_status,
        ),
        at(M::POST, "/wallet/vp/{id}/refuse", vp::refuse),
        at(M::POST, "/wallet/vp-foreign/refuse", vp::refuse_foreign),
        at(M::GET, "/seals", seals::page),
        at(M::POST, "/seals/verify", seals::verify).with_body_limit(seals_limit()),
        at(M::GET, "/verify/c/{id}", shares::copy),
        at(M::GET, "/verify", verify::form),
        at(M::GET, "/verify/go", verify::go),
        at(M::POST, "/verify/scan", verify::scan).with_body_limit(verify::MAX_SCAN_BYTES),
        at(M::GET, "/verify/p/{id}", verify::presentation),
        at(M::GET, "/verify/{identifier}", verify::by_identifier),
        at(M::GET, "/verify/{identifier}/{token}", verify::by_face),
    ]
}

/// A sealed PDF upload: the PDF limit plus room for the multipart framing.
fn seals_limit() -> usize {
    elicense_app::seals::document::MAX_PDF_BYTES + 64 * 1024
}

/// (method, path template) of every page route.
pub fn route_list() -> Vec<(Method, &'static str)> {
    routes().into_iter().map(|r| (r.method, r.path)).collect()
}

/// The page routes (the methods of one path are merged by the router).
pub fn router() -> Router<AppState> {
    routes()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .layer(axum::middleware::from_fn(security_headers))
}

/// Headers every page and asset gets.
async fn security_headers(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
             style-src 'self'; script-src 'self'; connect-src 'self'; font-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Server time, for `elicense bench verify-page` and browsers' dev tools.
    // A handler's own entries (the OIDC callback's `idp`) follow the whole time.
    let own = h
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .map(|v| format!(", {v}"))
        .unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "app;dur={:.3}{own}",
        started.elapsed().as_secs_f64() * 1000.0
    )) {
        h.insert("server-timing", v);
    }
    resp
}

/// The value of cookie `name`.
pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl<S: Send + Sync> FromRequestParts<S> for T {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Simplified Chinese unless the viewer switched to English (a cookie).
        let lang = match cookie(&parts.headers, "lang") {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        };
        Ok(T {
            lang,
            large: cookie(&parts.headers, "text") == Some("large"),
            csrf: parts
                .extensions
                .get::<crate::csrf::PageToken>()
                .map(|p| p.0),
        })
    }
}

/// The page's own path and query: where a preference switch returns to.
pub struct Back(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Back {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Back(
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into()),
        ))
    }
}

/// Renders a template as an HTML response.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page.render_failed").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: T,
    back: String,
    title: &'a str,
    message: String,
    code: &'a str,
    back_link: &'a str,
}

/// An error shown as a page: the status of the API's mapping, the stable code, a way back.
pub struct PageError {
    pub t: T,
    pub error: AppError,
    pub back: &'static str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let api = ApiError(self.error);
        let status = api.status();
        if status.is_server_error() {
            tracing::error!(code = api.0.code, error = %api.0.message, "page failed");
        }
        let title = if status == StatusCode::NOT_FOUND {
            self.t.s("not_found_title")
        } else {
            self.t.s("error_title")
        };
        let message = if status.is_server_error() {
            // Details of internal failures stay in the log.
            "internal error".to_owned()
        } else {
            api.0.message.clone()
        };
        let page = ErrorPage {
            t: self.t,
            back: "/".into(),
            title,
            message,
            code: api.0.code,
            back_link: self.back,
        };
        let retry = crate::error::retry_after(&api.0);
        let mut resp = (status, render(&page)).into_response();
        if let Some(v) = retry {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Turns an app result into a page result.
pub trait OrPage<V> {
    fn or_page(self, t: T, back: &'static str) -> Result<V, PageError>;
}

impl<V> OrPage<V> for Result<V, AppError> {
    fn or_page(self, t: T, back: &'static str) -> Result<V, PageError> {
        self.map_err(|error| PageError { t, error, back })
    }
}

#[derive(Template)]
#[template(path = "index.html")]
struct Index {
    t: T,
    back: String,
}

async fn index(t: T, Back(back): Back) -> Response {
    render(&Index { t, back })
}

#[derive(serde::Deserialize)]
struct PrefsQuery {
    lang: Option<String>,
    text: Option<String>,
    back: Option<String>,
}

/// Sets the language or text-size cookie and returns to the page (local paths only).
async fn prefs(axum::extract::Query(q): axum::extract::Query<PrefsQuery>) -> Response {
    let back = q
        .back
        .as_deref()
        .and_then(redirect::local_path)
        .unwrap_or("/");
    let mut resp = Redirect::to(back).into_response();
    let year = "; Path=/; Max-Age=31536000; SameSite=Lax";
    if let Some(lang) = q.lang.filter(|l| l == "en" || l == "zh") {
        if let Ok(v) = HeaderValue::from_str(&format!("lang={lang}{year}")) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    if let Some(text) = q.text.filter(|l| l == "large" || l == "normal") {
        if let Ok(v) = HeaderValue::from_str(&format!("text={text}{year}")) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}
