//! A stored authorization (代办) as the app reads it.
//!
//! Invariant: an [`Authorization`] has a strict identifier of the version it was granted on,
//! and its grant is what `elicense_core::agency` decides with; a period that ends before it
//! starts or an identifier that does not parse is `store.corrupt`.

use elicense_core::agency::Grant;
use elicense_core::Identifier;
use elicense_store::AuthorizationRecord;

use super::corrupt;
use crate::error::{AppError, Result};

/// One stored authorization, as the core's access decision sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The license version it was granted on.
    pub identifier: Identifier,
    /// Lineage, holder, agent, matter and period.
    pub grant: Grant,
    /// The record as stored (id, the agent's name, times).
    pub record: AuthorizationRecord,
}

impl TryFrom<AuthorizationRecord> for Authorization {
    type Error = AppError;

    fn try_from(a: AuthorizationRecord) -> Result<Authorization> {
        let what = format!("authorization {}", a.id);
        let identifier = super::identifier(&what, &a.identifier)?;
        if a.valid_until < a.valid_from {
            return Err(corrupt(&what, "period ends before it starts"));
        }
        let grant = Grant {
            lineage: a.lineage.clone(),
            holder_key: a.holder_key.clone(),
            agent_key: a.agent_key.clone(),
            matter: a.matter.clone(),
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            withdrawn_at: a.withdrawn_at,
            ended_at: a.ended_at,
        };
        Ok(Authorization {
            identifier,
            grant,
            record: a,
        })
    }
}

impl TryFrom<&AuthorizationRecord> for Authorization {
    type Error = AppError;

    fn try_from(a: &AuthorizationRecord) -> Result<Authorization> {
        Authorization::try_from(a.clone())
    }
}
