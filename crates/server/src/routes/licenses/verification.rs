//! `GET /api/v1/licenses/{identifier}/verification`: public status by identifier (no personal
//! data: type, issuer, validity, status with reason).

use axum::extract::State;
use axum::Json;
use elicense_app::verify::{public_status, PublicStatus};

use crate::error::ApiResult;
use crate::ident::LicensePath;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/licenses/{identifier}/verification", tag = "public",
    params(("identifier" = String, Path, description = "GB/T 36904 identifier")),
    responses((status = 200, body = PublicStatus), (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`, e.g. `identifier.bad_check`) or other bad input"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    LicensePath(identifier): LicensePath,
) -> ApiResult<Json<PublicStatus>> {
    Ok(Json(public_status(&s.node, &identifier).await?))
}
