//! The one place where errors become HTTP responses: `{"error":{"code","message"}}` with a
//! status chosen by the error's kind. Codes are stable; messages are for people.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use elicense_app::{AppError, ErrorKind};
use serde::Serialize;

/// An error as the API returns it.
#[derive(Debug)]
pub struct ApiError(pub AppError);

/// The error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `identifier.bad_check`, `auth.invalid_key`.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(AppError::new(kind, code, message))
    }

    pub fn status(&self) -> StatusCode {
        match self.0.kind {
            ErrorKind::Invalid => match self.0.code {
                "request.too_large"
                | "sdjwt.too_large"
                | "verify.image_too_large"
                | "witness.too_large" => StatusCode::PAYLOAD_TOO_LARGE,
                // C2SP tlog-witness: a checkpoint the witness cannot prove consistent.
                "witness.inconsistent"
                | "witness.root_mismatch"
                | "witness.bad_empty_root"
                | "witness.proof_from_zero" => StatusCode::UNPROCESSABLE_ENTITY,
                "request.unsupported_media_type" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "route.method_not_allowed" => StatusCode::METHOD_NOT_ALLOWED,
                _ => StatusCode::BAD_REQUEST,
            },
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = retry_after(&self.0);
        if status.is_server_error() {
            tracing::error!(code = self.0.code, error = %self.0.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code.to_string(),
                message: self.0.message,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(v) = retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}

/// The `Retry-After` header of a throttled request (seconds).
pub fn retry_after(e: &AppError) -> Option<axum::http::HeaderValue> {
    match e.kind {
        ErrorKind::Throttled { retry_after_secs } => Some(retry_after_secs.max(1).into()),
        _ => None,
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// An error of the OpenID4VCI endpoints (`routes/oid4vci/`), answered as OAuth 2.0 errors
/// (RFC 6749 §5.2, RFC 6750 §3.1, OpenID4VCI §6.3 and §8.3.1.2): `{"error": "invalid_grant",
/// "error_description": …, "code": "vci.wrong_tx_code"}` with `Cache-Control: no-store`; the
/// status is [`ApiError::status`]'s, and `invalid_token` carries
/// `WWW-Authenticate: Bearer error="invalid_token"`. Errors that are no OAuth error (storage
/// unavailable, a bug) are `server_error` (or `temporarily_unavailable`).
#[derive(Debug)]
pub struct OAuthError(pub AppError);

/// The body of an [`OAuthError`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    /// The OAuth or OpenID4VCI error code (`invalid_request`, `invalid_grant`,
    /// `unsupported_grant_type`, `invalid_token`, `invalid_credential_request`,
    /// `unknown_credential_configuration`, `invalid_proof`, `invalid_nonce`,
    /// `credential_request_denied`, `server_error`, `temporarily_unavailable`).
    pub error: String,
    pub error_description: String,
    /// The node's stable code (`vci.*`, or the code of a node error).
    pub code: String,
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> Self {
        OAuthError(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let api = ApiError(self.0);
        let status = api.status();
        let error = match elicense_app::wallet::vci::oauth_error(api.0.code) {
            Some(e) => e,
            None if status == StatusCode::SERVICE_UNAVAILABLE => "temporarily_unavailable",
            None if status.is_server_error() => "server_error",
            None => "invalid_request",
        };
        if status.is_server_error() {
            tracing::error!(code = api.0.code, error = %api.0.message, "OpenID4VCI request failed");
        }
        let body = OAuthErrorBody {
            error: error.to_owned(),
            error_description: api.0.message,
            code: api.0.code.to_owned(),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        resp
    }
}
