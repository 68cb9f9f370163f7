//! `GET /api/v1/log/proof/consistency?from=&to=`: RFC 9162 consistency proof between the
//! trees of `from` and `to` leaves.

use axum::extract::{Query, State};
use axum::Json;
use elicense_app::log;
use serde::Deserialize;

use super::ProofBody;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConsistencyQuery {
    /// Older tree size.
    pub from: u64,
    /// Newer tree size.
    pub to: u64,
}

#[utoipa::path(get, path = "/api/v1/log/proof/consistency", tag = "public",
    params(ConsistencyQuery),
    responses((status = 200, body = ProofBody), (status = 400, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ProofBody>> {
    let hashes = log::consistency_proof(&s.node, q.from, q.to).await?;
    Ok(Json(ProofBody {
        hashes: log::hashes_b64(&hashes),
    }))
}
