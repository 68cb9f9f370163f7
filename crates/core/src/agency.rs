//! Who may do what with one version of a license: the holder, the legal representative of an
//! enterprise holder, or an agent (代办) under an authorization. One pure function,
//! [`standing`], decides who someone is to a version; [`Standing::may`] decides what they may
//! do; callers never compare keys themselves.
//!
//! Invariants (each property-tested in `tests/agency.rs`):
//! - An authorization is bound to the holder who granted it: its [`Grant::holder_key`] is the
//!   keyed hash of the license holder at grant time. It reaches a version only if that version
//!   has the same lineage **and the same holder**, is current, and the grant is in force. A
//!   transfer (new holder) therefore ends every grant's reach, even before the store marks
//!   them ended.
//! - Nothing but viewing its own past is possible on a version that is not current
//!   (superseded): no authorize, withdraw, bind or present, by anyone.
//! - A holder (or representative) sees the versions they held, and only those: a former
//!   holder never reaches the new holder's version.
//! - An agent never manages authorizations and never sees the holder's history of uses.
//! - A representative is who the holder's license in force names ([`representation_holds`]),
//!   never who an account declares.

use std::fmt;

/// The keyed hash of a holder code, as the node stores it (never the code itself).
pub type HolderKey = str;

/// An authorization (代办) as the decision needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// Lineage (the license across versions) the grant is about.
    pub lineage: String,
    /// Keyed hash of the license holder who granted it.
    pub holder_key: String,
    /// Keyed hash of the agent's resident ID.
    pub agent_key: String,
    /// The one matter the agent may act for.
    pub matter: String,
    /// Unix seconds, inclusive.
    pub valid_from: i64,
    /// Unix seconds, exclusive.
    pub valid_until: i64,
    /// When the holder withdrew it.
    pub withdrawn_at: Option<i64>,
    /// When the node ended it (the license was transferred to another holder).
    pub ended_at: Option<i64>,
}

/// Where a grant stands at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantState {
    /// Its period has not begun.
    Pending,
    /// In force.
    Active,
    /// Its period is over.
    Expired,
    /// The holder withdrew it.
    Withdrawn,
    /// The license passed to another holder, which ended it.
    Ended,
}

impl GrantState {
    /// Stable code (`pending`, `active`, `expired`, `withdrawn`, `ended`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
            Self::Ended => "ended",
        }
    }
}

impl fmt::Display for GrantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Grant {
    /// The grant's state at `now`: withdrawn and ended win over the period.
    pub fn state(&self, now: i64) -> GrantState {
        if self.withdrawn_at.is_some() {
            GrantState::Withdrawn
        } else if self.ended_at.is_some() {
            GrantState::Ended
        } else if now < self.valid_from {
            GrantState::Pending
        } else if now >= self.valid_until {
            GrantState::Expired
        } else {
            GrantState::Active
        }
    }

    /// Whether the grant may still be withdrawn (it has not been withdrawn or ended).
    pub fn open(&self) -> bool {
        self.withdrawn_at.is_none() && self.ended_at.is_none()
    }
}

/// The facts about one license version that access depends on.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    pub lineage: &'a str,
    pub holder_key: &'a HolderKey,
    /// Not superseded by a later version.
    pub current: bool,
}

/// Who is asking: a person and the enterprises they represent (keyed hashes).
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub person_key: &'a HolderKey,
    pub represented: &'a [&'a HolderKey],
}

/// What someone is to a license version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing<'g> {
    /// The person holds it.
    Holder,
    /// The person represents the enterprise that holds it.
    Representative,
    /// The person is an agent under this grant (current version only).
    Agent(&'g Grant),
}

/// Something one may want to do with a license version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// See the version, its data and face.
    View,
    /// See the history of uses (who asked, why) of the versions one held.
    SeeUses,
    /// Grant or withdraw authorizations, see who is authorized.
    ManageAgents,
    /// Register a device key for the version.
    Bind,
    /// Show the version (a presentation) for a matter; `None` when the holder chooses fields.
    Present,
    /// Take a copy of the version to another wallet (an OpenID4VCI credential offer): the
    /// holder's or representative's own act, never an agent's.
    Export,
}

