//! `POST /api/v1/wallet/licenses/{identifier}/binding`: registers the device's public key.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::ident::LicensePath;
use crate::pages::auth::ApiHolder;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BindRequest {
    /// The device's public key, a P-256 JWK (WebCrypto, non-extractable private part).
    #[schema(value_type = Object)]
    pub jwk: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BindResponse {
    /// RFC 7638 thumbprint of the key.
    pub jkt: String,
}

#[utoipa::path(post, path = "/api/v1/wallet/licenses/{identifier}/binding", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    params(("identifier" = String, Path, description = "GB/T 36904 identifier")),
    request_body = BindRequest,
    responses((status = 200, body = BindResponse), (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`, e.g. `identifier.bad_check`) or other bad input"),
        (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    LicensePath(identifier): LicensePath,
    JsonBody(req): JsonBody<BindRequest>,
) -> ApiResult<Json<BindResponse>> {
    let jkt = elicense_app::wallet::present::bind(&s.node, &id, &identifier, &req.jwk.to_string())
        .await?;
    Ok(Json(BindResponse { jkt }))
}
