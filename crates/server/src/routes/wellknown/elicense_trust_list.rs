//! `GET /.well-known/elicense-trust-list`: the signed trust list as a compact JWS
//! (`application/jwt`, `typ: elicense-trust-list+jwt`, signed with the hub's node key): the
//! hub's own, every other node's cached copy. Public; `404 trust_list.none` while the node
//! holds none (a standalone node, or a member that has not fetched one yet).

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use elicense_app::AppError;

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/.well-known/elicense-trust-list", tag = "public",
    responses(
        (status = 200, description = "The trust list (compact JWS)", content_type = "application/jwt", body = String),
        (status = 404, body = crate::error::ErrorBody, description = "`trust_list.none`: this node holds no trust list yet")))]
pub async fn handler(State(s): State<AppState>) -> ApiResult<Response> {
    let jws = s.node.trust.jws().ok_or_else(|| {
        AppError::not_found("trust_list.none", "this node holds no trust list yet")
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwt"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=1"),
            ),
        ],
        jws.to_string(),
    )
        .into_response())
}
