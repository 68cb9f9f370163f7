//! `POST /api/v1/operator/accounts`: makes a wallet account for a person whose resident ID
//! the operator checked at a counter; `POST /api/v1/operator/accounts/{username}/password-reset`
//! replaces an account's password and ends its sessions. A password not given is generated and
//! returned once, in this answer only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use elicense_app::operator::{self, Done};
use elicense_app::wallet::identity::NewAccount;
use elicense_app::AppError;
use elicense_core::holder::{HolderCode, HolderCodeType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

/// A new account, as checked at the counter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountRequest {
    /// 1 to 64 characters, unique on the node.
    pub username: String,
    /// The person's name as on the ID card.
    pub name: String,
    /// The person's resident ID number (GB 11643).
    pub resident_id: String,
    /// At least 8 characters; generated when absent.
    #[serde(default)]
    pub password: Option<String>,
}

/// The account made.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountMade {
    /// The account's id (the operator event names it).
    pub account: String,
    pub username: String,
    pub name: String,
    /// The resident ID, masked.
    pub person: String,
    /// The generated password, only when none was given: shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(flatten)]
    pub done: Done,
}

/// The operator's wish for a reset.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// At least 8 characters; generated when absent.
    #[serde(default)]
    pub password: Option<String>,
}

/// A reset done.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetDone {
    /// The generated password, only when none was given: shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(flatten)]
    pub done: Done,
}

/// The password given, or a generated one (returned to the operator).
fn password_or_generated(given: Option<String>) -> (String, Option<String>) {
    match given {
        Some(p) => (p, None),
        None => {
            let p = operator::generate_password();
            (p.clone(), Some(p))
        }
    }
}

#[utoipa::path(post, path = "/api/v1/operator/accounts", tag = "operator",
    security(("operator_key" = [])),
    request_body = NewAccountRequest,
    responses(
        (status = 201, body = AccountMade, description = "Made; the event (naming the account id; a commitment in the public log) and its log leaf"),
        (status = 400, body = crate::error::ErrorBody, description = "`account.invalid`, `resident_id.*` (a resident ID that is not valid)"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "`account.username_taken`")))]
pub async fn create(
    State(s): State<AppState>,
    Operator(actor): Operator,
    JsonBody(req): JsonBody<NewAccountRequest>,
) -> ApiResult<(StatusCode, Json<AccountMade>)> {
    let person = HolderCode::parse(HolderCodeType::ResidentId, req.resident_id.trim())
        .map_err(AppError::invalid)?;
    let (password, generated) = password_or_generated(req.password);
    let account = NewAccount {
        username: req.username,
        password,
        name: req.name,
        person,
    };
    let (done, identity) = operator::create_account(&s.node, &actor, account).await?;
    Ok((
        StatusCode::CREATED,
        Json(AccountMade {
            account: identity.account,
            username: identity.username,
            name: identity.name,
            person: identity.person_masked,
            password: generated,
            done,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/operator/accounts/{username}/password-reset", tag = "operator",
    security(("operator_key" = [])),
    params(("username" = String, Path, description = "The account's username")),
    request_body = PasswordReset,
    responses(
        (status = 201, body = PasswordResetDone, description = "Done; every session of the account ended"),
        (status = 400, body = crate::error::ErrorBody, description = "`account.invalid`"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`account.not_found`")))]
pub async fn reset_password(
    State(s): State<AppState>,
    Operator(actor): Operator,
    Path(username): Path<String>,
    JsonBody(req): JsonBody<PasswordReset>,
) -> ApiResult<(StatusCode, Json<PasswordResetDone>)> {
    let (password, generated) = password_or_generated(req.password);
    let done = operator::reset_password(&s.node, &actor, &username, &password).await?;
    Ok((
        StatusCode::CREATED,
        Json(PasswordResetDone {
            password: generated,
            done,
        }),
    ))
}
