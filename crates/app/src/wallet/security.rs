//! What an account's owner sees of attempts on it: its recent failed sign-ins (when, why,
//! from which network).
//!
//! Invariants: a failure is recorded only for an existing account and only with a reason of
//! [`FailureReason`]; a stored reason this build does not know is `store.corrupt`, never
//! shown as something else. The operator's switch that disables or enables an account is
//! `crate::operator::set_account_disabled` (a logged operator event).

use elicense_store::SignInFailureRecord;

use super::identity::Identity;
use super::throttle::ClientAddr;
use crate::error::{AppError, Result};
use crate::node::Node;

/// How many recent failures the owner sees.
pub const SHOWN_FAILURES: u32 = 20;

/// Why a sign-in to an existing account failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The password did not match.
    BadPassword,
    /// The password matched but the account is disabled.
    AccountDisabled,
}

impl FailureReason {
    /// The stable code, as stored and shown.
    pub fn code(&self) -> &'static str {
        match self {
            FailureReason::BadPassword => "signin.bad_password",
            FailureReason::AccountDisabled => "signin.account_disabled",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [FailureReason::BadPassword, FailureReason::AccountDisabled]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// One failed sign-in as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub at: i64,
    pub reason: FailureReason,
    /// The client's network (`203.0.113.0/24`).
    pub network: String,
}

impl TryFrom<&SignInFailureRecord> for Failure {
    type Error = AppError;

    fn try_from(r: &SignInFailureRecord) -> Result<Failure> {
        let reason = FailureReason::parse(&r.reason).ok_or_else(|| {
            crate::stored::corrupt(
                format_args!("sign-in failure of {}", r.account),
                format_args!("reason {:?} is not known", r.reason),
            )
        })?;
        Ok(Failure {
            at: r.at,
            reason,
            network: r.client.clone(),
        })
    }
}

/// Records a failed sign-in to `account`.
pub async fn record_failure(
    store: &dyn elicense_store::Store,
    account: &str,
    at: i64,
    client: ClientAddr,
    reason: FailureReason,
) -> Result<()> {
    store
        .record_sign_in_failure(SignInFailureRecord {
            account: account.to_owned(),
            at,
            client: client.network(),
            reason: reason.code().to_owned(),
        })
        .await?;
    Ok(())
}

/// The signed-in holder's recent failed sign-ins, newest first.
pub async fn recent_failures(node: &Node, id: &Identity) -> Result<Vec<Failure>> {
    node.store
        .sign_in_failures(&id.account, SHOWN_FAILURES)
        .await?
        .iter()
        .map(Failure::try_from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_and_unknown_ones_are_corrupt() {
        for r in [FailureReason::BadPassword, FailureReason::AccountDisabled] {
            assert_eq!(FailureReason::parse(r.code()), Some(r));
        }
        let rec = SignInFailureRecord {
            account: "a".into(),
            at: 1,
            client: "unknown".into(),
            reason: "signin.something_else".into(),
        };
        assert_eq!(Failure::try_from(&rec).unwrap_err().code, "store.corrupt");
    }
}
