//! `GET /.well-known/elicense-log`: the log's origin and note verifier keys
//! (`<name>+<hex key ID>+<base64(type || key)>`, Ed25519 first, then SM2).

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::error::ApiResult;
use crate::state::AppState;

/// Where to find the log and how to check its checkpoints.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogMetadata {
    pub origin: String,
    pub verifier_keys: Vec<String>,
}

#[utoipa::path(get, path = "/.well-known/elicense-log", tag = "public",
    responses((status = 200, body = LogMetadata)))]
pub async fn handler(State(s): State<AppState>) -> ApiResult<Json<LogMetadata>> {
    let log = &s.node.log;
    Ok(Json(LogMetadata {
        origin: log.origin().to_string(),
        verifier_keys: log.verifier_keys()?.iter().map(|k| k.to_string()).collect(),
    }))
}
