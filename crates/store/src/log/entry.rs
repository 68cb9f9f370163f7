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

use elicense_core::lifecycle::Status;
use elicense_core::{EventKind, ReasonCategory};
use serde::{Deserialize, Serialize};

use super::opening::{OpeningRecord, UseEvent};
use crate::error::{Result, StoreError};
use crate::records::EventRecord;

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

/// One leaf of the event log, of any version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LogEntry {
    V1(EntryV1),
    Lifecycle(LifecycleLeaf),
    Use(UseLeaf),
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

    /// The canonical bytes (the Merkle leaf).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a LogEntry always serialises")
    }

    /// Parses leaf bytes of any version; accepts only the canonical encoding.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let Version { v } = serde_json::from_slice(bytes).map_err(corrupt)?;
        let entry = match v {
            1 => LogEntry::V1(serde_json::from_slice(bytes).map_err(corrupt)?),
            2 => match serde_json::from_slice::<UseLeaf>(bytes) {
                Ok(u) => LogEntry::Use(u),
                Err(_) => {
                    let l: LifecycleLeaf = serde_json::from_slice(bytes).map_err(corrupt)?;
                    if l.kind.is_use() {
                        return Err(corrupt(format!("a use ({}) in clear", l.kind)));
                    }
                    LogEntry::Lifecycle(l)
                }
            },
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
        }
    }

    /// The event's sequence number in the node's store.
    pub fn event(&self) -> i64 {
        match self {
            LogEntry::V1(e) => e.event,
            LogEntry::Lifecycle(e) => e.event,
            LogEntry::Use(e) => e.event,
        }
    }

    /// The license version the leaf names in clear: none for a committed use.
    pub fn identifier(&self) -> Option<&str> {
        match self {
            LogEntry::V1(e) => Some(&e.identifier),
            LogEntry::Lifecycle(e) => Some(&e.identifier),
            LogEntry::Use(_) => None,
        }
    }

    /// The status code the leaf gives its license version: none for a committed use.
    pub fn status(&self) -> Option<&str> {
        match self {
            LogEntry::V1(e) => Some(&e.status),
            LogEntry::Lifecycle(e) => Some(e.status.code()),
            LogEntry::Use(_) => None,
        }
    }

    /// The credential hash the leaf names: none for a committed use.
    pub fn credential_sha256(&self) -> Option<&str> {
        match self {
            LogEntry::V1(e) => Some(&e.credential_sha256),
            LogEntry::Lifecycle(e) => Some(&e.credential_sha256),
            LogEntry::Use(_) => None,
        }
    }

    /// The event kind in clear (a v1 leaf's text, a v2 lifecycle kind); none for a use.
    pub fn kind(&self) -> Option<&str> {
        match self {
            LogEntry::V1(e) => Some(&e.kind),
            LogEntry::Lifecycle(e) => Some(e.kind.as_str()),
            LogEntry::Use(_) => None,
        }
    }
}
