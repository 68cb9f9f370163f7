//! `POST /api/v1/operator/keys/{kid}/retirement`: retires an issuer key: it signs nothing
//! from now on (this node at once), what it signed stays valid and it stays in the JWKS.

use axum::extract::{Path, State};
use elicense_app::operator::{self, Done};

use super::{created, Created};
use crate::auth::Operator;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/operator/keys/{kid}/retirement", tag = "operator",
    security(("operator_key" = [])),
    params(("kid" = String, Path, description = "The issuer key's kid (RFC 7638 thumbprint)")),
    responses(
        (status = 201, body = Done, description = "Retired; the event (public in the log) and its log leaf"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`key.unknown`"),
        (status = 409, body = crate::error::ErrorBody, description = "`key.already_retired`")))]
pub async fn handler(
    State(s): State<AppState>,
    Operator(actor): Operator,
    Path(kid): Path<String>,
) -> Created {
    created(operator::retire_key(&s.node, &actor, &kid).await)
}
