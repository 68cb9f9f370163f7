//! `POST /api/v1/shares`: an institution asks for a holder's license for a matter in its
//! scope. `201` with the annotated copy when the matter has a legal basis; `202` with a
//! pending request when the holder must consent first. Under a legal basis the request must
//! name the holder, and legal-basis requests (and requests that reach no license) are
//! limited per institution: `429` with `Retry-After` beyond the limit.

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
        (status = 400, body = crate::error::ErrorBody, description = "Malformed request, holder ID, purpose or period; `share.holder_name_required`: the matter has a legal basis and the request does not name the holder"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "`share.out_of_scope`: the matter is not in the institution's business scope"),
        (status = 404, body = crate::error::ErrorBody, description = "`share.no_license`: no such license in force answers the holder ID and name (the same answer for an unknown holder and a wrong name)"),
        (status = 429, body = crate::error::ErrorBody, description = "`share.throttled`: the institution's legal-basis requests went beyond its rate; `share.too_many_misses`: too many of its requests reached no license. `Retry-After` says when to try again",
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
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
