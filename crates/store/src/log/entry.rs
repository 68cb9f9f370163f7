//! The leaf format of the event log: what the public sees of each event.
//!
//! Invariants:
//! - A leaf is JSON with its fields in the order of its struct, no whitespace; [`LogEntry::parse`]
//!   accepts only that canonical encoding, so one event has one leaf.
//! - Version 1 (every leaf written before commitments): every event in clear, as it was.
//!   Still parsed; never written again.
//! - Version 2: a lifecycle event (issue or action) keeps its public facts in clear
//!   ([`LifecycleLeaf`]: identifier, kind, time, status, pledge, credential hash, and a reason
//!   only as a [`ReasonCategory`]); a use of a license is only a salted commitment
//!   ([`UseLeaf`], see [`super::opening`]): no identifier, institution, purpose or actor.
//! - A lifecycle leaf is built only for a lifecycle kind and a use leaf only for a use kind:
//!   the constructors refuse the other (`StoreError::Invalid`), so a use written through the
//!   wrong path cannot enter the log in clear.
//! - Version 2 also has operator events, which are about no license (an API key revoked, an
//!   issuer key retired or revoked, an institution or account disabled or enabled). They are
//!   numbered apart from license events (`op`, the row of `operator_events`). A public
//!   action ([`OperatorAction::is_public`]: facts about keys) is an [`OperatorEvent`] leaf in
//!   clear; any other (its subject is an institution or a holder's account) is only a salted
//!   commitment ([`OperatorCommitLeaf`], see [`super::opening`]). [`LogEntry::operator`]
//!   decides which from the action, and [`LogEntry::parse`] refuses a party's action in clear.

use elicense_core::lifecycle::Status;
use elicense_core::{EventKind, OperatorAction, ReasonCategory};
use serde::{Deserialize, Serialize};

use super::opening::{OpeningRecord, OperatorOpeningRecord, UseEvent};
use crate::error::{Result, StoreError};
use crate::records::{EventRecord, OperatorEventRecord};

/// Version 1 leaf: every event in clear (written before version 2; parsed, never written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryV1 {
    /// Format version, 1.
    pub v: u8,
    /// The event's sequence number in the node's store.
    pub event: i64,
    /// Identifier of the license version the event is about.
    pub identifier: String,
    /// `issue`, an action code or a use.
    pub kind: String,
    pub actor: String,
    /// Unix seconds.
    pub at: i64,
    /// The issuer's (or institution's) text.
    pub reason: Option<String>,
    /// Status of the license version `identifier` right after the event.
    pub status: String,
    pub pledged: bool,
    /// Lowercase hex SHA-256 of the credential (SD-JWT VC as issued) of `identifier`.
    pub credential_sha256: String,
}

/// Version 2 leaf of an issue or a lifecycle action: the public facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleLeaf {
    /// Format version, 2.
    pub v: u8,
    /// The event's sequence number in the node's store.
    pub event: i64,
    /// Identifier of the license version the event is about.
    pub identifier: String,
    /// `issue` or an action code; never a use.
    pub kind: EventKind,
    /// Unix seconds.
    pub at: i64,
    /// The public category of the reason (the free text stays in the store).
    pub reason: Option<ReasonCategory>,
    /// Status of the license version `identifier` right after the event.
    pub status: Status,
    pub pledged: bool,
    /// Lowercase hex SHA-256 of the credential (SD-JWT VC as issued) of `identifier`.
    pub credential_sha256: String,
}

/// Version 2 leaf of a use: the event's sequence number and the commitment to its opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseLeaf {
    /// Format version, 2.
    pub v: u8,
    /// The event's sequence number in the node's store.
    pub event: i64,
    /// Lowercase hex of the commitment ([`OpeningRecord::commitment`]).
    pub commitment: String,
}

/// Version 2 operator event: in clear as the leaf of a public action, or as the committed
/// bytes of an operator commitment's opening. The same fields either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorEvent {
    /// Format version, 2.
    pub v: u8,
    /// The operator event's number in the node's store (not a license event's `event`).
    pub op: i64,
    pub action: OperatorAction,
    /// What it acted on: an API key id, a kid (public actions); an institution code or an
    /// account id (committed actions only).
    pub subject: String,
    /// `operator:cli` or `operator:<operator key id>`.
    pub actor: String,
    /// Unix seconds.
    pub at: i64,
    /// For a key revocation: unix seconds from which the key's signatures are invalid.
    pub since: Option<i64>,
}

impl OperatorEvent {
    /// The canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an OperatorEvent always serialises")
    }

    /// Parses committed operator-event bytes; accepts only the canonical encoding of an
    /// action that is committed, never public.
    pub fn parse_committed(bytes: &[u8]) -> Result<Self> {
        let e: OperatorEvent = serde_json::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("operator opening: {e}")))?;
        if e.v != 2 || e.action.is_public() || e.to_bytes() != bytes {
            return Err(StoreError::Corrupt(
                "operator opening: not a canonical committed operator event".into(),
            ));
        }
        Ok(e)
    }
}

