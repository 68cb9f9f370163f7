//! The holder's sign-in security page (`/wallet/security`): recent failed sign-ins to the
//! account, each with its time, stable reason code and the client's network (never a full
//! address).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use elicense_app::wallet::security::{self, Failure, FailureReason};

use super::auth::Holder;
use super::{render, Back, OrPage, PageError, T};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    t: T,
    back: String,
    failures: Vec<Failure>,
}

impl SecurityPage {
    /// The text key of a reason (`security_reason_signin_bad_password`).
    fn reason_key(&self, r: &FailureReason) -> &'static str {
        match r {
            FailureReason::BadPassword => "security_reason_signin_bad_password",
            FailureReason::AccountDisabled => "security_reason_signin_account_disabled",
        }
    }
}

pub async fn page(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
) -> Result<Response, PageError> {
    let failures = security::recent_failures(&s.node, &id)
        .await
        .or_page(t, "/wallet")?;
    Ok(render(&SecurityPage { t, back, failures }))
}
