//! `GET /federation/v1/holder-key`: the hub's key for holder hashes, to a child this node
//! admitted (signed request). Directory entries carry holders only as hashes under this key.

use axum::extract::State;
use axum::Json;
use elicense_app::federation::sync;
use serde::Serialize;

use crate::error::ApiResult;
use crate::signed::SignedByNode;
use crate::state::AppState;

/// The key, hex.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HolderKey {
    pub key: String,
}

#[utoipa::path(get, path = "/federation/v1/holder-key", tag = "federation",
    responses(
        (status = 200, body = HolderKey),
        (status = 401, body = crate::error::ErrorBody, description = "Not signed (`httpsig.*`)"),
        (status = 403, body = crate::error::ErrorBody, description = "Not a child of this node")))]
pub async fn handler(
    State(s): State<AppState>,
    signed: SignedByNode,
) -> ApiResult<Json<HolderKey>> {
    let key = sync::holder_key_for_child(&s.node, &signed.sender).await?;
    Ok(Json(HolderKey {
        key: hex::encode(key),
    }))
}
