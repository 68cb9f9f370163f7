//! `POST /oid4vci/token`: the token endpoint (OAuth 2.0, pre-authorized code grant of
//! OpenID4VCI §6): the pre-authorized code and its transaction code give an access token.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Json;
use elicense_app::wallet::vci::{self, AccessToken, TokenRequest};
use elicense_app::{AppError, ErrorKind};
use serde::Deserialize;

use super::no_store;
use crate::error::OAuthError;
use crate::state::AppState;

/// The form fields of a token request.
#[allow(dead_code)]
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    /// `urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    pub grant_type: String,
    /// The pre-authorized code of the credential offer.
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    /// The transaction code the holder's wallet showed (6 digits).
    pub tx_code: String,
}

#[utoipa::path(post, path = "/oid4vci/token", tag = "oid4vci",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = AccessToken, description = "A bearer access token for the offer's one credential (valid 5 minutes); `Cache-Control: no-store`"),
        (status = 400, body = crate::error::OAuthErrorBody, description = "`invalid_request` (`vci.missing_parameter`, `vci.tx_code_required`, `vci.form_required`), `unsupported_grant_type`, `invalid_grant` (`vci.unknown_code`, `vci.offer_expired`, `vci.code_used`, `vci.wrong_tx_code`, `vci.offer_burnt` after 5 wrong transaction codes)")))]
pub async fn handler(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = body.ok().filter(|_| form).ok_or_else(|| {
        AppError::new(
            ErrorKind::Invalid,
            "vci.form_required",
            "send the token request as application/x-www-form-urlencoded",
        )
    })?;
    let token = vci::token(&s.node, &TokenRequest::from_form(&body)).await?;
    Ok(no_store(Json(token)))
}
