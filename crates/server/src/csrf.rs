//! CSRF defence of cookie-authenticated requests: the wallet pages, their forms, the sign-in
//! form and the wallet's JSON endpoints. `SameSite=Lax` alone lets any same-site origin post
//! with the holder's cookie; this adds an origin check and synchronizer tokens
//! (`elicense_app::wallet::csrf`).
//!
//! Invariants:
//! - [`layer`] runs before every route. An unsafe request (not GET, HEAD or OPTIONS) that
//!   carries the session or the pre-session cookie is refused with 403 `csrf.cross_origin`
//!   when its `Origin`, or without one (or with `Origin: null`) its `Sec-Fetch-Site`, says
//!   it comes from another origin than the node's own (`base_url`). A request with neither
//!   header is not from a current browser and goes on to the token check.
//! - [`layer`] takes the token from the `X-CSRF-Token` header or from the `csrf` field of a
//!   url-encoded form, and marks the request [`Verified`] only when it is the token of the
//!   request's session (or, without a session cookie, of its pre-session).
//! - Everything that acts for a holder extracts `pages::auth::{Holder, ApiHolder}` or
//!   [`Checked`] (sign-in, sign-out); each refuses an unsafe request that is not
//!   [`Verified`] with 403 `csrf.bad_token`. So a new route that acts for a holder cannot
//!   forget the check, and public routes (a QR photo upload) are not affected by a cookie.
//! - The OpenID4VCI and OpenID4VP wallet endpoints ([`is_cookieless`]) are called by other
//!   wallets: the layer removes their cookies and checks nothing; they authenticate by their
//!   own tokens (OpenID4VCI) or by the presentation itself (OpenID4VP).
//! - A request with a session or pre-session cookie carries its [`PageToken`], which pages
//!   render into each form (`csrf` field), into `<meta name="csrf-token">` (read by
//!   `wallet.js`) and into `hx-headers` on `<body>` (sent by htmx); no inline script.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use elicense_app::wallet::csrf::{self, Binding, CsrfToken};
use elicense_app::wallet::session::{self, SessionId};
use elicense_app::{AppError, ErrorKind, NodeConfig};

use crate::error::ApiError;
use crate::pages::{cookie, PageError, T};
use crate::state::AppState;

/// Largest url-encoded form body searched for the token.
const MAX_FORM: usize = 64 * 1024;

/// The request carried the token of its session or pre-session.
#[derive(Debug, Clone, Copy)]
pub struct Verified;

/// The token pages render for this request's viewer.
#[derive(Debug, Clone, Copy)]
pub struct PageToken(pub CsrfToken);

/// What a request's token must be bound to.
enum Bound {
    Session(SessionId),
    PreSession(String),
    Nothing,
}

impl Bound {
    fn of(headers: &HeaderMap, config: &NodeConfig) -> Bound {
        if let Some(id) = cookie(headers, session::cookie_name(config)).and_then(SessionId::parse) {
            return Bound::Session(id);
        }
        match cookie(headers, csrf::presession_cookie_name(config)) {
            Some(v) => Bound::PreSession(v.to_owned()),
            None => Bound::Nothing,
        }
    }

    fn binding(&self) -> Option<Binding<'_>> {
        match self {
            Bound::Session(id) => Some(Binding::Session(id)),
            Bound::PreSession(v) => Some(Binding::PreSession(v)),
            Bound::Nothing => None,
        }
    }
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `scheme://host[:port]` of a URL, lowercased, without a default port.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("https", Some((host, "443"))) | ("http", Some((host, "80"))) => host.to_owned(),
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

/// Whether a browser request comes from the node's own origin: its `Origin` header when it
/// names one, else its `Sec-Fetch-Site`; a request with neither is not a browser's.
///
/// `Origin: null` names none: browsers send it for the pages' own form posts, because the
/// pages' `Referrer-Policy` is `no-referrer` (Fetch, "serializing a request origin"), and
/// also from sandboxed frames; `Sec-Fetch-Site` tells them apart, and without it the
/// request is refused.
pub fn same_origin(base_url: &str, origin: Option<&str>, fetch_site: Option<&str>) -> bool {
    let site_ok = |site: &str| matches!(site, "same-origin" | "none");
    match (origin, fetch_site) {
        (Some("null"), site) => site.is_some_and(site_ok),
        (Some(o), _) => origin_of(o).is_some_and(|o| Some(o) == origin_of(base_url)),
        (None, Some(site)) => site_ok(site),
        (None, None) => true,
    }
}

