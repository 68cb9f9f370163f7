//! `POST /api/v1/licenses`: an issuer issues a license.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use elicense_app::catalogue::type_code;
use elicense_app::issue::{issue, IssueRequest, Issued};
use elicense_app::AppError;

use crate::auth::Issuer;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/licenses", tag = "issuer",
    security(("api_key" = [])),
    request_body = IssueRequest,
    responses(
        (status = 201, body = Issued, description = "Issued"),
        (status = 400, body = crate::error::ErrorBody, description = "Invalid data; nothing stored"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "Not this issuer's license type or identity"),
        (status = 404, body = crate::error::ErrorBody, description = "Unknown license type or issuer"),
        (status = 413, body = crate::error::ErrorBody, description = "Body over 256 KiB"),
        (status = 415, body = crate::error::ErrorBody, description = "Body is not application/json")))]
pub async fn handler(
    State(s): State<AppState>,
    Issuer(key): Issuer,
    JsonBody(mut req): JsonBody<IssueRequest>,
) -> ApiResult<(StatusCode, Json<Issued>)> {
    if req.issuer.is_empty() {
        req.issuer = key.issuer.clone();
    }
    if req.issuer != key.issuer {
        return Err(AppError::forbidden(
            "auth.wrong_issuer",
            format!("this API key acts for {}, not {}", key.issuer, req.issuer),
        )
        .into());
    }
    // A malformed type code is bad input (400), not an unknown type (404).
    type_code(&req.type_code)?;
    req.actor = format!("api-key:{}", key.id);
    let issued = issue(&s.node, req).await?;
    metrics::counter!("elicense_licenses_issued_total").increment(1);
    Ok((StatusCode::CREATED, Json(issued)))
}
