//! Mutual-recognition lists: `GET /api/v1/operator/recognition[?area=]` (the lists this node
//! knows, those that apply to an area when given: a region operator's view),
//! `GET|PUT|DELETE /api/v1/operator/recognition/{id}` (one list; `PUT` and `DELETE` on the
//! national hub only, `recognition.not_hub` elsewhere). See
//! `elicense_app::federation::recognition`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use elicense_app::federation::recognition;
use elicense_app::AppError;
use elicense_core::RecognitionList;
use serde::{Deserialize, Serialize};

use crate::auth::Operator;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

/// A mutual-recognition list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recognition {
    /// Stable identifier (`yrd`).
    pub id: String,
    /// Name (长三角).
    pub name: String,
    /// Member areas (GB/T 2260; a province covers its cities and counties).
    pub areas: Vec<String>,
    /// License type codes the members accept from each other.
    pub types: Vec<String>,
}

impl From<RecognitionList> for Recognition {
    fn from(l: RecognitionList) -> Self {
        Recognition {
            id: l.id,
            name: l.name,
            areas: l.areas,
            types: l.types,
        }
    }
}

/// A list's content, as `PUT` sends it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecognitionBody {
    pub name: String,
    pub areas: Vec<String>,
    pub types: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaFilter {
    /// Only the lists that apply to this area (a member covering it or under it).
    pub area: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/operator/recognition", tag = "operator",
    security(("operator_key" = [])),
    params(AreaFilter),
    responses(
        (status = 200, body = [Recognition]),
        (status = 400, body = crate::error::ErrorBody, description = "`recognition.invalid`: not an area code"),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    _operator: Operator,
    Query(f): Query<AreaFilter>,
) -> ApiResult<Json<Vec<Recognition>>> {
    let lists = recognition::applying(&s.node, f.area.as_deref()).await?;
    Ok(Json(lists.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/operator/recognition/{id}", tag = "operator",
    security(("operator_key" = [])),
    params(("id" = String, Path, description = "The list's id")),
    responses(
        (status = 200, body = Recognition),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`recognition.not_found`")))]
pub async fn get(
    State(s): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
) -> ApiResult<Json<Recognition>> {
    let l = recognition::applying(&s.node, None)
        .await?
        .into_iter()
        .find(|l| l.id == id)
        .ok_or_else(|| {
            AppError::not_found(
                "recognition.not_found",
                format!("no recognition list {id:?}"),
            )
        })?;
    Ok(Json(l.into()))
}

#[utoipa::path(put, path = "/api/v1/operator/recognition/{id}", tag = "operator",
    security(("operator_key" = [])),
    params(("id" = String, Path, description = "The list's id")),
    request_body = RecognitionBody,
    responses(
        (status = 200, body = Recognition, description = "Stored (created or replaced); the hub republishes its trust list"),
        (status = 400, body = crate::error::ErrorBody, description = "`recognition.invalid`, `recognition.not_hub`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 415, body = crate::error::ErrorBody, description = "Body is not application/json")))]
pub async fn put(
    State(s): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<RecognitionBody>,
) -> ApiResult<Json<Recognition>> {
    let l = RecognitionList {
        id,
        name: b.name,
        areas: b.areas,
        types: b.types,
    };
    Ok(Json(recognition::put(&s.node, l).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/operator/recognition/{id}", tag = "operator",
    security(("operator_key" = [])),
    params(("id" = String, Path, description = "The list's id")),
    responses(
        (status = 204, description = "Deleted; the hub republishes its trust list"),
        (status = 400, body = crate::error::ErrorBody, description = "`recognition.not_hub`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`recognition.not_found`")))]
pub async fn delete(
    State(s): State<AppState>,
    _operator: Operator,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    recognition::remove(&s.node, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
