//! `POST /api/v1/licenses/{identifier}/actions`: a lifecycle action by the issuing authority
//! (change, suspend, reinstate, revoke, cancel, withdraw, extend, annual_inspection, pledge,
//! release, transfer).

use axum::extract::State;
use axum::Json;
use elicense_app::lifecycle::{apply, ActionOutcome, ActionRequest};
use elicense_app::AppError;
use elicense_core::lifecycle::Action;

use crate::auth::Issuer;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::ident::LicensePath;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/licenses/{identifier}/actions", tag = "issuer",
    security(("api_key" = [])),
    params(("identifier" = String, Path, description = "GB/T 36904 identifier of the version acted on")),
    request_body = ActionRequest,
    responses((status = 200, body = ActionOutcome), (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`, e.g. `identifier.bad_check`) or other bad input"),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "Not allowed from the current status"),
        (status = 413, body = crate::error::ErrorBody, description = "Body over 256 KiB"),
        (status = 415, body = crate::error::ErrorBody, description = "Body is not application/json")))]
pub async fn handler(
    State(s): State<AppState>,
    Issuer(key): Issuer,
    LicensePath(identifier): LicensePath,
    JsonBody(mut req): JsonBody<ActionRequest>,
) -> ApiResult<Json<ActionOutcome>> {
    if req.action == Action::Expire {
        return Err(AppError::forbidden(
            "lifecycle.system_only",
            "expiry is applied by the node when validity ends",
        )
        .into());
    }
    req.actor = format!("api-key:{}", key.id);
    req.acting_issuer = Some(key.issuer);
    let outcome = apply(&s.node, &identifier, req).await?;
    // The action is stored; make this node's status lists current before answering, so that a
    // verification or list fetch that follows the response sees it (other processes' changes
    // are picked up by the cache's periodic check).
    if let Err(e) = s.node.status.rebuild_if_moved().await {
        tracing::warn!(code = e.code, error = %e.message, "status lists not refreshed after an action");
    }
    Ok(Json(outcome))
}
