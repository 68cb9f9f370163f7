//! `GET /log/checkpoint`: the current signed checkpoint (C2SP tlog-checkpoint in a C2SP
//! signed note: Ed25519 signature, then SM2). Not cacheable beyond a second: it moves.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use elicense_app::log;

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/log/checkpoint", tag = "public",
    responses((status = 200, description = "Signed checkpoint", content_type = "text/plain; charset=utf-8", body = String)))]
pub async fn handler(State(s): State<AppState>) -> ApiResult<Response> {
    let cp = log::checkpoint(&s.node).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        cp.note,
    )
        .into_response())
}
