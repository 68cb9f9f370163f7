//! `POST /api/v1/operator/institutions/{code}/enabling`: Enables a relying institution:
//! its keys work again (those revoked stay revoked).

use axum::extract::{Path, State};
use elicense_app::operator::{self, Done};

use super::{created, Created};
use crate::auth::Operator;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/operator/institutions/{code}/enabling", tag = "operator",
    security(("operator_key" = [])),
    params(("code" = String, Path, description = "USCC of the institution")),
    responses(
        (status = 201, body = Done, description = "Done; the event (a commitment in the public log) and its log leaf"),
        (status = 400, body = crate::error::ErrorBody, description = "Not a USCC (`uscc.*`)"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`institution.unknown`"),
        (status = 409, body = crate::error::ErrorBody, description = "`institution.not_disabled`")))]
pub async fn handler(
    State(s): State<AppState>,
    Operator(actor): Operator,
    Path(code): Path<String>,
) -> Created {
    created(operator::set_institution_disabled(&s.node, &actor, &code, false).await)
}
