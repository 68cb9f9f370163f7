//! `POST /witness/add-checkpoint` (C2SP tlog-witness): the old size, a consistency proof and
//! a signed checkpoint in; the cosignature line(s) out (200), or the known size as
//! `text/x.tlog.size` (409). Other refusals are JSON errors with the spec's statuses: 400
//! malformed or old size above the new one, 403 no valid log signature, 404 unknown log,
//! 422 a proof that does not verify or a second root for a co-signed size (a fork: reported).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use elicense_app::federation::witness::{self, AddAnswer};
use elicense_log::witness::{size_body, LINES_CONTENT_TYPE, SIZE_CONTENT_TYPE};

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(post, path = "/witness/add-checkpoint", tag = "public",
    request_body(content = String, content_type = "text/plain",
        description = "`old <size>`, consistency proof lines (base64), an empty line, the signed checkpoint"),
    responses(
        (status = 200, description = "Cosignature line(s) (C2SP tlog-cosignature, cosignature/v1)", content_type = "text/plain; charset=utf-8", body = String),
        (status = 400, body = crate::error::ErrorBody, description = "Malformed body, or old size above the checkpoint's"),
        (status = 403, body = crate::error::ErrorBody, description = "No valid signature by the log's keys"),
        (status = 404, body = crate::error::ErrorBody, description = "Unknown log origin"),
        (status = 409, description = "The old size is not the one the witness knows, which is the body", content_type = "text/x.tlog.size", body = String),
        (status = 413, body = crate::error::ErrorBody, description = "Body larger than 64 KiB"),
        (status = 422, body = crate::error::ErrorBody, description = "Inconsistent with the co-signed checkpoint")))]
pub async fn handler(
    State(s): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = body.map_err(crate::body::bytes_error)?;
    Ok(match witness::add_checkpoint(&s.node, &body).await? {
        AddAnswer::Cosigned(lines) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(LINES_CONTENT_TYPE),
            )],
            lines,
        )
            .into_response(),
        AddAnswer::SizeMismatch { known } => (
            StatusCode::CONFLICT,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(SIZE_CONTENT_TYPE),
            )],
            size_body(known),
        )
            .into_response(),
    })
}
