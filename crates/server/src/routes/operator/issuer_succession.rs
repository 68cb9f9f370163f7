//! `POST /api/v1/operator/issuers/{code}/succession`: names the successor of an issuing
//! authority that ended (merger, renaming, dissolution): from the end on the successor's API
//! keys act on the old authority's licenses and the old authority's do not; the licenses
//! keep verifying. A public operator event (`issuer_succeed`, subject `OLD>NEW`).

use axum::extract::{Path, State};
use elicense_app::operator::{Done, Since, SinceInput};
use elicense_app::succession;
use serde::Deserialize;

use super::{created, Created};
use crate::auth::Operator;
use crate::body::JsonBody;
use crate::state::AppState;

/// The successor and the end.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Succession {
    /// The successor's USCC (an issuer of this node).
    pub successor: String,
    /// When the old authority ended: `YYYY-MM-DD` (00:00 China Standard Time) or unix
    /// seconds; default now.
    #[schema(value_type = Option<Object>, example = json!("2026-01-01"))]
    #[serde(default)]
    pub at: Option<SinceInput>,
}

#[utoipa::path(post, path = "/api/v1/operator/issuers/{code}/succession", tag = "operator",
    security(("operator_key" = [])),
    params(("code" = String, Path, description = "USCC of the authority that ended")),
    request_body = Succession,
    responses(
        (status = 201, body = Done, description = "Recorded; the event (public in the log) and its log leaf"),
        (status = 400, body = crate::error::ErrorBody, description = "`uscc.*`, `issuer.succession_cycle`, `key.bad_since`, malformed body"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`issuer.unknown`"),
        (status = 409, body = crate::error::ErrorBody, description = "`issuer.already_succeeded`"),
        (status = 415, body = crate::error::ErrorBody, description = "Body is not application/json")))]
pub async fn handler(
    State(s): State<AppState>,
    Operator(actor): Operator,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<Succession>,
) -> Created {
    let at = body.at.as_ref().map(Since::from_input).transpose()?;
    created(succession::succeed(&s.node, &actor, &code, &body.successor, at).await)
}