/// The `csrf` field of a url-encoded form (a token is base64url: nothing to decode).
fn form_field(body: &[u8]) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == csrf::FIELD)
        .map(|(_, v)| v.to_owned())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Routes that other wallets call without cookies (the OpenID4VCI endpoints, authenticated
/// by the pre-authorized code or the access token; the OpenID4VP request objects and
/// responses, which stand on the presentation's own key binding): the layer drops any cookie
/// from the request, so nothing downstream can act on a browser session there.
pub fn is_cookieless(path: &str) -> bool {
    path.starts_with("/oid4vci/") || path.starts_with("/oid4vp/")
}

/// The middleware: origin check, token check, and the page token.
pub async fn layer(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    if is_cookieless(req.uri().path()) {
        req.headers_mut().remove(header::COOKIE);
        return next.run(req).await;
    }
    let config = &s.node.config;
    let now = s.node.now();
    let bound = Bound::of(req.headers(), config);
    let (mut parts, body) = req.into_parts();
    let Some(binding) = bound.binding() else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    if let Some(t) = csrf::token(config, binding, now) {
        parts.extensions.insert(PageToken(t));
    }
    if is_safe(&parts.method) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let h = &parts.headers;
    let header_value = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    if !same_origin(
        &config.base_url,
        header_value("origin"),
        header_value("sec-fetch-site"),
    ) {
        let e = AppError::forbidden(
            "csrf.cross_origin",
            format!(
                "this request comes from another site; open the wallet at {}",
                config.base_url
            ),
        );
        return reject(&mut parts, e).await;
    }
    let (given, body) = match header_value(csrf::HEADER) {
        Some(v) => (Some(v.to_owned()), body),
        None if is_form(h) => match axum::body::to_bytes(body, MAX_FORM).await {
            Ok(bytes) => (form_field(&bytes), Body::from(bytes)),
            Err(_) => {
                let e = AppError::new(
                    ErrorKind::Invalid,
                    "request.too_large",
                    "the form is too large",
                );
                return reject(&mut parts, e).await;
            }
        },
        None => (None, body),
    };
    if given.is_some_and(|g| csrf::check(config, binding, &g, now)) {
        parts.extensions.insert(Verified);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// `csrf.bad_token` for an unsafe request without a valid token.
pub fn require(parts: &Parts) -> Result<(), AppError> {
    if is_safe(&parts.method) || parts.extensions.get::<Verified>().is_some() {
        return Ok(());
    }
    Err(AppError::forbidden(
        "csrf.bad_token",
        "the form or request lacks a valid token; reload the page and try again",
    ))
}

/// A refusal as the route would answer: JSON under `/api/`, else a page.
pub async fn reject(parts: &mut Parts, e: AppError) -> Response {
    if parts.uri.path().starts_with("/api/") {
        return ApiError(e).into_response();
    }
    let Ok(t) = T::from_request_parts(parts, &()).await;
    PageError {
        t,
        error: e,
        back: "/wallet",
    }
    .into_response()
}

/// An unsafe request with a valid token (sign-in, sign-out).
pub struct Checked;

impl FromRequestParts<AppState> for Checked {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Response> {
        match require(parts) {
            Ok(()) => Ok(Checked),
            Err(e) => Err(reject(parts, e).await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let base = "http://127.0.0.1:8080";
        assert!(same_origin(base, Some("http://127.0.0.1:8080"), None));
        assert!(same_origin(
            base,
            Some("HTTP://127.0.0.1:8080"),
            Some("cross-site")
        ));
        assert!(!same_origin(base, Some("http://127.0.0.1:8081"), None));
        assert!(!same_origin(base, Some("http://localhost:8080"), None));
        assert!(!same_origin(base, Some("null"), None));
        assert!(!same_origin(base, Some("null"), Some("cross-site")));
        assert!(
            same_origin(base, Some("null"), Some("same-origin")),
            "no-referrer pages"
        );
        assert!(!same_origin(base, Some("https://127.0.0.1:8080"), None));
        let https = "https://zwfw.example.gov.cn/elicense";
        assert!(same_origin(
            https,
            Some("https://zwfw.example.gov.cn"),
            None
        ));
        assert!(same_origin(
            https,
            Some("https://zwfw.example.gov.cn:443"),
            None
        ));
        assert!(!same_origin(
            https,
            Some("https://evil.example.gov.cn"),
            None
        ));
        assert!(!same_origin(
            https,
            Some("https://zwfw.example.gov.cn.evil.com"),
            None
        ));
        // Without Origin, the fetch metadata decides; without both, the token does.
        assert!(same_origin(base, None, Some("same-origin")));
        assert!(!same_origin(base, None, Some("same-site")));
        assert!(!same_origin(base, None, Some("cross-site")));
        assert!(same_origin(base, None, None));
    }

    #[test]
    fn the_form_field_is_found_among_others() {
        assert_eq!(
            form_field(b"username=a&csrf=abc-_1&password=b").as_deref(),
            Some("abc-_1")
        );
        assert_eq!(form_field(b"username=a").as_deref(), None);
        assert_eq!(form_field(b"xcsrf=1").as_deref(), None);
    }
}
