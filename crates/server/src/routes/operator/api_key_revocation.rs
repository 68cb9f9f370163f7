//! `POST /api/v1/operator/api-keys/{id}/revocation`: revokes an issuer's, an institution's or
//! an operator's API key by its id; refused from the next request on.

use axum::extract::{Path, State};
use elicense_app::operator::{self, Done};

use super::{created, Created};
use crate::auth::Operator;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/operator/api-keys/{id}/revocation", tag = "operator",
    security(("operator_key" = [])),
    params(("id" = String, Path, description = "The key's id (12 hex digits), optionally with its prefix: `elk_<id>`, `eli_<id>`, `elo_<id>`")),
    responses(
        (status = 201, body = Done, description = "Revoked; the event and its log leaf"),
        (status = 400, body = crate::error::ErrorBody, description = "`apikey.bad_id`, `apikey.ambiguous` (name the prefix)"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`apikey.unknown`"),
        (status = 409, body = crate::error::ErrorBody, description = "`apikey.already_revoked`")))]
pub async fn handler(
    State(s): State<AppState>,
    Operator(actor): Operator,
    Path(id): Path<String>,
) -> Created {
    created(operator::revoke_api_key(&s.node, &actor, &id).await)
}
