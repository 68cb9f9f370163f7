//! The holder's sharing requests: `GET /api/v1/wallet/shares` lists them;
//! `POST /api/v1/wallet/shares/{id}/consent` and `.../refusal` decide a pending one.

use axum::extract::{Path, State};
use axum::Json;
use elicense_app::institutions::{self, ShareView};

use crate::error::ApiResult;
use crate::pages::auth::ApiHolder;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/wallet/shares", tag = "wallet",
    security(("wallet_session" = [])),
    responses((status = 200, body = Vec<ShareView>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
) -> ApiResult<Json<Vec<ShareView>>> {
    Ok(Json(institutions::for_holder(&s.node, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/wallet/shares/{id}/consent", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, body = ShareView, description = "Granted: the institution receives its annotated copy"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`share.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`share.decided`: decided or lapsed already")))]
pub async fn consent(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    Path(share): Path<String>,
) -> ApiResult<Json<ShareView>> {
    Ok(Json(
        institutions::decide(&s.node, &id, &share, true).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/wallet/shares/{id}/refusal", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, body = ShareView, description = "Refused: the institution receives nothing"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`share.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`share.decided`: decided or lapsed already")))]
pub async fn refusal(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    Path(share): Path<String>,
) -> ApiResult<Json<ShareView>> {
    Ok(Json(
        institutions::decide(&s.node, &id, &share, false).await?,
    ))
}
