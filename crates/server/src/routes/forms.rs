//! No re-typing (免填报), for an institution (`Authorization: Bearer eli_…`):
//! `PUT|GET /api/v1/forms/{matter}` keeps its form for a matter (which license claim fills
//! which field), `GET /api/v1/shares/{id}/form` returns that form filled from a granted
//! request's annotated copy, each field marked as verified from which license. Over
//! `elicense_app::institutions::forms`.

use axum::extract::{Path, State};
use axum::Json;
use elicense_app::institutions::forms::{self, FilledForm, Form};

use crate::auth::Institution;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(put, path = "/api/v1/forms/{matter}", tag = "institution",
    security(("institution_key" = [])),
    params(("matter" = String, Path, description = "A matter code of the institution's scope")),
    request_body = Form,
    responses(
        (status = 200, body = Form, description = "Defined (or replaced)"),
        (status = 400, body = crate::error::ErrorBody, description = "`form.bad_field`, `form.unknown_claim`, `share.unknown_matter`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`share.out_of_scope`")))]
pub async fn put(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path(matter): Path<String>,
    JsonBody(form): JsonBody<Form>,
) -> ApiResult<Json<Form>> {
    Ok(Json(forms::put(&s.node, &inst, &matter, form).await?))
}

#[utoipa::path(get, path = "/api/v1/forms/{matter}", tag = "institution",
    security(("institution_key" = [])),
    params(("matter" = String, Path, description = "A matter code")),
    responses(
        (status = 200, body = Form),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`form.not_defined`")))]
pub async fn get(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path(matter): Path<String>,
) -> ApiResult<Json<Form>> {
    Ok(Json(forms::get(&s.node, &inst, &matter).await?))
}

#[utoipa::path(get, path = "/api/v1/shares/{id}/form", tag = "institution",
    security(("institution_key" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, body = FilledForm, description = "The form filled from the annotated copy"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`share.not_found`, `form.not_defined`"),
        (status = 409, body = crate::error::ErrorBody, description = "`form.not_granted`: no annotated copy yet")))]
pub async fn filled(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path(id): Path<String>,
) -> ApiResult<Json<FilledForm>> {
    Ok(Json(forms::filled(&s.node, &inst, &id).await?))
}
