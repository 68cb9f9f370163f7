//! Sign-in through the node's OpenID Connect provider (`elicense_app::wallet::oidc`):
//! `GET /wallet/oidc/start?next=` sends the browser to the provider with a pre-login cookie;
//! `GET /wallet/oidc/callback` finishes, opens a session exactly as the password sign-in does
//! (`auth::open_session`) and goes on to a safe `next` (`redirect::local_path`, wallet paths
//! only).
//!
//! Invariants: without a configured provider both answer `404 oidc.not_configured`; a client
//! address starts at most `oidc::START_RATE` sign-ins (`429 oidc.throttled`, `Retry-After`); the
//! pre-login cookie is HttpOnly, `SameSite=Lax` (the provider's redirect back is a top-level
//! navigation from another site), `__Host-` and `Secure` over https, and cleared by the
//! callback whatever its outcome; a refusal renders as a page with its stable code. The
//! callback's `Server-Timing` names the time spent waiting for the provider (`idp`) beside
//! the node's whole time (`app`).

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use elicense_app::wallet::oidc::{self, Callback, Oidc};
use elicense_app::AppError;

use super::auth::{open_session, safe_next, set_cookie, NextQuery};
use super::{cookie, PageError, T};
use crate::client::Client;
use crate::state::AppState;

fn provider(s: &AppState) -> Result<&Oidc, AppError> {
    s.oidc.as_deref().ok_or_else(|| {
        AppError::not_found(
            "oidc.not_configured",
            "this node has no OpenID Connect provider",
        )
    })
}

fn page_error(t: T, error: AppError) -> Response {
    PageError {
        t,
        error,
        back: "/wallet/login",
    }
    .into_response()
}

/// Sends the browser to the provider.
pub async fn start(
    State(s): State<AppState>,
    t: T,
    Client(client): Client,
    Query(q): Query<NextQuery>,
) -> Response {
    let started = match provider(&s) {
        Ok(o) => {
            o.start(&s.node, &safe_next(q.next.as_deref()), client)
                .await
        }
        Err(e) => Err(e),
    };
    match started {
        Ok(st) => {
            let mut resp = Redirect::to(&st.location).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    &s,
                    oidc::cookie_name(&s.node.config),
                    &st.cookie,
                    oidc::LOGIN_SECS,
                    "Lax",
                ),
            );
            resp
        }
        Err(e) => page_error(t, e),
    }
}

/// Finishes a sign-in at the provider's redirect back.
pub async fn callback(
    State(s): State<AppState>,
    t: T,
    Client(client): Client,
    headers: HeaderMap,
    Query(cb): Query<Callback>,
) -> Response {
    let name = oidc::cookie_name(&s.node.config);
    let done = match provider(&s) {
        Ok(o) => o.finish(&s.node, cb, cookie(&headers, name), client).await,
        Err(e) => Err(e),
    };
    let mut resp = match done {
        Ok(done) => match open_session(&s, &headers, &done.identity.account, &done.next).await {
            Ok(mut resp) => {
                let idp = format!("idp;dur={:.3}", done.provider_time.as_secs_f64() * 1000.0);
                if let Ok(v) = HeaderValue::from_str(&idp) {
                    resp.headers_mut().insert("server-timing", v);
                }
                resp
            }
            Err(e) => page_error(t, e),
        },
        Err(e) => page_error(t, e),
    };
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&s, name, "", 0, "Lax"));
    resp
}
