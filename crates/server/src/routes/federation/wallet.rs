//! One wallet across regions: `POST /federation/v1/holders` (the hub: licenses of keyed
//! holder hashes in the national directory) and `POST /federation/v1/wallet` (the owning node:
//! a holder's licenses for their home node, each recorded as a use). Both take requests
//! signed by any node of the trust list (`crate::signed::SignedByMember`).

use axum::extract::State;
use axum::Json;
use elicense_app::federation::wallet::{
    self, HoldersAnswer, HoldersRequest, WalletAnswer, WalletRequest,
};
use elicense_app::{AppError, ErrorKind};

use crate::error::ApiResult;
use crate::signed::SignedByMember;
use crate::state::AppState;

fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::new(ErrorKind::Invalid, "federation.malformed", e.to_string()))
}

#[utoipa::path(post, path = "/federation/v1/holders", tag = "federation",
    request_body = HoldersRequest,
    responses(
        (status = 200, body = HoldersAnswer, description = "The current licenses the directory has for the hashes"),
        (status = 400, body = crate::error::ErrorBody, description = "`federation.malformed`, `federation.bad_request` (not 1 to 16 hashes of 32 bytes)"),
        (status = 401, body = crate::error::ErrorBody, description = "Not signed (`httpsig.*`)"),
        (status = 403, body = crate::error::ErrorBody, description = "Signed by no node of the trust list")))]
pub async fn holders(
    State(s): State<AppState>,
    signed: SignedByMember,
) -> ApiResult<Json<HoldersAnswer>> {
    let req: HoldersRequest = json(&signed.body)?;
    Ok(Json(wallet::holders(&s.node, &req).await?))
}

#[utoipa::path(post, path = "/federation/v1/wallet", tag = "federation",
    request_body = WalletRequest,
    responses(
        (status = 200, body = WalletAnswer, description = "The licenses asked for whose holder hashes to one of the hashes (each recorded as a `remote_view` by the sender)"),
        (status = 400, body = crate::error::ErrorBody, description = "`federation.malformed`, `federation.bad_request`"),
        (status = 401, body = crate::error::ErrorBody, description = "Not signed (`httpsig.*`)"),
        (status = 403, body = crate::error::ErrorBody, description = "Signed by no node of the trust list")))]
pub async fn owned(
    State(s): State<AppState>,
    signed: SignedByMember,
) -> ApiResult<Json<WalletAnswer>> {
    let req: WalletRequest = json(&signed.body)?;
    Ok(Json(wallet::owned(&s.node, &signed.sender, &req).await?))
}
