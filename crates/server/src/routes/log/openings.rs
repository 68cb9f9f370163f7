//! The openings of uses' commitments (`elicense_app::openings`): the holder's one at a time
//! (session cookie, events the wallet shows them) and the issuer's per license (API key,
//! licenses it issued). Each comes with its leaf and the leaf's inclusion proof against a
//! signed checkpoint, to check without trusting the node.

use axum::extract::State;
use axum::Json;
use elicense_app::openings::{self, UseOpening};

use crate::auth::Issuer;
use crate::error::ApiResult;
use crate::ident::{LicensePath, LicensePathWith};
use crate::pages::auth::ApiHolder;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/wallet/licenses/{identifier}/events/{seq}/opening",
    tag = "wallet", security(("wallet_session" = [])),
    params(("identifier" = String, Path, description = "GB/T 36904 identifier"),
        ("seq" = i64, Path, description = "The event's sequence number (its `seq` in the history)")),
    responses((status = 200, body = UseOpening), (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`, e.g. `identifier.bad_check`) or other bad input"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "No such license in the wallet, or no opening of this event for you")))]
pub async fn holder_opening(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    LicensePathWith(identifier, seq): LicensePathWith<i64>,
) -> ApiResult<Json<UseOpening>> {
    Ok(Json(
        openings::for_holder(&s.node, &id, &identifier, seq).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/licenses/{identifier}/openings", tag = "issuer",
    security(("api_key" = [])),
    params(("identifier" = String, Path, description = "GB/T 36904 identifier (any version)")),
    responses((status = 200, body = Vec<UseOpening>, description = "Openings of every use of every version, oldest first"),
        (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`, e.g. `identifier.bad_check`) or other bad input"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "Issued by another authority"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn issuer_openings(
    State(s): State<AppState>,
    Issuer(key): Issuer,
    LicensePath(identifier): LicensePath,
) -> ApiResult<Json<Vec<UseOpening>>> {
    Ok(Json(
        openings::for_issuer(&s.node, &key.issuer, &identifier).await?,
    ))
}