/// Version 2 leaf of an operator event whose subject is a party: its number and the
/// commitment to its opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorCommitLeaf {
    /// Format version, 2.
    pub v: u8,
    /// The operator event's number in the node's store.
    pub op: i64,
    /// Lowercase hex of the commitment ([`OperatorOpeningRecord::commitment`]).
    pub commitment: String,
}

/// One leaf of the event log, of any version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LogEntry {
    V1(EntryV1),
    Lifecycle(LifecycleLeaf),
    Use(UseLeaf),
    /// A public operator action, in clear.
    Operator(OperatorEvent),
    /// An operator action on a party, committed.
    OperatorCommit(OperatorCommitLeaf),
}

#[derive(Deserialize)]
struct Version {
    v: u8,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("log entry: {e}"))
}

/// The state of the license version right after an event, as its leaf records it.
#[derive(Debug, Clone, Copy)]
pub struct LeafState<'a> {
    /// Status code (`valid`, ...).
    pub status: &'a str,
    pub pledged: bool,
    /// The version's credential as issued.
    pub credential: &'a str,
}

impl LeafState<'_> {
    fn status(&self) -> Result<Status> {
        Status::parse(self.status)
            .ok_or_else(|| StoreError::Corrupt(format!("license status {:?}", self.status)))
    }
}

/// The kind of an event about to be written, parsed.
pub(crate) fn kind_of(event: &EventRecord) -> Result<EventKind> {
    EventKind::parse(&event.kind).map_err(|e| StoreError::Invalid(e.to_string()))
}

impl LogEntry {
    /// The leaf of a stored lifecycle event (issue or action). `Invalid` for a use, an
    /// unknown kind or reason category.
    pub fn lifecycle(event: &EventRecord, state: LeafState<'_>) -> Result<Self> {
        let kind = kind_of(event)?;
        if kind.is_use() {
            return Err(StoreError::Invalid(format!(
                "a use ({kind}) is logged only as a commitment"
            )));
        }
        let reason = event
            .reason_category
            .as_deref()
            .map(ReasonCategory::parse)
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(LogEntry::Lifecycle(LifecycleLeaf {
            v: 2,
            event: event.seq,
            identifier: event.identifier.clone(),
            kind,
            at: event.at,
            reason,
            status: state.status()?,
            pledged: state.pledged,
            credential_sha256: super::credential_sha256(state.credential),
        }))
    }

    /// The leaf of a stored use and the opening the node keeps, committed with `salt`.
    /// `Invalid` for a lifecycle or unknown kind.
    pub fn commit_use(
        event: &EventRecord,
        state: LeafState<'_>,
        salt: [u8; 32],
    ) -> Result<(Self, OpeningRecord)> {
        let kind = kind_of(event)?;
        if !kind.is_use() {
            return Err(StoreError::Invalid(format!(
                "{kind} is a lifecycle event, not a use"
            )));
        }
        let committed = UseEvent {
            v: 2,
            event: event.seq,
            identifier: event.identifier.clone(),
            kind,
            actor: event.actor.clone(),
            at: event.at,
            reason: event.reason.clone(),
            detail: event.detail.clone(),
            status: state.status()?,
            pledged: state.pledged,
            credential_sha256: super::credential_sha256(state.credential),
        };
        let opening = OpeningRecord {
            seq: event.seq,
            salt: salt.to_vec(),
            event: committed.to_bytes(),
        };
        let leaf = LogEntry::Use(UseLeaf {
            v: 2,
            event: event.seq,
            commitment: opening.commitment(),
        });
        Ok((leaf, opening))
    }

    /// The leaf of a stored operator event and, for an action that is not public, the
    /// opening the node keeps, committed with `salt`. `Invalid` for an unknown action, or a
    /// `since` given to an action without one (or missing from one that has it).
    pub fn operator(
        event: &OperatorEventRecord,
        salt: [u8; 32],
    ) -> Result<(Self, Option<OperatorOpeningRecord>)> {
        let action =
            OperatorAction::parse(&event.action).map_err(|e| StoreError::Invalid(e.to_string()))?;
        if action.has_since() != event.since.is_some() {
            return Err(StoreError::Invalid(format!(
                "{action}: a date from which it applies is {}",
                if action.has_since() {
                    "required"
                } else {
                    "not allowed"
                }
            )));
        }
        let e = OperatorEvent {
            v: 2,
            op: event.seq,
            action,
            subject: event.subject.clone(),
            actor: event.actor.clone(),
            at: event.at,
            since: event.since,
        };
        if action.is_public() {
            return Ok((LogEntry::Operator(e), None));
        }
        let opening = OperatorOpeningRecord {
            seq: event.seq,
            salt: salt.to_vec(),
            event: e.to_bytes(),
        };
        let leaf = LogEntry::OperatorCommit(OperatorCommitLeaf {
            v: 2,
            op: event.seq,
            commitment: opening.commitment(),
        });
        Ok((leaf, Some(opening)))
    }

