//! A stored event (a lifecycle event or a use) as the app reads it.
//!
//! Invariant: an [`Event`] has a known kind, a known reason category (if any) and a detail
//! that is JSON; any other stored value is `store.corrupt`. The identifier it is about stays
//! text: an event is only ever compared with the license versions read with it.

use elicense_core::{EventKind, ReasonCategory};
use elicense_store::EventRecord;
use serde_json::Value;

use super::corrupt;
use crate::error::{AppError, Result};

/// One stored event, its text fields parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    /// The public reason category of a lifecycle event that has one.
    pub reason_category: Option<ReasonCategory>,
    /// Extra facts (matter, institution, successor, …).
    pub detail: Value,
    /// The record as stored (seq, identifier, actor, time, the private reason).
    pub record: EventRecord,
}

impl Event {
    /// A text fact of the detail (`matter`, `successor`, …), if it has one.
    pub fn detail_text(&self, key: &str) -> Option<&str> {
        self.detail.get(key).and_then(Value::as_str)
    }
}

impl TryFrom<EventRecord> for Event {
    type Error = AppError;

    fn try_from(record: EventRecord) -> Result<Event> {
        let what = format!("event {}", record.seq);
        let kind = EventKind::parse(&record.kind)
            .map_err(|_| corrupt(&what, format_args!("kind {:?} is not known", record.kind)))?;
        let reason_category = record
            .reason_category
            .as_deref()
            .map(|c| {
                ReasonCategory::parse(c)
                    .map_err(|_| corrupt(&what, format_args!("reason category {c:?} is not known")))
            })
            .transpose()?;
        let detail = serde_json::from_str(&record.detail)
            .map_err(|e| corrupt(&what, format_args!("detail does not parse: {e}")))?;
        Ok(Event {
            kind,
            reason_category,
            detail,
            record,
        })
    }
}

impl TryFrom<&EventRecord> for Event {
    type Error = AppError;

    fn try_from(record: &EventRecord) -> Result<Event> {
        Event::try_from(record.clone())
    }
}

/// Every event of a list, in order; the first that does not parse is the error.
pub fn all(records: Vec<EventRecord>) -> Result<Vec<Event>> {
    records.into_iter().map(Event::try_from).collect()
}
