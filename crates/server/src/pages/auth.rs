//! Signing in and out of the wallet, and the extractors that require a signed-in holder:
//! [`Holder`] for pages (redirects to the sign-in page) and [`ApiHolder`] for the wallet's
//! JSON endpoints (401 with a stable code).

use askama::Template;
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use elicense_app::wallet::{session, Identity};
use elicense_app::{AppError, ErrorKind};
use serde::Deserialize;

use super::{cookie, render, Back, T};
use crate::error::ApiError;
use crate::state::AppState;

async fn identity(parts: &Parts, s: &AppState) -> Result<Option<Identity>, AppError> {
    let Some(token) = cookie(&parts.headers, session::COOKIE) else {
        return Ok(None);
    };
    let Some(account) = session::check(&s.node, token) else {
        return Ok(None);
    };
    s.identity.identity(&account).await
}

/// A signed-in holder, for pages.
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
            Err(e) => Err(ApiError(e).into_response()),
        }
    }
}

/// A signed-in holder, for JSON endpoints.
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
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/wallet") && !n.contains("//") && !n.contains('\\') => n.into(),
        _ => "/wallet".into(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    t: T,
    back: String,
    failed: bool,
    next: String,
    username: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(
    t: T,
    Back(back): Back,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    render(&Login {
        t,
        back,
        failed: false,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

fn session_cookie(s: &AppState, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if s.node.config.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        session::COOKIE
    ))
    .ok()
}

pub async fn login(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Form(f): Form<LoginForm>,
) -> Response {
    match s.identity.sign_in(&f.username, &f.password).await {
        Ok(Some(id)) => {
            let token = session::issue(&s.node, &id.account);
            let mut resp = Redirect::to(&safe_next(f.next.as_deref())).into_response();
            if let Some(c) = session_cookie(&s, &token, session::SESSION_SECS) {
                resp.headers_mut().insert(header::SET_COOKIE, c);
            }
            resp
        }
        Ok(None) => (
            StatusCode::UNAUTHORIZED,
            render(&Login {
                t,
                back,
                failed: true,
                next: safe_next(f.next.as_deref()),
                username: f.username,
            }),
        )
            .into_response(),
        Err(e) => super::PageError {
            t,
            error: e,
            back: "/wallet/login",
        }
        .into_response(),
    }
}

pub async fn logout(State(s): State<AppState>) -> Response {
    let mut resp = Redirect::to("/").into_response();
    if let Some(c) = session_cookie(&s, "", 0) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}
