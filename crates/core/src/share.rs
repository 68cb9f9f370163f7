//! A sharing request (用证请求): an institution asks for a holder's license for one matter.
//! [`open`] decides the state a new request starts in, [`state_at`] what a stored request is
//! at a moment, [`decide`] whether the holder's decision applies, [`name_check`] and
//! [`NameCheck::answers`] which license a request may reach. Pure and total, like
//! `lifecycle::transition`; property-tested in `tests/share.rs`.
//!
//! Invariants:
//! - A request under a legal basis (法定依据) names the holder (`share.holder_name_required`
//!   otherwise) and reaches a license only when that name equals the holder's name on it
//!   ([`HolderName`]: normalised, never fuzzy): an ID number alone yields nothing. A request
//!   that needs consent may leave the name out; one it gives must match too.
//! - A request under a legal basis is granted when made; nobody decides it.
//! - A request that needs consent is pending until the holder consents or refuses, or until
//!   it lapses at its deadline; a lapsed request is `Expired` and accepts no decision.
//! - Granted, refused and expired are final.
//! - A request is made by a registered staff member of the institution, for a matter assigned
//!   to them, while they are not disabled ([`Staff::may_ask`]).

use std::fmt;

use crate::error::ErrorCode;
use crate::holder::HolderName;

/// Why an institution may have the license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basis {
    /// A law or regulation requires the holder to show it for this matter (e.g. hotel
    /// registration): no consent is asked.
    Legal,
    /// The holder's consent.
    Consent,
}

impl Basis {
    /// Stable code: `legal` or `consent`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Legal => "legal",
            Self::Consent => "consent",
        }
    }

    /// Parses a [`Basis::code`].
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "legal" => Some(Self::Legal),
            "consent" => Some(Self::Consent),
            _ => None,
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShareState {
    /// Waiting for the holder.
    Pending,
    /// The institution has (or had) an annotated copy.
    Granted,
    /// The holder refused.
    Refused,
    /// Nobody decided before the deadline (never stored: a pending request past its deadline).
    Expired,
}

impl ShareState {
    /// Stable code: `pending`, `granted`, `refused`, `expired`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Granted => "granted",
            Self::Refused => "refused",
            Self::Expired => "expired",
        }
    }

    /// Parses a [`ShareState::code`].
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "pending" => Some(Self::Pending),
            "granted" => Some(Self::Granted),
            "refused" => Some(Self::Refused),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }

    /// No decision can change it any more.
    pub fn is_final(self) -> bool {
        self != Self::Pending
    }
}

impl fmt::Display for ShareState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The holder's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Consent,
    Refuse,
}

/// Why a decision does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShareError {
    /// The request is granted, refused or expired already.
    #[error("the request is {0} already")]
    Decided(ShareState),
    /// A request under a legal basis that does not name the holder.
    #[error("a request under a legal basis must name the holder (holder_name)")]
    NameRequired,
    /// The staff member asking was disabled by the institution.
    #[error("this staff member is disabled")]
    StaffDisabled,
    /// The matter is not assigned to the staff member asking.
    #[error("the matter is not assigned to this staff member")]
    StaffNotAssigned,
}

impl ErrorCode for ShareError {
    fn code(&self) -> &'static str {
        match self {
            Self::Decided(_) => "share.decided",
            Self::NameRequired => "share.holder_name_required",
            Self::StaffDisabled => "share.staff_disabled",
            Self::StaffNotAssigned => "share.staff_not_assigned",
        }
    }
}

/// A staff member of an institution as the decision needs them.
#[derive(Debug, Clone, Copy)]
pub struct Staff<'a> {
    /// The matters assigned to them.
    pub matters: &'a [String],
    pub disabled: bool,
}

impl Staff<'_> {
    /// Whether they may ask for `matter`: not when disabled (`share.staff_disabled`), nor for
    /// a matter not assigned to them (`share.staff_not_assigned`).
    pub fn may_ask(self, matter: &str) -> Result<(), ShareError> {
        if self.disabled {
            return Err(ShareError::StaffDisabled);
        }
        if !self.matters.iter().any(|m| m == matter) {
            return Err(ShareError::StaffNotAssigned);
        }
        Ok(())
    }
}

/// The state a new request starts in.
pub fn open(basis: Basis) -> ShareState {
    match basis {
        Basis::Legal => ShareState::Granted,
        Basis::Consent => ShareState::Pending,
    }
}

/// The state of a stored request at `now`: a pending request past its deadline is expired.
pub fn state_at(stored: ShareState, deadline: i64, now: i64) -> ShareState {
    match stored {
        ShareState::Pending if now >= deadline => ShareState::Expired,
        s => s,
    }
}

/// The state after the holder's `decision` at `now`, if it applies.
pub fn decide(
    stored: ShareState,
    deadline: i64,
    decision: Decision,
    now: i64,
) -> Result<ShareState, ShareError> {
    match state_at(stored, deadline, now) {
        ShareState::Pending => Ok(match decision {
            Decision::Consent => ShareState::Granted,
            Decision::Refuse => ShareState::Refused,
        }),
        s => Err(ShareError::Decided(s)),
    }
}

/// Which holder's licenses a request may reach, by name; made only by [`name_check`], so an
/// unnamed check exists only for a request that needs consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCheck(Option<HolderName>);

impl NameCheck {
    /// Whether a license whose holder is named `holder` answers the request: the names are
    /// equal, or the request (one that needs consent) named nobody.
    pub fn answers(&self, holder: &HolderName) -> bool {
        self.0.as_ref().is_none_or(|named| named == holder)
    }

    /// The name the request gave.
    pub fn named(&self) -> Option<&HolderName> {
        self.0.as_ref()
    }
}

/// The name check of a request under `basis` that gave `named` (already normalised; a blank
/// name is no name), decided before any license is looked at: a legal basis needs a name.
pub fn name_check(basis: Basis, named: Option<HolderName>) -> Result<NameCheck, ShareError> {
    match (basis, named) {
        (Basis::Legal, None) => Err(ShareError::NameRequired),
        (_, named) => Ok(NameCheck(named)),
    }
}
