//! Verification at the counter with OpenID4VP, for an institution
//! (`Authorization: Bearer eli_…`): `POST /api/v1/presentation-requests` starts a request
//! for a matter (the counter shows its `qr` link), `GET /api/v1/presentation-requests[/{id}]`
//! polls it: once the holder has answered, `state` is `granted` (with the sharing request
//! and its annotated copy) or `refused`. Over `elicense_app::institutions::presentations`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use elicense_app::institutions::presentations::{self, RequestView, StartRequest};
use serde::Deserialize;

use crate::auth::Institution;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/presentation-requests", tag = "institution",
    security(("institution_key" = [])),
    request_body = StartRequest,
    responses(
        (status = 201, body = RequestView, description = "Started: show `qr` to the holder; poll GET /api/v1/presentation-requests/{id} or wait for the webhook"),
        (status = 400, body = crate::error::ErrorBody, description = "`share.missing_purpose`, `share.bad_period`, `vp.bad_response_mode`, `vp.bad_webhook`, `share.unknown_staff`, `share.unknown_matter`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`share.out_of_scope`, `share.staff_not_assigned`, `share.staff_disabled`")))]
pub async fn create(
    State(s): State<AppState>,
    Institution(inst): Institution,
    JsonBody(req): JsonBody<StartRequest>,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    let view = presentations::start(&s.node, &inst, req).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// At most this many, newest first (1 to 1000, default 100).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/presentation-requests", tag = "institution",
    security(("institution_key" = [])),
    params(ListQuery),
    responses((status = 200, body = [RequestView]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<RequestView>>> {
    Ok(Json(
        presentations::list(&s.node, &inst, q.limit.unwrap_or(100)).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/presentation-requests/{id}", tag = "institution",
    security(("institution_key" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, body = RequestView),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`vp.not_found` (also for another institution's request)")))]
pub async fn get(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(presentations::get(&s.node, &inst, &id).await?))
}
