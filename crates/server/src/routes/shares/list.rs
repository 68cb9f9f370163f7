//! `GET /api/v1/shares`: the institution's requests, newest first.

use axum::extract::{Query, State};
use axum::Json;
use elicense_app::institutions::{self, ShareView};
use serde::Deserialize;

use crate::auth::Institution;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/shares", tag = "institution",
    security(("institution_key" = [])),
    params(ListQuery),
    responses((status = 200, body = Vec<ShareView>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<ShareView>>> {
    Ok(Json(
        institutions::of_institution(&s.node, &inst, q.limit.unwrap_or(100)).await?,
    ))
}
