//! Properties of `agency::standing` and `Standing::may` over arbitrary viewers, versions and
//! grants: the invariants stated in the module header.

use elicense_core::agency::{standing, Act, Grant, GrantState, Refusal, Standing, Version, Viewer};
use proptest::prelude::*;

const KEYS: [&str; 4] = ["alice", "bob", "carol", "acme"];
const LINEAGES: [&str; 2] = ["L1", "L2"];

fn grant() -> impl Strategy<Value = Grant> {
    (
        0..2usize,
        0..4usize,
        0..4usize,
        -50i64..50,
        0i64..100,
        proptest::option::of(0i64..10),
        proptest::option::of(0i64..10),
    )
        .prop_map(|(l, h, a, from, len, withdrawn_at, ended_at)| Grant {
            lineage: LINEAGES[l].into(),
            holder_key: KEYS[h].into(),
            agent_key: KEYS[a].into(),
            matter: "m".into(),
            valid_from: from,
            valid_until: from + len,
            withdrawn_at,
            ended_at,
        })
}

const ACTS: [Act; 6] = [
    Act::View,
    Act::SeeUses,
    Act::ManageAgents,
    Act::Bind,
    Act::Present,
    Act::Export,
];

proptest! {
    #[test]
    fn access_follows_the_holder(
        grants in proptest::collection::vec(grant(), 0..6),
        person in 0..4usize,
        represents in proptest::option::of(0..4usize),
        holder in 0..4usize,
        lineage in 0..2usize,
        current: bool,
        now in -60i64..160,
    ) {
        let represented: Vec<&str> = represents.map(|r| KEYS[r]).into_iter().collect();
        let viewer = Viewer { person_key: KEYS[person], represented: &represented };
        let version = Version { lineage: LINEAGES[lineage], holder_key: KEYS[holder], current };
        let s = standing(viewer, version, &grants, now);
        match s {
            Some(Standing::Holder) => prop_assert_eq!(person, holder),
            Some(Standing::Representative) => {
                prop_assert!(represented.contains(&KEYS[holder]));
                prop_assert_ne!(person, holder);
            }
            Some(Standing::Agent(g)) => {
                // Only a grant of this holder, on this lineage, in force, to this person,
                // on the current version.
                prop_assert!(current);
                prop_assert_eq!(g.holder_key.as_str(), KEYS[holder]);
                prop_assert_eq!(g.lineage.as_str(), LINEAGES[lineage]);
                prop_assert_eq!(g.agent_key.as_str(), KEYS[person]);
                prop_assert_eq!(g.state(now), GrantState::Active);
            }
            None => {
                prop_assert_ne!(person, holder);
                prop_assert!(!represented.contains(&KEYS[holder]));
                let reaching = grants.iter().any(|g| {
                    current
                        && g.agent_key == KEYS[person]
                        && g.holder_key == KEYS[holder]
                        && g.lineage == LINEAGES[lineage]
                        && g.state(now) == GrantState::Active
                });
                prop_assert!(!reaching);
            }
        }
        if let Some(s) = s {
            for act in ACTS {
                let r = s.may(act, current);
                match act {
                    Act::View => prop_assert!(r.is_ok()),
                    _ if matches!(s, Standing::Agent(_))
                        && matches!(act, Act::SeeUses | Act::ManageAgents | Act::Export) =>
                    {
                        prop_assert_eq!(r, Err(Refusal::AgentCannot))
                    }
                    Act::SeeUses => prop_assert!(r.is_ok()),
                    _ if !current => prop_assert_eq!(r, Err(Refusal::Superseded)),
                    _ => prop_assert!(r.is_ok()),
                }
            }
        }
    }

    #[test]
    fn a_withdrawn_or_ended_grant_is_never_in_force(g in grant(), now in -60i64..160) {
        if g.withdrawn_at.is_some() || g.ended_at.is_some() {
            prop_assert_ne!(g.state(now), GrantState::Active);
            prop_assert!(!g.open());
        }
    }
}
