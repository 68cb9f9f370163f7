//! `GET /api/v1/licenses/{identifier}`: the issuer's full view of one license version: its
//! metadata, credential, status and history. Only the issuing authority may read it.
//!
//! Invariants: the license is read once (its status view is built from that record, so a
//! license removed meanwhile cannot make the handler fail half-way); the record and its events
//! are read through `elicense_app::stored`, so stored JSON (metadata, event details), a stored
//! status or kind that does not parse is `store.corrupt` (500), never `null` or an empty label.

use axum::extract::State;
use axum::Json;
use elicense_app::stored::{Event, License};
use elicense_app::verify::{status_view_of, StatusView};
use elicense_app::AppError;
use serde::Serialize;
use serde_json::Value;

use crate::auth::Issuer;
use crate::error::ApiResult;
use crate::ident::LicensePath;
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
        (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`, e.g. `identifier.bad_check`) or other bad input"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 500, body = crate::error::ErrorBody, description = "Stored data does not parse (`store.corrupt`)")))]
pub async fn handler(
    State(s): State<AppState>,
    Issuer(key): Issuer,
    LicensePath(id): LicensePath,
) -> ApiResult<Json<LicenseView>> {
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
    let license = License::try_from(rec)?;
    let meta = serde_json::to_value(&license.meta).expect("metadata serialise");
    let status = status_view_of(&s.node, &license).await?;
    let events = s
        .node
        .store
        .events(&license.record.lineage)
        .await
        .map_err(AppError::from)?;
    let events = events
        .into_iter()
        .map(|e| {
            let e = Event::try_from(e)?;
            Ok(EventView {
                seq: e.record.seq,
                identifier: e.record.identifier,
                kind: e.kind.to_string(),
                actor: e.record.actor,
                at: e.record.at,
                reason: e.record.reason,
                detail: e.detail,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let License { record, .. } = license;
    Ok(Json(LicenseView {
        identifier: record.identifier,
        version: record.version,
        meta,
        credential: record.credential,
        status,
        pledged: record.pledged,
        events,
    }))
}
