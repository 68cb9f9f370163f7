//! Stored records as the app reads them: for each concept, the one place where a plain record
//! of `elicense_store` (text, numbers, JSON text) becomes a domain value, through `TryFrom`.
//!
//! | record | domain value | module |
//! | --- | --- | --- |
//! | `LicenseRecord` | [`License`] (identifier, status, metadata, algorithm) | `license` |
//! | `EventRecord` | [`Event`] (kind, reason category, detail) | `event` |
//! | `ShareRecord` | [`Share`] (identifier, basis, stored state) | `share` |
//! | `AuthorizationRecord` | [`Authorization`] (identifier, `agency::Grant`) | `authorization` |
//! | `OperatorEventRecord` | `operator::OperatorEvent` | `crate::operator` |
//! | `SignInFailureRecord` | `wallet::security::Failure` | `crate::wallet::security` |
//!
//! Invariant: a stored value that does not parse (an unknown status, kind, basis or state, an
//! identifier that is not a strict GB/T 36904 identifier, JSON that does not parse, metadata
//! of another version) is `store.corrupt` ([`corrupt`], an internal error: the database was
//! changed outside elicense). Nothing is skipped, guessed or defaulted.

mod authorization;
pub mod event;
mod license;
mod share;

pub use authorization::Authorization;
pub use event::Event;
pub use license::License;
pub use share::Share;

use crate::error::{AppError, ErrorKind};

/// The error for a stored value that does not parse: `store.corrupt`, naming the record
/// (`what`, e.g. `license 1.2.156…`) and what of it is wrong.
pub fn corrupt(what: impl std::fmt::Display, problem: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Internal,
        "store.corrupt",
        format!("{what}: stored {problem}"),
    )
}

/// A stored identifier as a strict [`elicense_core::Identifier`] (this node issues only
/// those), else `store.corrupt`.
pub(crate) fn identifier(
    what: impl std::fmt::Display,
    text: &str,
) -> Result<elicense_core::Identifier, AppError> {
    elicense_core::Identifier::parse(text).map_err(|e| {
        corrupt(
            what,
            format_args!("identifier {text:?} does not parse: {e}"),
        )
    })
}
