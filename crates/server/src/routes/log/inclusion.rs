//! `GET /api/v1/log/proof/inclusion?index=&size=`: RFC 9162 inclusion proof of leaf
//! `index` in the tree of `size` leaves.

use axum::extract::{Query, State};
use axum::Json;
use elicense_app::log;
use serde::Deserialize;

use super::ProofBody;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InclusionQuery {
    /// Leaf index.
    pub index: u64,
    /// Tree size (of a checkpoint).
    pub size: u64,
}

#[utoipa::path(get, path = "/api/v1/log/proof/inclusion", tag = "public",
    params(InclusionQuery),
    responses((status = 200, body = ProofBody), (status = 400, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<Json<ProofBody>> {
    let hashes = log::inclusion_proof(&s.node, q.index, q.size).await?;
    Ok(Json(ProofBody {
        hashes: log::hashes_b64(&hashes),
    }))
}
