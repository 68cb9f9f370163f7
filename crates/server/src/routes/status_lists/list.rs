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
            .map(|(id, issuer)| StatusListEntry {
                id,
                uri: s.node.status.uri(id),
                issuer,
            })
            .collect(),
    }))
}
