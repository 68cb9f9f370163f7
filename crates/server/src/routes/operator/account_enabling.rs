//! `POST /api/v1/operator/accounts/{username}/enabling`: Enables a wallet account: it may sign in again (ended sessions stay ended).

use axum::extract::{Path, State};
use elicense_app::operator::{self, Done};

use super::{created, Created};
use crate::auth::Operator;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/operator/accounts/{username}/enabling", tag = "operator",
    security(("operator_key" = [])),
    params(("username" = String, Path, description = "The account's username")),
    responses(
        (status = 201, body = Done, description = "Done; the event (naming the account id; a commitment in the public log) and its log leaf"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`account.not_found`"),
        (status = 409, body = crate::error::ErrorBody, description = "`account.not_disabled`")))]
pub async fn handler(
    State(s): State<AppState>,
    Operator(actor): Operator,
    Path(username): Path<String>,
) -> Created {
    created(operator::set_account_disabled(&s.node, &actor, &username, false).await)
}
