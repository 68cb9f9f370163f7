//! OpenID4VCI 1.0 (pre-authorized code flow): the endpoints another wallet calls to take a
//! license a holder offered (`elicense_app::wallet::vci`). They authenticate by the
//! pre-authorized code and the access token only: no cookie (the CSRF layer passes them by,
//! `csrf::is_cookieless`), no API key. Errors are OAuth errors (`error::OAuthError`), every
//! answer `Cache-Control: no-store`.

pub mod credential;
pub mod nonce;
pub mod token;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// `Cache-Control: no-store` on `resp` (RFC 6749 §5.1; OpenID4VCI §7.2).
pub fn no_store(resp: impl IntoResponse) -> Response {
    let mut resp = resp.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
