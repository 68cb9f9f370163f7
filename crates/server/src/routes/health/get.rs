//! `GET /healthz`: the node answers and its database answers.
//!
//! Invariant: the body names a failure by its stable code only (`store.unavailable`, …); the
//! store's own error text (host names, schema names, SQL) goes to the log, never to the caller.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Healthy"), (status = 503, description = "The database is unavailable; the body carries a stable code only")))]
pub async fn handler(State(s): State<AppState>) -> (StatusCode, Json<Value>) {
    match s.node.store.status_epoch().await {
        Ok(_) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(e) => {
            let code = e.code();
            tracing::warn!(code, error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "error": {"code": code, "message": "the database check failed"},
                })),
            )
        }
    }
}
