//! An institution's staff, kept by its administrator with the institution's API key
//! (`Authorization: Bearer eli_…`): `GET /api/v1/staff`, `PUT /api/v1/staff/{username}`
//! (register, or new name and matters), `POST /api/v1/staff/{username}/disabling|enabling`.
//! Over `elicense_app::institutions::staff`.

use axum::extract::{Path, State};
use axum::Json;
use elicense_app::institutions::staff::{self, StaffInput, StaffView};

use crate::auth::Institution;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/staff", tag = "institution",
    security(("institution_key" = [])),
    responses((status = 200, body = Vec<StaffView>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Institution(inst): Institution,
) -> ApiResult<Json<Vec<StaffView>>> {
    Ok(Json(staff::list(&s.node, &inst).await?))
}

#[utoipa::path(put, path = "/api/v1/staff/{username}", tag = "institution",
    security(("institution_key" = [])),
    params(("username" = String, Path, description = "1 to 64 of a-z, 0-9, '.', '_', '-'")),
    request_body = StaffInput,
    responses(
        (status = 200, body = StaffView, description = "Registered, or name and matters replaced"),
        (status = 400, body = crate::error::ErrorBody, description = "`staff.bad_username`, `staff.bad_name`, `staff.no_matters`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`staff.out_of_scope`")))]
pub async fn put(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path(username): Path<String>,
    JsonBody(input): JsonBody<StaffInput>,
) -> ApiResult<Json<StaffView>> {
    Ok(Json(staff::put(&s.node, &inst, &username, input).await?))
}

#[utoipa::path(post, path = "/api/v1/staff/{username}/disabling", tag = "institution",
    security(("institution_key" = [])),
    params(("username" = String, Path, description = "The staff member's username")),
    responses(
        (status = 200, body = StaffView, description = "Disabled: their requests are refused (`share.staff_disabled`)"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`staff.not_found`")))]
pub async fn disabling(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path(username): Path<String>,
) -> ApiResult<Json<StaffView>> {
    Ok(Json(
        staff::set_disabled(&s.node, &inst, &username, true).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/staff/{username}/enabling", tag = "institution",
    security(("institution_key" = [])),
    params(("username" = String, Path, description = "The staff member's username")),
    responses(
        (status = 200, body = StaffView, description = "Enabled again"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`staff.not_found`")))]
pub async fn enabling(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path(username): Path<String>,
) -> ApiResult<Json<StaffView>> {
    Ok(Json(
        staff::set_disabled(&s.node, &inst, &username, false).await?,
    ))
}
