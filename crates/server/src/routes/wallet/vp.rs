//! `POST /api/v1/wallet/vp/{id}/prepare` and `POST /api/v1/wallet/vp/{id}/answer`: the
//! wallet's answer to a counter's OpenID4VP request, in two steps (the browser signs the
//! key-binding JWT with its device key between them). Over `elicense_app::wallet::openid4vp`.

use axum::extract::{Path, State};
use axum::Json;
use elicense_app::institutions::presentations::ResponseAck;
use elicense_app::wallet::openid4vp;
use serde::{Deserialize, Serialize};

use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::pages::auth::ApiHolder;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VpPrepareRequest {
    /// The license to answer with (GB/T 36904 identifier).
    pub identifier: String,
    /// Thumbprint of the device key registered for it.
    pub jkt: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VpPrepared {
    /// The SD-JWT with exactly the disclosures asked for, ending with `~`.
    pub presentation: String,
    /// The KB-JWT signing input (`aud` the verifier, the request's `nonce`) to sign with the
    /// device key (ES256, raw r‖s).
    pub signing_input: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VpAnswerRequest {
    pub identifier: String,
    /// As prepared.
    pub presentation: String,
    /// As prepared.
    pub signing_input: String,
    /// base64url of the device key's 64-byte signature of `signing_input`.
    pub signature: String,
    /// For a joint matter (several license types): the licenses answering its other parts,
    /// each prepared and signed the same way. All parts are answered at once.
    #[serde(default)]
    pub more: Vec<VpAnswerPart>,
}

/// One more license of a joint matter's answer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VpAnswerPart {
    pub identifier: String,
    pub presentation: String,
    pub signing_input: String,
    pub signature: String,
}

impl VpAnswerPart {
    fn parse(self) -> Result<openid4vp::PartAnswer, elicense_app::AppError> {
        Ok(openid4vp::PartAnswer {
            identifier: crate::ident::parse(&self.identifier)?,
            presentation: self.presentation,
            signing_input: self.signing_input,
            signature: self.signature,
        })
    }
}

#[utoipa::path(post, path = "/api/v1/wallet/vp/{id}/prepare", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "The presentation request's id")),
    request_body = VpPrepareRequest,
    responses((status = 200, body = VpPrepared),
        (status = 400, body = crate::error::ErrorBody, description = "`vp.expired`, `vp.wrong_type`, a malformed identifier"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`wallet.agent_scope`"),
        (status = 404, body = crate::error::ErrorBody, description = "`vp.not_found`, `wallet.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`vp.answered`, `wallet.not_bound`")))]
pub async fn prepare(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    Path(rid): Path<String>,
    JsonBody(req): JsonBody<VpPrepareRequest>,
) -> ApiResult<Json<VpPrepared>> {
    let identifier = crate::ident::parse(&req.identifier)?;
    let p = openid4vp::prepare(&s.node, &id, &rid, &identifier, &req.jkt).await?;
    Ok(Json(VpPrepared {
        presentation: p.presentation,
        signing_input: p.signing_input,
    }))
}

#[utoipa::path(post, path = "/api/v1/wallet/vp/{id}/answer", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "The presentation request's id")),
    request_body = VpAnswerRequest,
    responses((status = 200, body = ResponseAck, description = "The verifier's answer: `granted`"),
        (status = 400, body = crate::error::ErrorBody, description = "The verifier refused the answer (`vp.*`; `vp.wrong_type` for a license of no part of the matter, `vp.bad_vp_token` for a part answered twice or not at all), or a malformed identifier"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`vp.not_found`, `wallet.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`vp.answered`")))]
pub async fn answer(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    Path(rid): Path<String>,
    JsonBody(req): JsonBody<VpAnswerRequest>,
) -> ApiResult<Json<ResponseAck>> {
    let first = VpAnswerPart {
        identifier: req.identifier,
        presentation: req.presentation,
        signing_input: req.signing_input,
        signature: req.signature,
    };
    let answers = std::iter::once(first)
        .chain(req.more)
        .map(VpAnswerPart::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let ack = openid4vp::answer(&s.node, &id, &rid, &answers).await?;
    Ok(Json(ack))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ForeignPrepareRequest {
    /// The other verifier's request object, as the consent page got it.
    pub jar: String,
    pub identifier: String,
    pub jkt: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ForeignAnswerRequest {
    pub jar: String,
    pub identifier: String,
    pub presentation: String,
    pub signing_input: String,
    pub signature: String,
}

#[utoipa::path(post, path = "/api/v1/wallet/vp-foreign/prepare", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    request_body = ForeignPrepareRequest,
    responses((status = 200, body = VpPrepared),
        (status = 400, body = crate::error::ErrorBody, description = "`wallet.vp_bad_request` (the request object does not verify), `wallet.vp_foreign` (an origin not listed), `vp.expired`, `vp.wrong_type`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`wallet.agent_scope`"),
        (status = 404, body = crate::error::ErrorBody, description = "`wallet.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`wallet.not_bound`")))]
pub async fn foreign_prepare(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    JsonBody(req): JsonBody<ForeignPrepareRequest>,
) -> ApiResult<Json<VpPrepared>> {
    let identifier = crate::ident::parse(&req.identifier)?;
    let p =
        elicense_app::wallet::vp_foreign::prepare(&s.node, &id, &req.jar, &identifier, &req.jkt)
            .await?;
    Ok(Json(VpPrepared {
        presentation: p.presentation,
        signing_input: p.signing_input,
    }))
}

#[utoipa::path(post, path = "/api/v1/wallet/vp-foreign/answer", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    request_body = ForeignAnswerRequest,
    responses((status = 200, body = elicense_app::wallet::vp_foreign::Sent, description = "The verifier accepted the answer"),
        (status = 400, body = crate::error::ErrorBody, description = "`wallet.vp_not_accepted` (the verifier refused it), `wallet.vp_bad_request`, `wallet.vp_foreign`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`wallet.agent_scope`"),
        (status = 404, body = crate::error::ErrorBody, description = "`wallet.not_found`"),
        (status = 503, body = crate::error::ErrorBody, description = "`wallet.vp_unreachable`")))]
pub async fn foreign_answer(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    JsonBody(req): JsonBody<ForeignAnswerRequest>,
) -> ApiResult<Json<elicense_app::wallet::vp_foreign::Sent>> {
    let identifier = crate::ident::parse(&req.identifier)?;
    Ok(Json(
        elicense_app::wallet::vp_foreign::answer(
            &s.node,
            &id,
            &req.jar,
            &identifier,
            &req.presentation,
            &req.signing_input,
            &req.signature,
        )
        .await?,
    ))
}
