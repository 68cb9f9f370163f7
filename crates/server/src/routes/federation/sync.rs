//! `POST /federation/v1/sync`: a child's batch (its log leaves with holder hashes beside,
//! entries forwarded from its own children, the nodes and issuers under it); `GET`: where
//! this node stands for the signing child. See `elicense_app::federation::sync`.

use axum::extract::State;
use axum::Json;
use elicense_app::federation::sync::{self, SyncRequest, SyncState};
use elicense_app::ErrorKind;

use crate::error::{ApiError, ApiResult};
use crate::signed::SignedByNode;
use crate::state::AppState;

#[utoipa::path(post, path = "/federation/v1/sync", tag = "federation",
    request_body = SyncRequest,
    responses(
        (status = 200, body = SyncState, description = "Applied; where this node now stands"),
        (status = 400, body = crate::error::ErrorBody, description = "`federation.malformed`, `federation.bad_leaf`, `federation.not_a_child` (an entry or node not under the sender)"),
        (status = 401, body = crate::error::ErrorBody, description = "Not signed (`httpsig.*`)"),
        (status = 403, body = crate::error::ErrorBody, description = "Signed by no known node, or not by a child (`federation.not_a_child`), or a bad checkpoint signature"),
        (status = 409, body = crate::error::ErrorBody, description = "`federation.out_of_order` (ask the state and resume) or `federation.fork` (the leaves do not extend what was sent before)")))]
pub async fn post(State(s): State<AppState>, signed: SignedByNode) -> ApiResult<Json<SyncState>> {
    let req: SyncRequest = serde_json::from_slice(&signed.body)
        .map_err(|e| ApiError::new(ErrorKind::Invalid, "federation.malformed", e.to_string()))?;
    Ok(Json(sync::receive(&s.node, &signed.sender, req).await?))
}

#[utoipa::path(get, path = "/federation/v1/sync", tag = "federation",
    responses(
        (status = 200, body = SyncState, description = "Where this node stands for the signing child"),
        (status = 401, body = crate::error::ErrorBody, description = "Not signed (`httpsig.*`)"),
        (status = 403, body = crate::error::ErrorBody, description = "Signed by no known node")))]
pub async fn get(State(s): State<AppState>, signed: SignedByNode) -> ApiResult<Json<SyncState>> {
    Ok(Json(sync::state(&s.node, &signed.sender).await?))
}
