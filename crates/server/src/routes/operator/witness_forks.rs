//! `GET /api/v1/operator/witness/forks`: the children's checkpoints this node, as their
//! witness, refused as inconsistent with one it co-signed (forked or rewritten logs), oldest
//! first, paged by report number.

use axum::extract::{Query, State};
use axum::Json;
use elicense_app::federation::witness::{self, ForkReport};

use super::Page;
use crate::auth::Operator;
use crate::error::ApiResult;
use crate::state::AppState;

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
