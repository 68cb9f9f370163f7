//! `GET /api/v1/catalogue`: every license type (latest version) with its data items.

use axum::extract::State;
use axum::Json;
use elicense_app::catalogue::TypeView;

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/catalogue", tag = "public",
    responses((status = 200, body = Vec<TypeView>)))]
pub async fn handler(State(s): State<AppState>) -> ApiResult<Json<Vec<TypeView>>> {
    let types = s.node.catalogue.all().await?;
    Ok(Json(types.iter().map(|t| TypeView::of(t)).collect()))
}
