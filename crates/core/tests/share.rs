//! Properties of the sharing-request state machine (`elicense_core::share`).

use elicense_core::holder::HolderName;
use elicense_core::share::{
    decide, name_check, open, state_at, Basis, Decision, ShareError, ShareState,
};
use proptest::prelude::*;

fn stored() -> impl Strategy<Value = ShareState> {
    prop_oneof![
        Just(ShareState::Pending),
        Just(ShareState::Granted),
        Just(ShareState::Refused),
    ]
}

fn basis() -> impl Strategy<Value = Basis> {
    prop_oneof![Just(Basis::Legal), Just(Basis::Consent)]
}

/// Names from a small alphabet with the spaces, full-width forms and dots that normalise, so
/// that equal and different names both come up often.
fn raw_name() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("张"),
            Just("伟"),
            Just("張"),
            Just("A"),
            Just("Ａ"),
            Just("a"),
            Just(" "),
            Just("\u{3000}"),
            Just("\t"),
            Just("·"),
            Just("・"),
            Just("e\u{301}"),
            Just("é"),
        ],
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

fn decision() -> impl Strategy<Value = Decision> {
    prop_oneof![Just(Decision::Consent), Just(Decision::Refuse)]
}

proptest! {
    #[test]
    fn only_a_pending_request_before_its_deadline_takes_a_decision(
        s in stored(), d in decision(), deadline in -100i64..100, now in -100i64..100,
    ) {
        let r = decide(s, deadline, d, now);
        if s == ShareState::Pending && now < deadline {
            let next = r.unwrap();
            prop_assert!(next.is_final());
            prop_assert_eq!(next == ShareState::Granted, d == Decision::Consent);
        } else {
            prop_assert_eq!(r, Err(ShareError::Decided(state_at(s, deadline, now))));
            prop_assert!(state_at(s, deadline, now).is_final());
        }
    }

    #[test]
    fn final_states_never_change_with_time(s in stored(), deadline in -100i64..100, t in -100i64..100) {
        if s.is_final() {
            prop_assert_eq!(state_at(s, deadline, t), s);
        }
    }
}

#[test]
fn a_legal_basis_is_granted_at_once_and_consent_waits() {
    assert_eq!(open(Basis::Legal), ShareState::Granted);
    assert_eq!(open(Basis::Consent), ShareState::Pending);
    for s in [
        ShareState::Pending,
        ShareState::Granted,
        ShareState::Refused,
        ShareState::Expired,
    ] {
        assert_eq!(ShareState::parse(s.code()), Some(s));
    }
    for b in [Basis::Legal, Basis::Consent] {
        assert_eq!(Basis::parse(b.code()), Some(b));
    }
}

proptest! {
    #[test]
    fn a_legal_basis_needs_a_name_and_consent_does_not(b in basis(), raw in raw_name()) {
        let named = HolderName::parse(&raw);
        match name_check(b, named.clone()) {
            Err(e) => {
                prop_assert_eq!((b, named), (Basis::Legal, None));
                prop_assert_eq!(e, ShareError::NameRequired);
                prop_assert_eq!(elicense_core::error::ErrorCode::code(&e), "share.holder_name_required");
            }
            Ok(check) => prop_assert_eq!(check.named(), named.as_ref()),
        }
    }

    #[test]
    fn a_named_request_reaches_only_a_license_of_that_name(
        b in basis(), asked in raw_name(), held in raw_name(),
    ) {
        let Some(holder) = HolderName::parse(&held) else { return Ok(()) };
        match name_check(b, HolderName::parse(&asked)) {
            Ok(check) => match check.named() {
                Some(named) => prop_assert_eq!(check.answers(&holder), named == &holder),
                // Only a request that needs consent names nobody; it reaches every license.
                None => prop_assert!(b == Basis::Consent && check.answers(&holder)),
            },
            Err(_) => prop_assert!(b == Basis::Legal && HolderName::parse(&asked).is_none()),
        }
    }

    #[test]
    fn normalising_a_name_is_idempotent_and_never_empty(raw in raw_name()) {
        if let Some(n) = HolderName::parse(&raw) {
            prop_assert!(!n.as_str().is_empty());
            prop_assert!(!n.as_str().starts_with(' ') && !n.as_str().ends_with(' '));
            prop_assert_eq!(HolderName::parse(n.as_str()), Some(n.clone()));
        } else {
            prop_assert!(raw.chars().all(char::is_whitespace));
        }
    }
}
