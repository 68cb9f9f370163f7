//! `POST /api/v1/wallet/licenses/{identifier}/presentations/prepare` and
//! `POST /api/v1/wallet/licenses/{identifier}/presentations`: the two steps of showing a
//! license; the browser signs between them with its device key.

use axum::extract::State;
use axum::Json;
use elicense_app::wallet::present;
use serde::{Deserialize, Serialize};

use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::ident::LicensePath;
use crate::pages::auth::ApiHolder;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PrepareRequest {
    /// Thumbprint of the registered device key.
    pub jkt: String,
    /// Claims to disclose.
    pub fields: Vec<String>,
    /// Code of the matter the license is shown for.
    pub matter: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PrepareResponse {
    /// Reference of the prepared presentation, to complete with the signature.
    pub id: String,
    /// The SD-JWT with the chosen disclosures, ending with `~`.
    pub presentation: String,
    /// The KB-JWT signing input to sign with the device key (ES256, raw r‖s).
    pub signing_input: String,
}

#[utoipa::path(post, path = "/api/v1/wallet/licenses/{identifier}/presentations/prepare", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    params(("identifier" = String, Path, description = "GB/T 36904 identifier")),
    request_body = PrepareRequest,
    responses((status = 200, body = PrepareResponse), (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`, e.g. `identifier.bad_check`) or other bad input"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody, description = "The device key is not registered")))]
pub async fn prepare(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    LicensePath(identifier): LicensePath,
    JsonBody(req): JsonBody<PrepareRequest>,
) -> ApiResult<Json<PrepareResponse>> {
    let p = present::prepare(
        &s.node,
        &id,
        &identifier,
        &req.jkt,
        &req.fields,
        req.matter.as_deref().filter(|m| !m.is_empty()),
    )
    .await?;
    Ok(Json(PrepareResponse {
        id: p.id,
        presentation: p.presentation,
        signing_input: p.signing_input,
    }))
}

/// The signature of a prepared presentation. The node signs nothing else in: the disclosures,
/// the nonce and the matter are the ones it stored at `prepare`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CompleteRequest {
    /// `id` from the prepare step.
    pub id: String,
    /// base64url of the 64-byte ES256 signature (r‖s) of `signing_input`.
    pub signature: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompleteResponse {
    /// Reference of the stored presentation.
    pub id: String,
    /// The verification link the QR code carries.
    pub url: String,
    /// Unix seconds after which the presentation no longer verifies.
    pub expires_at: i64,
    /// Seconds until then, by the node's clock.
    pub expires_in: i64,
    /// The QR code of `url`, as SVG.
    pub qr_svg: String,
}

#[utoipa::path(post, path = "/api/v1/wallet/licenses/{identifier}/presentations", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    params(("identifier" = String, Path, description = "GB/T 36904 identifier")),
    request_body = CompleteRequest,
    responses((status = 200, body = CompleteResponse), (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`, e.g. `identifier.bad_check`) or other bad input"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "No such prepared presentation"),
        (status = 409, body = crate::error::ErrorBody, description = "The license was superseded, or the prepared presentation expired")))]
pub async fn complete(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    LicensePath(identifier): LicensePath,
    JsonBody(req): JsonBody<CompleteRequest>,
) -> ApiResult<Json<CompleteResponse>> {
    let shown = present::complete(&s.node, &id, &identifier, &req.id, &req.signature).await?;
    let qr_svg = elicense_face::qr_svg(&shown.url).map_err(|e| {
        elicense_app::AppError::new(elicense_app::ErrorKind::Internal, e.code(), e.to_string())
    })?;
    Ok(Json(CompleteResponse {
        expires_in: shown.expires_at - s.node.now(),
        id: shown.id,
        url: shown.url,
        expires_at: shown.expires_at,
        qr_svg,
    }))
}
