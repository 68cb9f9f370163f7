//! `GET /api/v1/licenses/{identifier}`: the issuer's full view of one license version: its
//! metadata, credential, status and history. Only the issuing authority may read it.
//!
//! Invariants: the license is read once (its status view is built from that record, so a
//! license removed meanwhile cannot make the handler fail half-way); stored JSON (metadata,
//! event details) or a stored status that does not parse is `store.corrupt` (500), never
//! `null` or an empty label.

use axum::extract::{Path, State};
use axum::Json;
use elicense_app::verify::{status_view_of, StatusView};
use elicense_app::{AppError, ErrorKind};
use elicense_core::lifecycle::Status;
use serde::Serialize;
use serde_json::Value;

use crate::auth::Issuer;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LicenseView {
    pub identifier: String,
    pub version: u32,
    /// GB/T 36903 metadata.
    #[schema(value_type = Object)]
    pub meta: Value,
    pub credential: String,
    pub status: StatusView,
    pub pledged: bool,
    pub events: Vec<EventView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub seq: i64,
    pub identifier: String,
    pub kind: String,
    pub actor: String,
    pub at: i64,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub detail: Value,
}

#[utoipa::path(get, path = "/api/v1/licenses/{identifier}", tag = "issuer",
    security(("api_key" = [])),
    params(("identifier" = String, Path, description = "GB/T 36904 identifier")),
    responses((status = 200, body = LicenseView),
        (status = 400, body = crate::error::ErrorBody, description = "Not a valid identifier"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 500, body = crate::error::ErrorBody, description = "Stored data does not parse (`store.corrupt`)")))]
pub async fn handler(
    State(s): State<AppState>,
    Issuer(key): Issuer,
    Path(identifier): Path<String>,
) -> ApiResult<Json<LicenseView>> {
    let id = elicense_core::ident::Identifier::parse(&identifier).map_err(AppError::invalid)?;
    let rec = s
        .node
        .store
        .license(id.as_str())
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::not_found("license.not_found", format!("no license {id}")))?;
    if rec.issuer != key.issuer {
        return Err(AppError::forbidden(
            "license.not_your_license",
            "only the issuing authority may read this license",
        )
        .into());
    }
    if Status::parse(&rec.status).is_none() {
        return Err(corrupt(&rec.identifier, "status").into());
    }
    let meta = stored_json(&rec.meta).ok_or_else(|| corrupt(&rec.identifier, "metadata"))?;
    let status = status_view_of(&s.node, &rec).await?;
    let events = s
        .node
        .store
        .events(&rec.lineage)
        .await
        .map_err(AppError::from)?;
    let events = events
        .into_iter()
        .map(|e| {
            let detail = stored_json(&e.detail)
                .ok_or_else(|| corrupt(&e.identifier, &format!("detail of event {}", e.seq)))?;
            Ok(EventView {
                seq: e.seq,
                identifier: e.identifier,
                kind: e.kind,
                actor: e.actor,
                at: e.at,
                reason: e.reason,
                detail,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Json(LicenseView {
        identifier: rec.identifier,
        version: rec.version,
        meta,
        credential: rec.credential,
        status,
        pledged: rec.pledged,
        events,
    }))
}

/// A stored JSON text as a value; `None` when it does not parse.
fn stored_json(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

fn corrupt(identifier: &str, what: &str) -> AppError {
    AppError::new(
        ErrorKind::Internal,
        "store.corrupt",
        format!("license {identifier}: stored {what} does not parse"),
    )
}
