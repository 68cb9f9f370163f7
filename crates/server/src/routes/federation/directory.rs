//! `GET /federation/v1/directory/{identifier}`: the node that owns a license version and its
//! public status: this node's own, its subtree's (from upward sync), or the hub's answer.

use axum::extract::State;
use axum::Json;
use elicense_app::federation::directory::{self, Location};
use elicense_app::{AppError, ErrorKind};

use crate::error::ApiResult;
use crate::ident::LicensePath;
use crate::state::AppState;

#[utoipa::path(get, path = "/federation/v1/directory/{identifier}", tag = "federation",
    params(("identifier" = String, Path, description = "License identifier (GB/T 36901)")),
    responses(
        (status = 200, body = Location),
        (status = 400, body = crate::error::ErrorBody, description = "Not an identifier (`identifier.*`)"),
        (status = 404, body = crate::error::ErrorBody, description = "`directory.not_found`"),
        (status = 503, body = crate::error::ErrorBody, description = "The hub could not be asked (`federation.unreachable`)")))]
pub async fn handler(
    State(s): State<AppState>,
    LicensePath(id): LicensePath,
) -> ApiResult<Json<Location>> {
    match directory::locate(&s.node, &id).await? {
        Some(l) => Ok(Json(l)),
        None => Err(AppError::new(
            ErrorKind::NotFound,
            "directory.not_found",
            format!("no node of the network holds {id}"),
        )
        .into()),
    }
}
