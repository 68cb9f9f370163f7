//! Body extractors whose failures are API errors with stable codes (not axum's plain text).

use axum::extract::rejection::{BytesRejection, FormRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use elicense_app::ErrorKind;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON body: a malformed body is `request.malformed`, an oversized one `request.too_large`.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::BytesRejection(b)) => Err(bytes_error(b)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                ErrorKind::Invalid,
                "request.unsupported_media_type",
                "send the body as application/json",
            )),
            Err(e) => Err(ApiError::new(
                ErrorKind::Invalid,
                "request.malformed",
                e.body_text(),
            )),
        }
    }
}

/// Maps a body-reading failure.
pub fn bytes_error(e: BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorKind::Invalid,
            "request.too_large",
            format!("the body is larger than {} bytes", crate::MAX_BODY),
        )
    } else {
        ApiError::new(ErrorKind::Invalid, "request.malformed", e.body_text())
    }
}

/// A url-encoded form body (`application/x-www-form-urlencoded`): a malformed one is
/// `request.malformed`, another media type `request.unsupported_media_type`.
pub struct FormBody<T>(pub T);

impl<S, T> FromRequest<S> for FormBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(FormBody(v)),
            Err(FormRejection::BytesRejection(b)) => Err(bytes_error(b)),
            Err(FormRejection::InvalidFormContentType(_)) => Err(ApiError::new(
                ErrorKind::Invalid,
                "request.unsupported_media_type",
                "send the body as application/x-www-form-urlencoded",
            )),
            Err(e) => Err(ApiError::new(
                ErrorKind::Invalid,
                "request.malformed",
                e.body_text(),
            )),
        }
    }
}
