//! `GET /api/v1/catalogue/{code}[?version=N]`: one license type.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use elicense_app::catalogue::{type_code, TypeView};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// Catalogue version; the latest when absent.
    pub version: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/catalogue/{code}", tag = "public",
    params(("code" = String, Path, description = "21-char GB/T 36904 type code"), VersionQuery),
    responses((status = 200, body = TypeView),
        (status = 400, body = crate::error::ErrorBody, description = "Malformed type code or version"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn handler(
    State(s): State<AppState>,
    Path(code): Path<String>,
    q: Result<Query<VersionQuery>, QueryRejection>,
) -> ApiResult<Json<TypeView>> {
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            elicense_app::ErrorKind::Invalid,
            "request.malformed",
            e.body_text(),
        )
    })?;
    let code = type_code(&code)?;
    let t = s.node.catalogue.get(code.as_str(), q.version).await?;
    Ok(Json(TypeView::of(&t)))
}
