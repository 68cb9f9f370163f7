//! Issuing authorities change (merger, renaming, dissolution): the operator names an
//! authority's successor and the time it ended (`elicense issuer succeed`, `POST
//! /api/v1/operator/issuers/{code}/succession`); from then on the successor acts for the old
//! authority's licenses.
//!
//! Invariants:
//! - A succession is one operator event (`issuer_succeed`, public: subject `OLD>NEW`,
//!   `since` = the end), stored with the change in one transaction; an authority is
//!   succeeded at most once (`issuer.already_succeeded`), never by itself or by an
//!   authority whose own chain leads back to it (`issuer.succession_cycle`); both must be
//!   issuers of this node (`issuer.unknown`).
//! - [`authorize`] is the one decision who may act on a license issued by `owner`: the
//!   authority at the end of `owner`'s chain of ended authorities ([`acting_authority`]:
//!   follow `successor` while `ended_at <= now`). So before its end the old authority acts
//!   itself; after it only the successor (or its own successor, once that ended) does, and
//!   the old authority's keys are refused with `issuer.ended`; anyone else gets
//!   `license.not_your_license`. The licenses keep their identifiers, keys and status: they
//!   keep verifying. An ended authority issues nothing more (`issue::prepare`,
//!   `issuer.ended`).

use std::sync::Arc;

use elicense_core::gb32100::Uscc;
use elicense_core::{OperatorAction, OperatorActor};
use elicense_store::OperatorChange;

use crate::error::{AppError, Result};
use crate::node::Node;
use crate::operator::{apply, conflict, event, invalid, Done, Since};

fn unknown(code: &str) -> AppError {
    AppError::not_found("issuer.unknown", format!("no issuer {code} on this node"))
}

/// Names `successor` as the authority that takes over from `code`, which ends at `at`
/// (default: now). See the module invariants.
pub async fn succeed(
    node: &Arc<Node>,
    actor: &OperatorActor,
    code: &str,
    successor: &str,
    at: Option<Since>,
) -> Result<Done> {
    let code = Uscc::parse(code.trim())
        .map_err(AppError::invalid)?
        .to_string();
    let successor = Uscc::parse(successor.trim())
        .map_err(AppError::invalid)?
        .to_string();
    if code == successor {
        return Err(invalid(
            "issuer.succession_cycle",
            format!("issuer {code} cannot succeed itself"),
        ));
    }
    let old = node
        .store
        .issuer(&code)
        .await?
        .ok_or_else(|| unknown(&code))?;
    if old.successor.is_some() {
        return Err(conflict(
            "issuer.already_succeeded",
            format!("issuer {code} has a successor already"),
        ));
    }
    node.store
        .issuer(&successor)
        .await?
        .ok_or_else(|| unknown(&successor))?;
    // The successor's own chain must not lead back to `code`.
    let mut at_code = successor.clone();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(next) = node.store.issuer(&at_code).await?.and_then(|i| i.successor) {
        if next == code {
            return Err(invalid(
                "issuer.succession_cycle",
                format!("{successor} is succeeded, in turn, by {code}"),
            ));
        }
        if !seen.insert(next.clone()) {
            break;
        }
        at_code = next;
    }
    let ended_at = at.map(|s| s.0).unwrap_or_else(|| node.now());
    let change = OperatorChange::Succeed {
        code: code.clone(),
        successor: successor.clone(),
        ended_at,
    };
    let ev = event(
        node,
        actor,
        OperatorAction::IssuerSucceed,
        &format!("{code}>{successor}"),
        Some(ended_at),
    );
    let done = apply(
        node,
        change,
        ev,
        "issuer.unknown",
        "issuer.already_succeeded",
    )
    .await?;
    node.trust_inputs.changed();
    Ok(done)
}

/// The authority that acts for `code`'s licenses at `now` (see the module invariants).
pub async fn acting_authority(node: &Node, code: &str, now: i64) -> Result<String> {
    let mut at = code.to_owned();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(i) = node.store.issuer(&at).await? {
        match (i.successor, i.ended_at) {
            (Some(next), Some(end)) if end <= now && seen.insert(at.clone()) => at = next,
            _ => break,
        }
    }
    Ok(at)
}

/// Whether the authority `acting` (an API key's issuer) may act on a license issued by
/// `owner` at `now` (see the module invariants).
pub async fn authorize(node: &Node, acting: &str, owner: &str, now: i64) -> Result<()> {
    let authority = acting_authority(node, owner, now).await?;
    if authority == acting {
        return Ok(());
    }
    if acting == owner {
        return Err(AppError::forbidden(
            "issuer.ended",
            format!("issuer {owner} has ended; {authority} acts for its licenses"),
        ));
    }
    Err(AppError::forbidden(
        "license.not_your_license",
        format!("licenses of {owner} are acted on by {authority}, not {acting}"),
    ))
}
