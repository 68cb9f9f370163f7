//! `POST /api/v1/shares`: an institution asks for a holder's license for a matter in its
//! scope. `201` with the annotated copy when the matter has a legal basis; `202` with a
//! pending request when the holder must consent first.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use elicense_app::institutions::{self, Ask, ShareView};

use crate::auth::Institution;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/shares", tag = "institution",
    security(("institution_key" = [])),
    request_body = Ask,
    responses(
        (status = 201, body = ShareView, description = "Granted on the matter's legal basis: `copy` holds the annotated copy"),
        (status = 202, body = ShareView, description = "Pending: the holder decides in the wallet; poll GET /api/v1/shares/{id}"),
        (status = 400, body = crate::error::ErrorBody, description = "Malformed request, holder ID, purpose or period"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`share.out_of_scope`: the matter is not in the institution's business scope"),
        (status = 404, body = crate::error::ErrorBody, description = "`share.no_license`: the holder has no such license in force")))]
pub async fn handler(
    State(s): State<AppState>,
    Institution(inst): Institution,
    JsonBody(ask): JsonBody<Ask>,
) -> ApiResult<(StatusCode, Json<ShareView>)> {
    let view = institutions::ask(&s.node, &inst, ask).await?;
    let code = if view.state == "granted" {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    Ok((code, Json(view)))
}
