//! A stored sharing request as the app reads it.
//!
//! Invariant: a [`Share`] has a known basis and stored state (`elicense_core::share`) and a
//! strict identifier of the license version it concerns; any other stored value is
//! `store.corrupt`.

use elicense_core::share::{self, Basis, ShareState};
use elicense_core::Identifier;
use elicense_store::ShareRecord;

use super::corrupt;
use crate::error::{AppError, Result};

/// One stored sharing request, its text fields parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The license version it concerns.
    pub identifier: Identifier,
    pub basis: Basis,
    /// The state as stored (a pending request may have lapsed since: [`Share::state_at`]).
    pub stored_state: ShareState,
    /// The record as stored (institution, staff, matter, purpose, times, the copy).
    pub record: ShareRecord,
}

impl Share {
    /// Its state at `now`, decided by `elicense_core::share::state_at`.
    pub fn state_at(&self, now: i64) -> ShareState {
        share::state_at(self.stored_state, self.record.expires_at, now)
    }
}

impl TryFrom<ShareRecord> for Share {
    type Error = AppError;

    fn try_from(record: ShareRecord) -> Result<Share> {
        let what = format!("request {}", record.id);
        let basis = Basis::parse(&record.basis)
            .ok_or_else(|| corrupt(&what, format_args!("basis {:?} is not known", record.basis)))?;
        let stored_state = ShareState::parse(&record.state)
            .ok_or_else(|| corrupt(&what, format_args!("state {:?} is not known", record.state)))?;
        let identifier = super::identifier(&what, &record.identifier)?;
        Ok(Share {
            identifier,
            basis,
            stored_state,
            record,
        })
    }
}

impl TryFrom<&ShareRecord> for Share {
    type Error = AppError;

    fn try_from(record: &ShareRecord) -> Result<Share> {
        Share::try_from(record.clone())
    }
}
