//! `GET /log/checkpoint`: the current signed checkpoint (C2SP tlog-checkpoint in a C2SP
//! signed note: Ed25519 signature, then SM2), with the parent's cosignature line(s) (C2SP
//! `cosignature/v1`) when the parent co-signed this size. Not cacheable beyond a second: it
//! moves.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use elicense_app::federation::witness;

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/log/checkpoint", tag = "public",
    responses((status = 200, description = "Signed checkpoint, co-signed by the parent when it did", content_type = "text/plain; charset=utf-8", body = String)))]
pub async fn handler(State(s): State<AppState>) -> ApiResult<Response> {
    let note = witness::published_checkpoint(&s.node).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        note,
    )
        .into_response())
}
