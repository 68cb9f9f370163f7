//! `GET /.well-known/elicense-node`: the node's URL, area, level, parent, request-signing
//! keys (JWKS) and witness key (C2SP vkey). Public.

use axum::extract::State;
use axum::Json;
use elicense_app::federation::{node_document, NodeDocument};

use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/.well-known/elicense-node", tag = "public",
    responses((status = 200, body = NodeDocument)))]
pub async fn handler(State(s): State<AppState>) -> ApiResult<Json<NodeDocument>> {
    Ok(Json(node_document(&s.node).await?))
}
