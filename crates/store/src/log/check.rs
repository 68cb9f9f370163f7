//! Does a leaf say what the database says? The one pure check an auditor with database
//! access runs on every leaf: the event it names exists and agrees with it, field by field,
//! and a use's stored opening hashes to the leaf's commitment and opens to that event.
//! Operator events have their own check ([`check_operator_leaf`]): the same, against
//! `operator_events` and `operator_openings`.

use super::entry::{LogEntry, OperatorEvent};
use super::opening::{OpeningRecord, OperatorOpeningRecord};
use crate::records::{EventRecord, OperatorEventRecord};

/// How a leaf disagrees with the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LeafMismatch {
    /// No stored event has the leaf's sequence number.
    #[error("event {seq} is not in the database")]
    NoEvent { seq: i64 },
    /// The leaf and the stored event differ in this field.
    #[error("event {seq}: the leaf's {field} is not the database's")]
    Field { seq: i64, field: &'static str },
    /// A use's leaf without a stored opening.
    #[error("event {seq}: no opening stored for the use's commitment")]
    NoOpening { seq: i64 },
    /// The stored opening does not hash to the leaf's commitment.
    #[error("event {seq}: the stored opening does not match the leaf's commitment")]
    Commitment { seq: i64 },
    /// The stored opening is not a canonical use event.
    #[error("event {seq}: the stored opening is unreadable: {why}")]
    BadOpening { seq: i64, why: String },
    /// An operator event's leaf was checked as a license event's.
    #[error("operator event {op} is not a license event")]
    NotALicenseEvent { op: i64 },
    /// A license event's leaf was checked as an operator event's.
    #[error("event {seq} is not an operator event")]
    NotAnOperatorEvent { seq: i64 },
    /// No stored operator event has the leaf's number.
    #[error("operator event {op} is not in the database")]
    NoOperatorEvent { op: i64 },
    /// The leaf (or its opening) and the stored operator event differ in this field.
    #[error("operator event {op}: the leaf's {field} is not the database's")]
    OperatorField { op: i64, field: &'static str },
    /// A committed operator event without a stored opening.
    #[error("operator event {op}: no opening stored for its commitment")]
    NoOperatorOpening { op: i64 },
    /// The stored opening does not hash to the leaf's commitment.
    #[error("operator event {op}: the stored opening does not match the leaf's commitment")]
    OperatorCommitment { op: i64 },
    /// The stored opening is not a canonical committed operator event.
    #[error("operator event {op}: the stored opening is unreadable: {why}")]
    BadOperatorOpening { op: i64, why: String },
}

fn same(seq: i64, field: &'static str, equal: bool) -> Result<(), LeafMismatch> {
    if equal {
        Ok(())
    } else {
        Err(LeafMismatch::Field { seq, field })
    }
}

fn stored(seq: i64, event: Option<&EventRecord>) -> Result<&EventRecord, LeafMismatch> {
    let e = event.ok_or(LeafMismatch::NoEvent { seq })?;
    same(seq, "sequence number", e.seq == seq)?;
    Ok(e)
}

/// Checks `leaf` against the stored event with its sequence number (`None`: not found) and,
/// for a use, the stored opening.
pub fn check_leaf(
    leaf: &LogEntry,
    event: Option<&EventRecord>,
    opening: Option<&OpeningRecord>,
) -> Result<(), LeafMismatch> {
    let seq = match leaf {
        LogEntry::V1(l) => l.event,
        LogEntry::Lifecycle(l) => l.event,
        LogEntry::Use(u) => u.event,
        LogEntry::Operator(OperatorEvent { op, .. })
        | LogEntry::OperatorCommit(super::entry::OperatorCommitLeaf { op, .. }) => {
            return Err(LeafMismatch::NotALicenseEvent { op: *op })
        }
    };
    match leaf {
        LogEntry::Operator(_) | LogEntry::OperatorCommit(_) => {
            Err(LeafMismatch::NotALicenseEvent { op: seq })
        }
        LogEntry::Use(u) => {
            let o = opening.ok_or(LeafMismatch::NoOpening { seq })?;
            same(seq, "sequence number", o.seq == seq)?;
            if o.commitment() != u.commitment {
                return Err(LeafMismatch::Commitment { seq });
            }
            let committed = o.use_event().map_err(|e| LeafMismatch::BadOpening {
                seq,
                why: e.to_string(),
            })?;
            let e = stored(seq, event)?;
            same(seq, "sequence number", committed.event == seq)?;
            same(seq, "identifier", committed.identifier == e.identifier)?;
            same(seq, "kind", committed.kind.as_str() == e.kind)?;
            same(seq, "actor", committed.actor == e.actor)?;
            same(seq, "time", committed.at == e.at)?;
            same(seq, "reason", committed.reason == e.reason)?;
            same(seq, "detail", committed.detail == e.detail)
        }
        LogEntry::V1(l) => {
            let e = stored(seq, event)?;
            same(seq, "identifier", l.identifier == e.identifier)?;
            same(seq, "kind", l.kind == e.kind)?;
            same(seq, "actor", l.actor == e.actor)?;
            same(seq, "time", l.at == e.at)?;
            same(seq, "reason", l.reason == e.reason)
        }
        LogEntry::Lifecycle(l) => {
            let e = stored(seq, event)?;
            same(seq, "identifier", l.identifier == e.identifier)?;
            same(seq, "kind", l.kind.as_str() == e.kind)?;
            same(seq, "time", l.at == e.at)?;
            same(
                seq,
                "reason category",
                l.reason.map(|r| r.as_str()) == e.reason_category.as_deref(),
            )
        }
    }
}

fn same_op(op: i64, field: &'static str, equal: bool) -> Result<(), LeafMismatch> {
    if equal {
        Ok(())
    } else {
        Err(LeafMismatch::OperatorField { op, field })
    }
}

/// Checks an operator event's `leaf` against the stored operator event with its number
/// (`None`: not found) and, for a committed one, the stored opening.
pub fn check_operator_leaf(
    leaf: &LogEntry,
    event: Option<&OperatorEventRecord>,
    opening: Option<&OperatorOpeningRecord>,
) -> Result<(), LeafMismatch> {
    let clear: OperatorEvent = match leaf {
        LogEntry::Operator(e) => e.clone(),
        LogEntry::OperatorCommit(c) => {
            let op = c.op;
            let o = opening.ok_or(LeafMismatch::NoOperatorOpening { op })?;
            same_op(op, "number", o.seq == op)?;
            if o.commitment() != c.commitment {
                return Err(LeafMismatch::OperatorCommitment { op });
            }
            o.operator_event()
                .map_err(|e| LeafMismatch::BadOperatorOpening {
                    op,
                    why: e.to_string(),
                })?
        }
        other => {
            return Err(LeafMismatch::NotAnOperatorEvent {
                seq: other.event().unwrap_or_default(),
            })
        }
    };
    let op = clear.op;
    let e = event.ok_or(LeafMismatch::NoOperatorEvent { op })?;
    same_op(
        op,
        "number",
        e.seq == op && leaf.operator_event() == Some(op),
    )?;
    same_op(op, "action", clear.action.as_str() == e.action)?;
    same_op(op, "subject", clear.subject == e.subject)?;
    same_op(op, "actor", clear.actor == e.actor)?;
    same_op(op, "time", clear.at == e.at)?;
    same_op(op, "date", clear.since == e.since)
}
