//! `GET /federation/v1/directory/{identifier}`: the node that owns a license version and its
//! status, as the owning node says and signs (found through this node's subtree, the trust
//! list's issuer, or the hub).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use elicense_app::federation::directory::{self, Location, Scope};
use elicense_app::{AppError, ErrorKind};

use crate::error::{ApiError, ApiResult};
use crate::ident::LicensePath;
use crate::state::AppState;

#[utoipa::path(get, path = "/federation/v1/directory/{identifier}", tag = "federation",
    params(("identifier" = String, Path, description = "License identifier (GB/T 36901)"),
        ScopeQuery),
    responses(
        (status = 200, body = Location),
        (status = 400, body = crate::error::ErrorBody, description = "Not an identifier (`identifier.*`)"),
        (status = 404, body = crate::error::ErrorBody, description = "`directory.not_found`"),
        (status = 503, body = crate::error::ErrorBody, description = "The owning node or the hub could not be asked (`federation.unreachable`), or its answer did not verify (`federation.bad_answer`)")))]
pub async fn handler(
    State(s): State<AppState>,
    LicensePath(id): LicensePath,
    q: Result<Query<ScopeQuery>, QueryRejection>,
) -> ApiResult<Json<Location>> {
    let Query(q) =
        q.map_err(|e| ApiError::new(ErrorKind::Invalid, "request.malformed", e.body_text()))?;
    match directory::locate(&s.node, &id, q.scope).await? {
        Some(l) => Ok(Json(l)),
        None => Err(AppError::new(
            ErrorKind::NotFound,
            "directory.not_found",
            format!("no node of the network holds {id}"),
        )
        .into()),
    }
}

/// The query of a lookup.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScopeQuery {
    /// `own`: answer only for this node's own licenses, never asking another node (what
    /// nodes ask of each other); `network` (the default): find the owner.
    #[serde(default)]
    #[param(inline)]
    scope: Scope,
}
