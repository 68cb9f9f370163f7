//! `GET /healthz`: the node answers and its database answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Healthy"), (status = 503, description = "The database is unavailable")))]
pub async fn handler(State(s): State<AppState>) -> (StatusCode, Json<Value>) {
    match s.node.store.status_epoch().await {
        Ok(_) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "unavailable", "error": {"code": e.code(), "message": e.to_string()}}),
            ),
        ),
    }
}
