//! `GET /status-lists`: the index of this node's status lists (public), so that a verifier
//! can fetch and cache every one of them (`elicense cache refresh`). Each entry's `uri` is
//! what credentials name and where `GET /status-lists/{id}` serves the token.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::error::ApiResult;
use crate::state::AppState;

/// One status list of the node.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusListEntry {
    pub id: u32,
    /// The list's URI (the token's `sub`).
    pub uri: String,
    /// USCC of the issuing authority whose key signs the list.
    pub issuer: String,
    /// JWS algorithm of the credentials whose status the list carries, and of the issuer's
    /// key that signs it (`ES256`, `EdDSA`, `SM2`); absent for a list made before lists had
    /// one algorithm (signed with the issuer's SM2 key when it has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub alg: Option<elicense_crypto::Alg>,
}

/// The node's status lists.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusListIndex {
    pub lists: Vec<StatusListEntry>,
}

#[utoipa::path(get, path = "/status-lists", tag = "public",
    responses((status = 200, body = StatusListIndex, description = "Every status list of this node")))]
pub async fn handler(State(s): State<AppState>) -> ApiResult<Json<StatusListIndex>> {
    let lists = s.node.status.lists().await?;
    Ok(Json(StatusListIndex {
        lists: lists
            .into_iter()
            .map(|l| StatusListEntry {
                id: l.id,
                uri: s.node.status.uri(l.id),
                issuer: l.issuer,
                alg: l.alg,
            })
            .collect(),
    }))
}
