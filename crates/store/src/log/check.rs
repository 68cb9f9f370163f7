//! Does a leaf say what the database says? The one pure check an auditor with database
//! access runs on every leaf: the event it names exists and agrees with it, field by field,
//! and a use's stored opening hashes to the leaf's commitment and opens to that event.

use super::entry::LogEntry;
use super::opening::OpeningRecord;
use crate::records::EventRecord;

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
    let seq = leaf.event();
    match leaf {
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
