//! `POST /oid4vci/nonce`: the nonce endpoint (OpenID4VCI §7): a fresh `c_nonce` for a proof.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Serialize;

use super::no_store;
use crate::error::OAuthError;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NonceResponse {
    /// A nonce for the `nonce` claim of one proof: single use, valid 5 minutes.
    pub c_nonce: String,
}

#[utoipa::path(post, path = "/oid4vci/nonce", tag = "oid4vci",
    responses((status = 200, body = NonceResponse, description = "A fresh nonce; `Cache-Control: no-store`")))]
pub async fn handler(State(s): State<AppState>) -> Result<Response, OAuthError> {
    let c_nonce = elicense_app::wallet::vci::nonce(&s.node).await?;
    Ok(no_store(Json(NonceResponse { c_nonce })))
}
