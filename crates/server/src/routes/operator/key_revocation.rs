//! `POST /api/v1/operator/keys/{kid}/revocation`: revokes an issuer key as compromised since
//! a time: it signs nothing from now on, and a credential it signed with `iat` at or after
//! `since` is invalid (`issuer.key_revoked`); earlier ones stay valid.

use axum::extract::{Path, State};
use elicense_app::operator::{self, Done, Since, SinceInput};
use serde::Deserialize;

use super::{created, Created};
use crate::auth::Operator;
use crate::body::JsonBody;
use crate::state::AppState;

/// When the key was compromised.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRevocation {
    /// `YYYY-MM-DD` (from 00:00 China Standard Time) or unix seconds; at most now.
    #[schema(value_type = Object, example = json!("2025-03-01"))]
    pub since: SinceInput,
}

#[utoipa::path(post, path = "/api/v1/operator/keys/{kid}/revocation", tag = "operator",
    security(("operator_key" = [])),
    params(("kid" = String, Path, description = "The issuer key's kid (RFC 7638 thumbprint)")),
    request_body = KeyRevocation,
    responses(
        (status = 201, body = Done, description = "Revoked; the event (public in the log, with `since`) and its log leaf"),
        (status = 400, body = crate::error::ErrorBody, description = "`key.bad_since`, `key.since_in_future`, malformed body"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`key.unknown`"),
        (status = 409, body = crate::error::ErrorBody, description = "`key.already_revoked`: revoked since then or earlier"),
        (status = 415, body = crate::error::ErrorBody, description = "Body is not application/json")))]
pub async fn handler(
    State(s): State<AppState>,
    Operator(actor): Operator,
    Path(kid): Path<String>,
    JsonBody(body): JsonBody<KeyRevocation>,
) -> Created {
    let since = Since::from_input(&body.since)?;
    created(operator::revoke_key(&s.node, &actor, &kid, since).await)
}
