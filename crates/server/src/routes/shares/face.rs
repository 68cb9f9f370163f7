//! `GET /api/v1/shares/{id}/face/{format}`: the annotated copy's face (PDF, PNG or SVG): only
//! the matter's fields, watermarked with the institution and matter, with a QR code of the
//! copy's check page.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use elicense_app::face::FaceFormat;
use elicense_app::institutions;

use crate::auth::Institution;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/shares/{id}/face/{format}", tag = "institution",
    security(("institution_key" = [])),
    params(("id" = String, Path, description = "Request id"),
        ("format" = String, Path, description = "`pdf`, `png` or `svg`")),
    responses(
        (status = 200, description = "The face", content(
            (Vec<u8> = "application/pdf"), (Vec<u8> = "image/png"), (String = "image/svg+xml"))),
        (status = 400, body = crate::error::ErrorBody, description = "`face.bad_format`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`share.not_found`: no copy for this request")))]
pub async fn handler(
    State(s): State<AppState>,
    Institution(inst): Institution,
    Path((id, format)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let format: FaceFormat = format.parse()?;
    let bytes = institutions::copy_face(&s.node, &inst, &id, format).await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"copy-{id}.{}\"", format.extension()),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    ))
}
