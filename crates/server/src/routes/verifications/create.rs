//! `POST /api/v1/verifications`: verify a credential or presentation (public).
//!
//! The body is the compact SD-JWT itself (`application/dc+sd-jwt`, `application/sd-jwt` or
//! `text/plain`), or JSON `{"credential": "...", "nonce": "...", "audience": "..."}`.
//! Anyone may call it; an institution that sends its API key has its verification recorded
//! as a use of the license (event `verify`, in the holder's history and the log).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use elicense_app::verify::{verify, Verdict, VerifyOptions};
use elicense_app::ErrorKind;
use serde::Deserialize;

use crate::auth::MaybeInstitution;
use crate::body::bytes_error;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// JSON form of a verification request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VerificationRequest {
    /// Compact SD-JWT VC, with or without a KB-JWT.
    pub credential: String,
    #[serde(flatten)]
    pub options: VerifyOptions,
}

#[utoipa::path(post, path = "/api/v1/verifications", tag = "public",
    security((), ("institution_key" = [])),
    request_body(content(
        (VerificationRequest = "application/json"),
        (String = "application/dc+sd-jwt"),
        (String = "text/plain"))),
    responses(
        (status = 200, body = Verdict, description = "Checked: `valid` says whether every check passed; `problems` names the ones that failed"),
        (status = 400, body = crate::error::ErrorBody, description = "Malformed credential"),
        (status = 401, body = crate::error::ErrorBody, description = "An Authorization header whose key is not valid"),
        (status = 413, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    MaybeInstitution(institution): MaybeInstitution,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Verdict>> {
    let body = body.map_err(bytes_error)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let (credential, options) = if is_json {
        let req: VerificationRequest = serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorKind::Invalid, "request.malformed", e.to_string()))?;
        (req.credential, req.options)
    } else {
        let text = String::from_utf8(body.to_vec()).map_err(|_| {
            ApiError::new(
                ErrorKind::Invalid,
                "request.malformed",
                "the body is not UTF-8",
            )
        })?;
        (text, VerifyOptions::default())
    };
    let verdict = verify(&s.node, &credential, &options).await?;
    if let Some(inst) = &institution {
        elicense_app::institutions::record_verification(&s.node, inst, &verdict).await?;
    }
    metrics::counter!("elicense_verifications_total", "valid" => verdict.valid.to_string())
        .increment(1);
    Ok(Json(verdict))
}
