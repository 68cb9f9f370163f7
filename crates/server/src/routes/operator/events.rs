//! `GET /api/v1/operator/events`: what the operator did (revocations, retirements,
//! disablings, enablings), oldest first, paged by event number.

use axum::extract::{Query, State};
use axum::Json;
use elicense_app::operator::{self, OperatorEvent};

use super::Page;
use crate::auth::Operator;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/operator/events", tag = "operator",
    security(("operator_key" = [])),
    params(Page),
    responses(
        (status = 200, body = [OperatorEvent]),
        (status = 400, body = crate::error::ErrorBody, description = "Malformed query"),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    _operator: Operator,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<OperatorEvent>>> {
    Ok(Json(
        operator::events(&s.node, page.after, page.limit).await?,
    ))
}
