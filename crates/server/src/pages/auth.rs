//! Signing in and out of the wallet, and the extractors that require a signed-in holder:
//! [`Holder`] for pages (redirects to the sign-in page) and [`ApiHolder`] for the wallet's
//! JSON endpoints (401 with a stable code).
//!
//! Invariants: a holder is known only through an open session of the store
//! (`elicense_app::wallet::session`), so sign-out and a disabled account end it at once; both
//! extractors, the sign-in and the sign-out refuse an unsafe request without the CSRF token of
//! its session or pre-session (`crate::csrf`); the session cookie is `HttpOnly`,
//! `SameSite=Lax`, and `__Host-`-named and `Secure` when the node is served over https; a
//! throttled or busy sign-in shows the form again with its code, status and `Retry-After`.

use askama::Template;
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use elicense_app::wallet::session::{self, SessionId};
use elicense_app::wallet::{csrf, Identity};
use elicense_app::{AppError, ErrorKind};
use serde::Deserialize;

use super::{cookie, render, Back, PageError, T};
use crate::client::Client;
use crate::csrf::Checked;
use crate::error::ApiError;
use crate::state::AppState;

/// The session secret of the request's cookie, if it has a well-formed one.
fn session_id(headers: &HeaderMap, s: &AppState) -> Option<SessionId> {
    cookie(headers, session::cookie_name(&s.node.config)).and_then(SessionId::parse)
}

/// The holder of the request's open session. With a session cookie, an unsafe request must
/// carry the session's CSRF token (`csrf.bad_token`); without one there is nothing to forge.
async fn identity(parts: &Parts, s: &AppState) -> Result<Option<Identity>, AppError> {
    let Some(id) = session_id(&parts.headers, s) else {
        return Ok(None);
    };
    crate::csrf::require(parts)?;
    let Some(account) = session::resume(&s.node, &id).await? else {
        return Ok(None);
    };
    s.identity.identity(&account).await
}

/// A signed-in holder, for pages (signed out: to the sign-in page).
pub struct Holder(pub Identity);

impl FromRequestParts<AppState> for Holder {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        match identity(parts, s).await {
            Ok(Some(id)) => Ok(Holder(id)),
            Ok(None) => {
                let next = parts.uri.path();
                let to = format!("/wallet/login?next={}", urlencode(next));
                Err(Redirect::to(&to).into_response())
            }
            Err(e) => Err(crate::csrf::reject(parts, e).await),
        }
    }
}

/// A signed-in holder, for JSON endpoints (signed out: 401 `wallet.signed_out`).
pub struct ApiHolder(pub Identity);

impl FromRequestParts<AppState> for ApiHolder {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        match identity(parts, s).await? {
            Some(id) => Ok(ApiHolder(id)),
            None => Err(ApiError::new(
                ErrorKind::Unauthorized,
                "wallet.signed_out",
                "sign in to the wallet first",
            )),
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only local wallet paths are followed after sign-in.
pub(super) fn safe_next(next: Option<&str>) -> String {
    next.and_then(super::redirect::local_path)
        .filter(|n| n.starts_with("/wallet"))
        .unwrap_or("/wallet")
        .into()
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    t: T,
    back: String,
    failed: bool,
    /// Why the form is shown again when it is not a wrong password (throttled, busy).
    refused: Option<AppError>,
    next: String,
    username: String,
    /// The OpenID Connect provider's name, when the node has one.
    oidc: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// A `Set-Cookie` value: HttpOnly, path `/`, `Secure` when the node is served over https
/// (the `__Host-` names need it).
pub(super) fn set_cookie(
    s: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
    same_site: &str,
) -> HeaderValue {
    let secure = if session::is_https(&s.node.config) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    ))
    .expect("cookie names and base64url values are header-safe")
}

fn provider_name(s: &AppState) -> Option<String> {
    s.oidc.as_ref().map(|o| o.settings.provider_name.clone())
}

/// The sign-in form. A viewer without a session or a valid pre-session gets a new
/// pre-session cookie, to which the form's CSRF token is bound.
pub async fn login_form(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    let (t, presession) = match t.csrf {
        Some(_) => (t, None),
        None => {
            let (value, token) = csrf::new_presession(&s.node.config, s.node.now());
            (t.with_csrf(token), Some(value))
        }
    };
    let mut resp = render(&Login {
        t,
        back,
        failed: false,
        refused: None,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        oidc: provider_name(&s),
    });
    if let Some(v) = presession {
        let name = csrf::presession_cookie_name(&s.node.config);
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&s, name, &v, csrf::PRESESSION_SECS, "Strict"),
        );
    }
    resp
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(s): State<AppState>,
    _: Checked,
    t: T,
    Back(back): Back,
    Client(client): Client,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let signed_in = match s.identity.sign_in(&f.username, &f.password, client).await {
        Ok(Some(id)) => {
            open_session(&s, &headers, &id.account, &safe_next(f.next.as_deref())).await
        }
        Ok(None) => {
            let page = Login {
                t,
                back,
                failed: true,
                refused: None,
                next: safe_next(f.next.as_deref()),
                username: f.username,
                oidc: provider_name(&s),
            };
            return (StatusCode::UNAUTHORIZED, render(&page)).into_response();
        }
        Err(e) => Err(e),
    };
    match signed_in {
        Ok(resp) => resp,
        // Throttled or busy: the form again, with the code and when to retry.
        Err(e) if matches!(e.kind, ErrorKind::Throttled { .. }) || e.code == "signin.busy" => {
            let api = ApiError(e);
            let status = api.status();
            let retry = crate::error::retry_after(&api.0);
            let page = Login {
                t,
                back,
                failed: false,
                refused: Some(api.0),
                next: safe_next(f.next.as_deref()),
                username: f.username,
                oidc: provider_name(&s),
            };
            let mut resp = (status, render(&page)).into_response();
            if let Some(v) = retry {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Err(e) => PageError {
            t,
            error: e,
            back: "/wallet/login",
        }
        .into_response(),
    }
}

/// Opens a session for `account`, ending the one this browser had (replaced, not left open
/// beside the new one), and sends the browser to `next` (checked by the caller) with the
/// session cookie; the pre-session cookie has served its purpose and is cleared. Password and
/// OpenID Connect sign-in both end here.
pub(super) async fn open_session(
    s: &AppState,
    headers: &HeaderMap,
    account: &str,
    next: &str,
) -> Result<Response, AppError> {
    if let Some(old) = session_id(headers, s) {
        if let Err(e) = session::end(&s.node, &old).await {
            tracing::warn!(code = e.code, "ending the replaced session failed");
        }
    }
    let id = session::start(&s.node, account).await?;
    let config = &s.node.config;
    let mut resp = Redirect::to(next).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            s,
            session::cookie_name(config),
            &id.cookie_value(),
            session::SESSION_SECS,
            "Lax",
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(s, csrf::presession_cookie_name(config), "", 0, "Strict"),
    );
    Ok(resp)
}

/// Signs out: ends the session in the store at once (a copy of the cookie is signed out
/// too) and clears the cookie. With a session cookie, the request must carry its token.
pub async fn logout(State(s): State<AppState>, parts: Parts) -> Response {
    if let Some(id) = session_id(&parts.headers, &s) {
        let ended = match crate::csrf::require(&parts) {
            Ok(()) => session::end(&s.node, &id).await,
            Err(e) => Err(e),
        };
        if let Err(e) = ended {
            let mut parts = parts;
            return crate::csrf::reject(&mut parts, e).await;
        }
    }
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&s, session::cookie_name(&s.node.config), "", 0, "Lax"),
    );
    resp
}
