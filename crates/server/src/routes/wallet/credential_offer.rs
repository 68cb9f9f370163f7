//! `POST /api/v1/wallet/licenses/{identifier}/credential-offer`: an OpenID4VCI credential
//! offer of the license for another wallet (holder or representative; not an agent).

use axum::extract::State;
use axum::Json;
use elicense_app::wallet::vci::Offer;

use crate::error::ApiResult;
use crate::ident::LicensePath;
use crate::pages::auth::ApiHolder;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/wallet/licenses/{identifier}/credential-offer", tag = "wallet",
    security(("wallet_session" = [], "wallet_csrf" = [])),
    params(("identifier" = String, Path, description = "GB/T 36904 identifier")),
    responses((status = 200, body = Offer, description = "The offer (pre-authorized code grant with a 6-digit transaction code), redeemable once within 10 minutes"),
        (status = 400, body = crate::error::ErrorBody, description = "Malformed identifier (`identifier.*`)"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody, description = "An agent cannot take a license to another wallet (`wallet.agent_cannot_delegate`); `csrf.*`"),
        (status = 404, body = crate::error::ErrorBody, description = "`wallet.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "A superseded version (`wallet.superseded`)")))]
pub async fn handler(
    State(s): State<AppState>,
    ApiHolder(id): ApiHolder,
    LicensePath(identifier): LicensePath,
) -> ApiResult<Json<Offer>> {
    Ok(Json(
        elicense_app::wallet::vci::create_offer(&s.node, &id, &identifier).await?,
    ))
}
