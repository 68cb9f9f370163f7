//! `GET /log/tile/{L}/{N}[.p/{W}]` (hash tiles) and `GET /log/tile/entries/{N}[.p/{W}]`
//! (entry bundles), C2SP tlog-tiles. `N` may span several path segments (`x001/234`), so
//! the route takes the rest of the path and `elicense_log::tiles::TilePath` parses it
//! strictly. Full tiles never change: `Cache-Control: immutable`; partial ones briefly.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use elicense_app::{log, AppError, ErrorKind};
use elicense_log::tiles::TilePath;

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/log/tile/{*path}", tag = "public",
    params(("path" = String, Path,
        pattern = r"^(entries|[0-9]{1,2})/(x[0-9]{3}/)*[0-9]{3}(\.p/[0-9]{1,3})?$",
        description = "The rest of the path, over several segments: `<L>/<N>[.p/<W>]` (hashes at level L) or `entries/<N>[.p/<W>]` (an entry bundle), N in C2SP x-groups (`x001/234`). Its `/` may be sent as is (C2SP tlog-tiles) or percent-encoded as `%2F`; the document names it `{path}`, the router `{*path}`.")),
    responses(
        (status = 200, description = "Tile (hashes) or entry bundle", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, body = crate::error::ErrorBody, description = "Not a tile path"),
        (status = 404, body = crate::error::ErrorBody, description = "Not (yet) in the log")))]
pub async fn handler(State(s): State<AppState>, Path(path): Path<String>) -> ApiResult<Response> {
    let parsed = TilePath::parse(&format!("tile/{path}"))
        .map_err(|e| AppError::new(ErrorKind::Invalid, e.code(), e.to_string()))?;
    let (bytes, full) = match parsed {
        TilePath::Hashes(id) => (log::tile(&s.node, id).await?, id.is_full()),
        TilePath::Entries(id) => (log::bundle(&s.node, id).await?, id.tile().is_full()),
    };
    let cache = if full {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=1"
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        bytes,
    )
        .into_response())
}
