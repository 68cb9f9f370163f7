//! `GET /status-lists/{id}`: a Token Status List token (`application/statuslist+jwt`), with
//! an ETag (answers `304` to a matching `If-None-Match`) and short caching. An id that is not
//! a list of this node, numeric or not, is `404 status_list.not_found`.

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
pub async fn handler(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let not_found = || AppError::not_found("status_list.not_found", format!("no status list {id}"));
    let list: u32 = id.parse().map_err(|_| not_found())?;
    let now = s.node.now();
    let token = s
        .node
        .status
        .token(list, now)
        .await?
        .ok_or_else(not_found)?;
    let etag = HeaderValue::from_str(&token.etag).map_err(|e| AppError::internal(e.to_string()))?;
    let cache = HeaderValue::from_static("public, max-age=1, must-revalidate");
    if headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| etag_matches(v, &token.etag)))
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/statuslist+jwt"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        token.jwt,
    )
        .into_response())
}

/// Whether an `If-None-Match` value matches `etag`: `*`, or a comma-separated list compared
/// weakly (RFC 9110 §13.1.2: `W/` prefixes are ignored).
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let etag = strip(etag);
    if_none_match.trim() == "*" || if_none_match.split(',').any(|t| strip(t) == etag)
}

#[cfg(test)]
mod tests {
    use super::etag_matches;

    #[test]
    fn if_none_match_forms() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
        assert!(!etag_matches("abc", "\"abc\""));
    }
}