    /// The canonical bytes (the Merkle leaf).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a LogEntry always serialises")
    }

    /// Parses leaf bytes of any version; accepts only the canonical encoding.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let Version { v } = serde_json::from_slice(bytes).map_err(corrupt)?;
        let entry = match v {
            1 => LogEntry::V1(serde_json::from_slice(bytes).map_err(corrupt)?),
            2 => parse_v2(bytes)?,
            other => return Err(corrupt(format!("unknown version {other}"))),
        };
        if entry.version() != v {
            return Err(corrupt("version field"));
        }
        if entry.to_bytes() != bytes {
            return Err(StoreError::Corrupt("log entry is not canonical".into()));
        }
        Ok(entry)
    }

    /// The format version.
    pub fn version(&self) -> u8 {
        match self {
            LogEntry::V1(e) => e.v,
            LogEntry::Lifecycle(e) => e.v,
            LogEntry::Use(e) => e.v,
            LogEntry::Operator(e) => e.v,
            LogEntry::OperatorCommit(e) => e.v,
        }
    }

    /// The license event's sequence number in the node's store: none for an operator event.
    pub fn event(&self) -> Option<i64> {
        match self {
            LogEntry::V1(e) => Some(e.event),
            LogEntry::Lifecycle(e) => Some(e.event),
            LogEntry::Use(e) => Some(e.event),
            LogEntry::Operator(_) | LogEntry::OperatorCommit(_) => None,
        }
    }

    /// The operator event's number in the node's store: none for a license event.
    pub fn operator_event(&self) -> Option<i64> {
        match self {
            LogEntry::Operator(e) => Some(e.op),
            LogEntry::OperatorCommit(e) => Some(e.op),
            _ => None,
        }
    }

    /// The key of the leaf's row in `log_entries.seq`: the license event's sequence number,
    /// or minus the operator event's number (see [`crate::log`]).
    pub(crate) fn row_key(&self) -> i64 {
        match (self.event(), self.operator_event()) {
            (Some(seq), _) => seq,
            (None, op) => -op.unwrap_or_default(),
        }
    }

    /// True for an operator event's leaf (about no license).
    pub fn is_operator(&self) -> bool {
        self.operator_event().is_some()
    }

    /// The license version the leaf names in clear: none for a committed use.
    pub fn identifier(&self) -> Option<&str> {
        match self {
            LogEntry::V1(e) => Some(&e.identifier),
            LogEntry::Lifecycle(e) => Some(&e.identifier),
            LogEntry::Use(_) | LogEntry::Operator(_) | LogEntry::OperatorCommit(_) => None,
        }
    }

    /// The status code the leaf gives its license version: none for a committed use.
    pub fn status(&self) -> Option<&str> {
        match self {
            LogEntry::V1(e) => Some(&e.status),
            LogEntry::Lifecycle(e) => Some(e.status.code()),
            LogEntry::Use(_) | LogEntry::Operator(_) | LogEntry::OperatorCommit(_) => None,
        }
    }

    /// The credential hash the leaf names: none for a committed use.
    pub fn credential_sha256(&self) -> Option<&str> {
        match self {
            LogEntry::V1(e) => Some(&e.credential_sha256),
            LogEntry::Lifecycle(e) => Some(&e.credential_sha256),
            LogEntry::Use(_) | LogEntry::Operator(_) | LogEntry::OperatorCommit(_) => None,
        }
    }

    /// The event kind in clear (a v1 leaf's text, a v2 lifecycle kind, a public operator
    /// action); none for a commitment.
    pub fn kind(&self) -> Option<&str> {
        match self {
            LogEntry::V1(e) => Some(&e.kind),
            LogEntry::Lifecycle(e) => Some(e.kind.as_str()),
            LogEntry::Operator(e) => Some(e.action.as_str()),
            LogEntry::Use(_) | LogEntry::OperatorCommit(_) => None,
        }
    }
}

/// A version 2 leaf: the shapes differ in their field names (`deny_unknown_fields`), so at
/// most one parses.
fn parse_v2(bytes: &[u8]) -> Result<LogEntry> {
    // As at most one shape parses, the order decides only the cost: each failed attempt is a
    // pass over the text and a formatted error, so the most common leaves (lifecycle, what
    // upward sync reads on both sides) go first. A leaf of no shape reports the lifecycle
    // attempt's error.
    let not_lifecycle = match serde_json::from_slice::<LifecycleLeaf>(bytes) {
        Ok(l) if l.kind.is_use() => {
            return Err(corrupt(format!("a use ({}) in clear", l.kind)));
        }
        Ok(l) => return Ok(LogEntry::Lifecycle(l)),
        Err(e) => e,
    };
    if let Ok(u) = serde_json::from_slice::<UseLeaf>(bytes) {
        return Ok(LogEntry::Use(u));
    }
    if let Ok(c) = serde_json::from_slice::<OperatorCommitLeaf>(bytes) {
        return Ok(LogEntry::OperatorCommit(c));
    }
    let o: OperatorEvent = serde_json::from_slice(bytes).map_err(|_| corrupt(not_lifecycle))?;
    if !o.action.is_public() {
        return Err(corrupt(format!(
            "an operator action on a party ({}) in clear",
            o.action
        )));
    }
    Ok(LogEntry::Operator(o))
}
