//! What the region operator does to the node's credentials and parties: revoke an API key,
//! disable or enable an institution or a wallet account, make a wallet account or reset its
//! password, retire or revoke an issuer's
//! signing key, name an ending issuing authority's successor. Each is a logged event that is not about a license.
//!
//! Invariants:
//! - [`OperatorAction::as_str`] gives the stable code stored with every operator event and
//!   [`OperatorAction::parse`] accepts exactly those codes (`parse(a.as_str()) == Ok(a)`).
//! - [`OperatorAction::is_public`] is the one place that decides what the public log shows in
//!   clear: facts about keys (an API key's random id, an issuer key's kid and the date from
//!   which it is compromised) are public; which institution or which holder's account was
//!   disabled is not (no institution code and no username in a public leaf), so those enter
//!   the log only as a salted commitment.
//! - [`OperatorActor`] is who acted: the command line on the node's machine or one operator
//!   API key, printed as `operator:cli` / `operator:<key id>`.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::macros::text_type;

/// One kind of operator event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OperatorAction {
    /// An API key (issuer, institution or operator) was revoked: refused from then on.
    ApiKeyRevoke,
    /// An institution was disabled: its keys are refused, no new key is made for it.
    InstitutionDisable,
    /// A disabled institution was enabled again.
    InstitutionEnable,
    /// A wallet account was disabled: it cannot sign in, its sessions ended.
    AccountDisable,
    /// A disabled wallet account was enabled again.
    AccountEnable,
    /// A wallet account was made for a person whose resident ID the operator checked at a
    /// counter (a node without an identity provider).
    AccountCreate,
    /// A wallet account's password was replaced by the operator (after checking the
    /// person's ID): every session of the account ended.
    AccountPasswordReset,
    /// An issuer key was retired: it signs nothing more, what it signed stays valid.
    KeyRetire,
    /// An issuer key was revoked (compromised) from a date on: credentials it signed with
    /// `iat` at or after that date are invalid.
    KeyRevoke,
    /// An issuing authority ended and named its successor (merger, renaming, dissolution):
    /// from `since` (the end) the successor acts for its licenses. The subject is
    /// `OLD>NEW` (both USCCs): a public fact about authorities.
    IssuerSucceed,
}

impl OperatorAction {
    /// Every action.
    pub const ALL: [OperatorAction; 10] = [
        Self::ApiKeyRevoke,
        Self::InstitutionDisable,
        Self::InstitutionEnable,
        Self::AccountDisable,
        Self::AccountEnable,
        Self::AccountCreate,
        Self::AccountPasswordReset,
        Self::KeyRetire,
        Self::KeyRevoke,
        Self::IssuerSucceed,
    ];

    /// The stable code.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ApiKeyRevoke => "api_key_revoke",
            Self::InstitutionDisable => "institution_disable",
            Self::InstitutionEnable => "institution_enable",
            Self::AccountDisable => "account_disable",
            Self::AccountEnable => "account_enable",
            Self::AccountCreate => "account_create",
            Self::AccountPasswordReset => "account_password_reset",
            Self::KeyRetire => "key_retire",
            Self::KeyRevoke => "key_revoke",
            Self::IssuerSucceed => "issuer_succeed",
        }
    }

    /// Parses an [`OperatorAction::as_str`] code.
    pub fn parse(code: &str) -> Result<Self, UnknownOperatorAction> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == code)
            .ok_or_else(|| UnknownOperatorAction(code.to_owned()))
    }

    /// True when the event's facts (action, subject, actor, time, date) are public and its
    /// leaf carries them in clear; false when the subject is a party (an institution, a
    /// holder's account) and the leaf is only a commitment.
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            Self::ApiKeyRevoke | Self::KeyRetire | Self::KeyRevoke | Self::IssuerSucceed
        )
    }

    /// True for the actions that carry a date from which they apply (`since`): a key
    /// revocation, an authority's end.
    pub fn has_since(&self) -> bool {
        matches!(self, Self::KeyRevoke | Self::IssuerSucceed)
    }
}

text_type!(OperatorAction, UnknownOperatorAction);

/// A stored or sent operator action that is not one of [`OperatorAction`]'s codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operator action {0:?}")]
pub struct UnknownOperatorAction(pub String);

impl ErrorCode for UnknownOperatorAction {
    fn code(&self) -> &'static str {
        "operator.unknown_action"
    }
}

/// Who did an operator action.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OperatorActor {
    /// The `elicense` command line, run by whoever can read the node's data directory.
    Cli,
    /// The operator API, called with the operator key of this id.
    Key(String),
}

impl OperatorActor {
    /// `operator:cli` or `operator:<key id>`, as stored with the event.
    pub fn code(&self) -> String {
        match self {
            Self::Cli => "operator:cli".to_owned(),
            Self::Key(id) => format!("operator:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_and_codes_are_distinct() {
        let mut codes = std::collections::BTreeSet::new();
        for a in OperatorAction::ALL {
            assert_eq!(OperatorAction::parse(a.as_str()), Ok(a));
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
            assert!(codes.insert(a.as_str()), "{a} twice");
        }
        let e = OperatorAction::parse("key_delete").unwrap_err();
        assert_eq!(e.code(), "operator.unknown_action");
    }

    #[test]
    fn parties_are_never_public() {
        for a in [
            OperatorAction::InstitutionDisable,
            OperatorAction::InstitutionEnable,
            OperatorAction::AccountDisable,
            OperatorAction::AccountEnable,
            OperatorAction::AccountCreate,
            OperatorAction::AccountPasswordReset,
        ] {
            assert!(!a.is_public(), "{a}");
        }
        for a in OperatorAction::ALL.into_iter().filter(|a| a.has_since()) {
            assert!(a.is_public(), "{a}");
        }
    }

    #[test]
    fn actors() {
        assert_eq!(OperatorActor::Cli.code(), "operator:cli");
        assert_eq!(OperatorActor::Key("ab12".into()).code(), "operator:ab12");
    }
}
