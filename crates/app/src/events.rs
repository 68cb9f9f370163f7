//! Stored events as the app reads them: the one place where a record's kind (and reason
//! category) text becomes a domain value.
//!
//! Invariant: a stored value that does not parse is `store.corrupt` (the database was changed
//! outside elicense), never skipped or guessed.

use elicense_core::{EventKind, ReasonCategory};
use elicense_store::EventRecord;

use crate::error::{AppError, ErrorKind, Result};

fn corrupt(e: &EventRecord, what: &str, value: &str) -> AppError {
    AppError::new(
        ErrorKind::Internal,
        "store.corrupt",
        format!("event {}: stored {what} {value:?} is not known", e.seq),
    )
}

/// The kind of a stored event.
pub fn kind(e: &EventRecord) -> Result<EventKind> {
    EventKind::parse(&e.kind).map_err(|_| corrupt(e, "kind", &e.kind))
}

/// The public reason category of a stored event, if it has one.
pub fn reason_category(e: &EventRecord) -> Result<Option<ReasonCategory>> {
    e.reason_category
        .as_deref()
        .map(|c| ReasonCategory::parse(c).map_err(|_| corrupt(e, "reason category", c)))
        .transpose()
}
