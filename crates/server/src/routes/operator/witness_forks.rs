//! `GET /api/v1/operator/witness/forks`: the children's checkpoints this node, as their
//! witness, refused as inconsistent with one it co-signed (forked or rewritten logs), oldest
//! first, paged by report number.

use axum::extract::{Query, State};
use axum::Json;
use elicense_app::federation::witness::{self, ForkReport};
use serde::Deserialize;

use crate::auth::Operator;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Only reports with a number (`id`) above this; 0 from the start.
    #[serde(default)]
    pub after: i64,
    /// At most this many (1 to 500, default 100).
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    100
}

#[utoipa::path(get, path = "/api/v1/operator/witness/forks", tag = "operator",
    security(("operator_key" = [])),
    params(Page),
    responses(
        (status = 200, body = [ForkReport]),
        (status = 400, body = crate::error::ErrorBody, description = "Malformed query"),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    _operator: Operator,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<ForkReport>>> {
    Ok(Json(witness::forks(&s.node, page.after, page.limit).await?))
}
