//! OpenID4VCI discovery: `GET /.well-known/openid-credential-issuer` (credential issuer
//! metadata, OpenID4VCI §12.2) and `GET /.well-known/oauth-authorization-server` (RFC 8414
//! metadata of the node as the authorization server of the pre-authorized code grant).

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/.well-known/openid-credential-issuer", tag = "oid4vci",
    responses((status = 200, body = Object, description = "Credential issuer metadata: `credential_issuer` (the node's base URL), `credential_endpoint`, `nonce_endpoint`, and one `dc+sd-jwt` configuration per license type of the catalogue (id = type code, `vct`, `cryptographic_binding_methods_supported: [\"jwk\"]`, the algorithms the node signs with, JWT proofs with ES256 or EdDSA, the type's name)")))]
pub async fn issuer(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(
        elicense_app::wallet::vci::issuer_metadata(&s.node).await?,
    ))
}

#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oid4vci",
    responses((status = 200, body = Object, description = "Authorization server metadata: `issuer` (the node's base URL), `token_endpoint`, the pre-authorized code grant only, `pre-authorized_grant_anonymous_access_supported: true`")))]
pub async fn authorization_server(State(s): State<AppState>) -> Json<Value> {
    Json(elicense_app::wallet::vci::authorization_server_metadata(
        &s.node,
    ))
}