/// Why an act is refused to someone who may see the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The version was superseded: act on the current one.
    Superseded,
    /// An agent may not do this.
    AgentCannot,
}

impl Refusal {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Superseded => "wallet.superseded",
            Self::AgentCannot => "wallet.agent_cannot_delegate",
        }
    }
}

/// Whether a license version that names a legal representative (a `represents` data item)
/// makes that person the holder's representative now: only a current version in force
/// (valid, suspended, or past its validity and not yet renewed); a revoked, cancelled,
/// withdrawn or superseded version names nobody. The representative of a holder is
/// therefore the one its license names today: a change of representative on the license
/// moves the right at once.
pub fn representation_holds(status: crate::lifecycle::Status) -> bool {
    use crate::lifecycle::Status::*;
    match status {
        Valid | Suspended | Expired => true,
        Revoked | Cancelled | Withdrawn | Superseded => false,
    }
}

/// Who `viewer` is to `version`, given every grant made to the viewer (any lineage, any
/// state): `None` means the version does not exist for them.
pub fn standing<'g>(
    viewer: Viewer<'_>,
    version: Version<'_>,
    grants_to_viewer: &'g [Grant],
    now: i64,
) -> Option<Standing<'g>> {
    if version.holder_key == viewer.person_key {
        return Some(Standing::Holder);
    }
    if viewer.represented.contains(&version.holder_key) {
        return Some(Standing::Representative);
    }
    if !version.current {
        return None;
    }
    grants_to_viewer
        .iter()
        .find(|g| {
            g.agent_key == viewer.person_key
                && g.lineage == version.lineage
                && g.holder_key == version.holder_key
                && g.state(now) == GrantState::Active
        })
        .map(Standing::Agent)
}

impl Standing<'_> {
    /// Whether this standing allows `act` on a version that is (or is not) `current`.
    pub fn may(self, act: Act, current: bool) -> Result<(), Refusal> {
        let agent = matches!(self, Standing::Agent(_));
        match act {
            Act::View => Ok(()),
            Act::SeeUses | Act::ManageAgents | Act::Export if agent => Err(Refusal::AgentCannot),
            Act::SeeUses => Ok(()),
            Act::ManageAgents | Act::Bind | Act::Present | Act::Export if !current => {
                Err(Refusal::Superseded)
            }
            Act::ManageAgents | Act::Bind | Act::Present | Act::Export => Ok(()),
        }
    }

    /// `holder`, `enterprise` or `agent` (the actor of the events this standing causes).
    pub fn kind(self) -> &'static str {
        match self {
            Standing::Holder => "holder",
            Standing::Representative => "enterprise",
            Standing::Agent(_) => "agent",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(holder: &str, agent: &str) -> Grant {
        Grant {
            lineage: "L".into(),
            holder_key: holder.into(),
            agent_key: agent.into(),
            matter: "m".into(),
            valid_from: 0,
            valid_until: 100,
            withdrawn_at: None,
            ended_at: None,
        }
    }

    #[test]
    fn a_grant_of_the_former_holder_does_not_reach_the_new_holders_version() {
        let grants = [grant("alice", "agent")];
        let viewer = Viewer {
            person_key: "agent",
            represented: &[],
        };
        let before = Version {
            lineage: "L",
            holder_key: "alice",
            current: true,
        };
        let after = Version {
            lineage: "L",
            holder_key: "bob",
            current: true,
        };
        assert!(matches!(
            standing(viewer, before, &grants, 10),
            Some(Standing::Agent(_))
        ));
        assert_eq!(standing(viewer, after, &grants, 10), None);
    }

    #[test]
    fn grant_states() {
        let mut g = grant("a", "b");
        assert_eq!(g.state(-1), GrantState::Pending);
        assert_eq!(g.state(0), GrantState::Active);
        assert_eq!(g.state(100), GrantState::Expired);
        g.ended_at = Some(5);
        assert_eq!(g.state(10), GrantState::Ended);
        g.withdrawn_at = Some(6);
        assert_eq!(g.state(10), GrantState::Withdrawn);
    }
}
