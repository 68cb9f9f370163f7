//! The wallet-facing side of OpenID4VP 1.0 (public, no cookies, no keys): a wallet fetches
//! the signed request object by reference (`GET /oid4vp/requests/{id}`) and posts its
//! response (`POST /oid4vp/responses/{id}`, `direct_post` or `direct_post.jwt`). Over
//! `elicense_app::institutions::presentations`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use elicense_app::institutions::presentations::{self, ResponseAck, ResponseForm};

use crate::body::FormBody;
use crate::error::ApiResult;
use crate::state::AppState;

/// The media type of a request object (RFC 9101).
pub const REQUEST_OBJECT_TYPE: &str = "application/oauth-authz-req+jwt";

#[utoipa::path(get, path = "/oid4vp/requests/{id}", tag = "openid4vp",
    params(("id" = String, Path, description = "The presentation request's id")),
    responses(
        (status = 200, content_type = "application/oauth-authz-req+jwt", body = String,
            description = "The signed request object (JAR): ES256, the verifier certificate in `x5c`, `client_id` `x509_hash:…`, a DCQL query, `nonce`, `state`, `response_mode` and `response_uri`"),
        (status = 400, body = crate::error::ErrorBody, description = "`vp.expired`"),
        (status = 404, body = crate::error::ErrorBody, description = "`vp.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`vp.answered`")))]
pub async fn request_object(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let jar = presentations::request_object(&s.node, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, REQUEST_OBJECT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jar,
    ))
}

#[utoipa::path(post, path = "/oid4vp/responses/{id}", tag = "openid4vp",
    params(("id" = String, Path, description = "The presentation request's id")),
    request_body(content = ResponseForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = ResponseAck, description = "Accepted: `granted` (the institution has its annotated copy) or `refused`"),
        (status = 400, body = crate::error::ErrorBody, description = "`vp.expired`, `vp.encryption_required`, `vp.bad_response`, `vp.state_mismatch`, `vp.bad_vp_token`, `vp.nonce_mismatch`, `vp.audience_mismatch`, `vp.presentation_invalid`, `vp.wrong_type`, `vp.extra_disclosure`, `vp.missing_claim`, `vp.unknown_license`"),
        (status = 403, body = crate::error::ErrorBody, description = "`recognition.not_listed`: a license of a region this node does not recognise for the matter"),
        (status = 404, body = crate::error::ErrorBody, description = "`vp.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`vp.answered`: answered already (a replay, or another wallet)")))]
pub async fn response(
    State(s): State<AppState>,
    Path(id): Path<String>,
    FormBody(form): FormBody<ResponseForm>,
) -> ApiResult<impl IntoResponse> {
    let ack = presentations::respond(&s.node, &id, form).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json::<ResponseAck>(ack),
    ))
}
