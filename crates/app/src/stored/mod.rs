//! Stored records as the app reads them: for each concept, the one place where a plain record
//! of `elicense_store` (text, numbers, JSON text) becomes a domain value, through `TryFrom`.
//!
//! | record | domain value | module |
//! | --- | --- | --- |
//! | `LicenseRecord` | [`License`] (identifier, status, metadata, algorithm) | `license` |
//! | `EventRecord` | [`Event`] (kind, reason category, detail) | `event` |
//! | `ShareRecord` | [`Share`] (identifier, basis, stored state) | `share` |
//! | `AuthorizationRecord` | [`Authorization`] (identifier, `agency::Grant`) | `authorization` |
//! | `OperatorEventRecord` | `operator::OperatorEvent` | `crate::operator` |
//! | `SignInFailureRecord` | `wallet::security::Failure` | `crate::wallet::security` |
//!
//! Invariant: a stored value that does not parse (an unknown status, kind, basis or state, an
//! identifier that is not a strict GB/T 36904 identifier, JSON that does not parse, metadata
//! of another version) is `store.corrupt` ([`corrupt`], an internal error: the database was
//! changed outside elicense). Nothing is skipped, guessed or defaulted.

mod authorization;
pub mod event;
mod license;
mod share;

pub use authorization::Authorization;
pub use event::Event;
pub use license::License;
pub use share::Share;

use crate::error::{AppError, ErrorKind};

/// The error for a stored value that does not parse: `store.corrupt`, naming the record
/// (`what`, e.g. `license 1.2.156…`) and what of it is wrong.
pub fn corrupt(what: impl std::fmt::Display, problem: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Internal,
        "store.corrupt",
        format!("{what}: stored {problem}"),
    )
}

/// A stored identifier as a strict [`elicense_core::Identifier`] (this node issues only
/// those), else `store.corrupt`.
pub(crate) fn identifier(
    what: impl std::fmt::Display,
    text: &str,
) -> Result<elicense_core::Identifier, AppError> {
    elicense_core::Identifier::parse(text).map_err(|e| {
        corrupt(
            what,
            format_args!("identifier {text:?} does not parse: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use elicense_core::share::{Basis, ShareState};
    use elicense_core::{EventKind, ReasonCategory};
    use elicense_store::{AuthorizationRecord, EventRecord, ShareRecord};

    use super::*;

    const ID: &str = "1.2.156.3005.2.11100000000000002Q002.11110000000000012X.0000000001.001.";

    /// A strict identifier (the check character computed).
    fn id() -> String {
        let body = ID.trim_start_matches("1.2.156.3005.2.").replace('.', "");
        format!("{ID}{}", elicense_core::mod37_36(&body).unwrap())
    }

    fn event() -> EventRecord {
        EventRecord {
            seq: 7,
            identifier: id(),
            kind: "revoke".into(),
            actor: "clerk".into(),
            at: 1,
            reason: Some("words".into()),
            detail: r#"{"successor":"x"}"#.into(),
            reason_category: Some("violation".into()),
        }
    }

    fn share() -> ShareRecord {
        ShareRecord {
            id: "s1".into(),
            institution: "91310101MA1FPX0Q1Y".into(),
            staff: "a".into(),
            matter: "hotel_check_in".into(),
            purpose: "p".into(),
            identifier: id(),
            lineage: "l".into(),
            holder_key: "h".into(),
            basis: "consent".into(),
            state: "pending".into(),
            created_at: 0,
            expires_at: 100,
            decided_at: None,
            copy: None,
            copy_until: None,
            keep_days: 30,
        }
    }

    fn authorization() -> AuthorizationRecord {
        AuthorizationRecord {
            id: "a1".into(),
            lineage: "l".into(),
            identifier: id(),
            grantor_key: "g".into(),
            holder_key: "h".into(),
            agent_key: "k".into(),
            agent_name: "n".into(),
            matter: "age_check".into(),
            valid_from: 10,
            valid_until: 20,
            created_at: 0,
            withdrawn_at: None,
            ended_at: None,
        }
    }

    fn is_corrupt<T: std::fmt::Debug>(r: Result<T, AppError>, what: &str) {
        let e = r.expect_err(what);
        assert_eq!(
            (e.code, e.kind),
            ("store.corrupt", ErrorKind::Internal),
            "{what}: {e}"
        );
    }

    #[test]
    fn events_parse_kind_category_and_detail_or_are_corrupt() {
        let e = Event::try_from(event()).unwrap();
        assert_eq!(
            e.kind,
            EventKind::Lifecycle(elicense_core::lifecycle::Action::Revoke)
        );
        assert_eq!(e.reason_category, Some(ReasonCategory::Violation));
        assert_eq!(e.detail_text("successor"), Some("x"));
        for (what, bad) in [
            (
                "kind",
                EventRecord {
                    kind: "teleport".into(),
                    ..event()
                },
            ),
            (
                "category",
                EventRecord {
                    reason_category: Some("whim".into()),
                    ..event()
                },
            ),
            (
                "detail",
                EventRecord {
                    detail: "not json".into(),
                    ..event()
                },
            ),
            (
                "empty detail",
                EventRecord {
                    detail: String::new(),
                    ..event()
                },
            ),
        ] {
            is_corrupt(Event::try_from(&bad), what);
        }
    }

    #[test]
    fn shares_parse_basis_state_and_identifier_or_are_corrupt() {
        let s = Share::try_from(share()).unwrap();
        assert_eq!(
            (s.basis, s.stored_state),
            (Basis::Consent, ShareState::Pending)
        );
        assert_eq!(s.state_at(99), ShareState::Pending);
        assert_eq!(s.state_at(100), ShareState::Expired);
        assert_eq!(s.identifier.as_str(), id());
        for (what, bad) in [
            (
                "basis",
                ShareRecord {
                    basis: "whim".into(),
                    ..share()
                },
            ),
            (
                "state",
                ShareRecord {
                    state: "limbo".into(),
                    ..share()
                },
            ),
            (
                "identifier",
                ShareRecord {
                    identifier: id().to_lowercase(),
                    ..share()
                },
            ),
        ] {
            is_corrupt(Share::try_from(&bad), what);
        }
    }

    #[test]
    fn authorizations_carry_their_grant_or_are_corrupt() {
        let a = Authorization::try_from(authorization()).unwrap();
        assert_eq!((a.grant.valid_from, a.grant.valid_until), (10, 20));
        assert_eq!(a.grant.matter, "age_check");
        for (what, bad) in [
            (
                "identifier",
                AuthorizationRecord {
                    identifier: "1.2.3".into(),
                    ..authorization()
                },
            ),
            (
                "period",
                AuthorizationRecord {
                    valid_until: 9,
                    ..authorization()
                },
            ),
        ] {
            is_corrupt(Authorization::try_from(&bad), what);
        }
    }
}
