//! `GET /api/v1/issuers`: the issuing authorities registered on this node.

use axum::extract::State;
use axum::Json;
use elicense_app::AppError;
use serde::Serialize;

use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuerView {
    /// USCC of the authority.
    pub code: String,
    pub name: String,
    /// GB/T 2260 area code.
    pub area: String,
    /// The `iss` of its credentials.
    pub issuer: String,
}

#[utoipa::path(get, path = "/api/v1/issuers", tag = "public",
    responses((status = 200, body = Vec<IssuerView>)))]
pub async fn handler(State(s): State<AppState>) -> ApiResult<Json<Vec<IssuerView>>> {
    let list = s.node.store.issuers().await.map_err(AppError::from)?;
    Ok(Json(
        list.into_iter()
            .map(|i| IssuerView {
                issuer: s.node.issuer_url(&i.code),
                code: i.code,
                name: i.name,
                area: i.area,
            })
            .collect(),
    ))
}
