//! Properties of the sharing-request state machine (`elicense_core::share`).

use elicense_core::share::{decide, open, state_at, Basis, Decision, ShareError, ShareState};
use proptest::prelude::*;

fn stored() -> impl Strategy<Value = ShareState> {
    prop_oneof![
        Just(ShareState::Pending),
        Just(ShareState::Granted),
        Just(ShareState::Refused),
    ]
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
