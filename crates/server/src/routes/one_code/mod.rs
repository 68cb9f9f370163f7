//! One code (一码通), for an institution (`Authorization: Bearer eli_…`):
//! `POST /api/v1/one-code/scans` turns the code a holder's wallet shows (valid a minute) into a
//! handle (valid five minutes) with which `POST /api/v1/presentation-requests` addresses a
//! request to that person. Over `elicense_app::one_code`.

use axum::extract::State;
use axum::Json;
use elicense_app::one_code::{self, Handle};
use serde::Deserialize;

use crate::auth::Institution;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scan {
    /// What the holder's code carries (`elicense-code:…`).
    pub code: String,
    /// The username of the registered staff member at the counter.
    pub staff: String,
}

#[utoipa::path(post, path = "/api/v1/one-code/scans", tag = "institution",
    security(("institution_key" = [])),
    request_body = Scan,
    responses(
        (status = 200, body = Handle, description = "The handle: give it as `handle` to POST /api/v1/presentation-requests"),
        (status = 400, body = crate::error::ErrorBody, description = "`code.invalid`, `code.expired`, `share.unknown_staff`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`share.staff_disabled`")))]
pub async fn scan(
    State(s): State<AppState>,
    Institution(inst): Institution,
    JsonBody(scan): JsonBody<Scan>,
) -> ApiResult<Json<Handle>> {
    Ok(Json(
        one_code::scan(&s.node, &inst, &scan.code, &scan.staff).await?,
    ))
}
