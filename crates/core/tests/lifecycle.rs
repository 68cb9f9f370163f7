//! The lifecycle table, and property tests of the state machine against it.

use elicense_core::lifecycle::{transition, Action, LifecycleState, Status, TransitionError};
use elicense_core::ErrorCode;
use proptest::prelude::*;
use Action::*;
use Status::*;

/// The rules, written out independently of the implementation:
/// (action, from statuses, status afterwards (None = unchanged), pledge requirement).
#[derive(Clone, Copy, PartialEq)]
enum Pledge {
    Any,
    MustNot,
    Must,
}

const TABLE: [(Action, &[Status], Option<Status>, Pledge); 12] = [
    (Change, &[Valid], Some(Superseded), Pledge::Any),
    (Extend, &[Valid, Expired], Some(Superseded), Pledge::Any),
    (Transfer, &[Valid], Some(Superseded), Pledge::MustNot),
    (Suspend, &[Valid], Some(Suspended), Pledge::Any),
    (Reinstate, &[Suspended], Some(Valid), Pledge::Any),
    (Revoke, &[Valid, Suspended], Some(Revoked), Pledge::Any),
    (Withdraw, &[Valid, Suspended], Some(Withdrawn), Pledge::Any),
    (
        Cancel,
        &[Valid, Suspended],
        Some(Cancelled),
        Pledge::MustNot,
    ),
    (AnnualInspection, &[Valid], Some(Valid), Pledge::Any),
    (Pledge, &[Valid], None, Pledge::MustNot),
    (Release, &[Valid, Suspended, Expired], None, Pledge::Must),
    (Expire, &[Valid, Suspended], Some(Expired), Pledge::Any),
];

fn expected(state: LifecycleState, action: Action) -> Option<LifecycleState> {
    let (_, from, to, pledge) = TABLE.iter().find(|row| row.0 == action).unwrap();
    let pledge_ok = match pledge {
        Pledge::Any => true,
        Pledge::MustNot => !state.pledged,
        Pledge::Must => state.pledged,
    };
    (from.contains(&state.status) && pledge_ok).then(|| LifecycleState {
        status: to.unwrap_or(state.status),
        pledged: match action {
            Pledge => true,
            Release => false,
            _ => state.pledged,
        },
    })
}

fn any_state() -> impl Strategy<Value = LifecycleState> {
    (
        proptest::sample::select(Status::ALL.to_vec()),
        any::<bool>(),
    )
        .prop_map(|(status, pledged)| LifecycleState { status, pledged })
}

fn any_action() -> impl Strategy<Value = Action> {
    proptest::sample::select(Action::ALL.to_vec())
}

#[test]
fn table_is_exhaustive_and_matches() {
    for status in Status::ALL {
        for pledged in [false, true] {
            let state = LifecycleState { status, pledged };
            for action in Action::ALL {
                let got = transition(state, action).ok();
                assert_eq!(
                    got,
                    expected(state, action),
                    "{status} pledged={pledged} {action}"
                );
            }
        }
    }
}

#[test]
fn examples() {
    let s = LifecycleState::ISSUED;
    let s = transition(s, Pledge).unwrap();
    assert!(s.pledged);
    let e = transition(s, Cancel).unwrap_err();
    assert_eq!(e, TransitionError::Pledged { action: Cancel });
    assert_eq!(e.code(), "lifecycle.pledged");
    assert!(e.to_string().contains("质押") && e.to_string().contains("cancel"));
    assert_eq!(
        transition(s, Transfer).unwrap_err().code(),
        "lifecycle.pledged"
    );
    let changed = transition(s, Change).unwrap();
    assert_eq!(
        changed,
        LifecycleState {
            status: Superseded,
            pledged: true
        }
    );
    let s = transition(s, Release).unwrap();
    assert_eq!(
        transition(s, Release).unwrap_err().code(),
        "lifecycle.not_pledged"
    );
    let s = transition(s, Expire).unwrap();
    assert_eq!(transition(s, Extend).unwrap().status, Superseded);
    assert_eq!(
        transition(s, Suspend).unwrap_err().code(),
        "lifecycle.illegal_transition"
    );
    assert!(Change.creates_version() && Extend.creates_version() && Transfer.creates_version());
    assert_eq!(
        Action::ALL.iter().filter(|a| a.creates_version()).count(),
        3
    );
    assert_eq!(Valid.status_list_value(), 0);
    assert_eq!(Suspended.label_zh(), "暂扣");
    assert_eq!(Withdrawn.label_zh(), "吊销");
}

proptest! {
    #[test]
    fn accepted_iff_in_table(state in any_state(), action in any_action()) {
        let got = transition(state, action);
        prop_assert_eq!(got.as_ref().ok().copied(), expected(state, action));
        if let Err(e) = got {
            prop_assert!(e.code().starts_with("lifecycle."));
        }
    }

    #[test]
    fn terminal_states_are_final(actions in proptest::collection::vec(any_action(), 0..40)) {
        let mut state = LifecycleState::ISSUED;
        let mut terminal: Option<LifecycleState> = None;
        for action in actions {
            match transition(state, action) {
                Ok(next) => {
                    prop_assert!(terminal.is_none(), "left terminal {:?} by {}", terminal, action);
                    state = next;
                }
                Err(_) => prop_assert_eq!(terminal.is_some() || expected(state, action).is_none(), true),
            }
            if state.status.is_terminal() {
                terminal = Some(state);
            }
            let v = state.status.status_list_value();
            let want = match state.status { Valid => 0, Suspended => 2, _ => 1 };
            prop_assert_eq!(v, want);
            prop_assert_eq!(Status::parse(state.status.code()), Some(state.status));
        }
    }
}
