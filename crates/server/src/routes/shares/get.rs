//! `GET /api/v1/shares/{id}`: one of the institution's requests, with the annotated copy once
//! granted.

use axum::extract::{Path, State};
use axum::Json;
use elicense_app::institutions::{self, ShareView};

use crate::auth::Institution;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/shares/{id}", tag = "institution",
    security(("institution_key" = [])),
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, body = ShareView),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`share.not_found`: no such request of this institution")))]
pub async fn handler(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path(id): Path<String>,
) -> ApiResult<Json<ShareView>> {
    Ok(Json(institutions::get(&s.node, &inst, &id).await?))
}
