//! `GET /status-lists/{id}`: a Token Status List token (`application/statuslist+jwt`), with
//! an ETag (answers `304` to a matching `If-None-Match`) and short caching.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use elicense_app::AppError;

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/status-lists/{id}", tag = "public",
    params(("id" = u32, Path, description = "Status list id")),
    responses(
        (status = 200, description = "Status list token", content_type = "application/statuslist+jwt", body = String),
        (status = 304, description = "Not modified"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn handler(State(s): State<AppState>, Path(id): Path<u32>, headers: HeaderMap) -> ApiResult<Response> {
    let now = s.node.now();
    let token = s
        .node
        .status
        .token(id, now)
        .await?
        .ok_or_else(|| AppError::not_found("status_list.not_found", format!("no status list {id}")))?;
    let etag = HeaderValue::from_str(&token.etag).map_err(|e| AppError::internal(e.to_string()))?;
    let cache = HeaderValue::from_static("public, max-age=1, must-revalidate");
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == token.etag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cache)]).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/statuslist+jwt")),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        token.jwt,
    )
        .into_response())
}
