//! `POST /oid4vci/credential`: the credential endpoint (OpenID4VCI §8): with the access token
//! and a JWT proof of possession, the offered license as an SD-JWT VC bound to the proof's key.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::no_store;
use crate::error::OAuthError;
use crate::state::AppState;

/// A credential request.
#[allow(dead_code)]
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CredentialRequest {
    /// The license type code the offer names.
    pub credential_configuration_id: String,
    /// `{"jwt": ["<proof>"]}`: exactly one JWT proof (`typ` `openid4vci-proof+jwt`, `jwk` in
    /// the header, ES256 or EdDSA, `aud` the credential issuer, `nonce` a `c_nonce`, `iat`).
    #[schema(value_type = Object)]
    pub proofs: serde_json::Value,
}

/// One issued credential.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedCredential {
    /// The SD-JWT VC (`dc+sd-jwt`) with every disclosure, `cnf.jwk` the proof's key.
    pub credential: String,
}

/// A credential response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialResponse {
    pub credentials: Vec<IssuedCredential>,
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[utoipa::path(post, path = "/oid4vci/credential", tag = "oid4vci",
    security(("oid4vci_token" = [])),
    request_body = CredentialRequest,
    responses(
        (status = 200, body = CredentialResponse, description = "The credential; the offer is used up and the holder's history shows the export"),
        (status = 400, body = crate::error::OAuthErrorBody, description = "`invalid_credential_request` (`vci.bad_request`, `vci.not_offered`), `unknown_credential_configuration`, `invalid_proof` (`vci.proof_malformed`, `vci.proof_type`, `vci.proof_alg`, `vci.proof_key`, `vci.proof_signature`, `vci.proof_audience`, `vci.proof_stale`), `invalid_nonce`, `credential_request_denied` (`vci.license_unavailable`: superseded or no longer in force since the offer)"),
        (status = 401, body = crate::error::OAuthErrorBody, description = "`invalid_token` (`vci.invalid_token`, `vci.token_expired`, `vci.token_used`)")))]
pub async fn handler(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let body: serde_json::Value = body
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    // A body that is no JSON object is refused as `vci.bad_request`, after the token check.
    let credential =
        elicense_app::wallet::vci::credential(&s.node, bearer(&headers), &body).await?;
    Ok(no_store(Json(CredentialResponse {
        credentials: vec![IssuedCredential { credential }],
    })))
}
