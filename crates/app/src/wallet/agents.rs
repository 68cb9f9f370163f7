//! Authorizing an agent (代办): the holder names a person (name and resident ID), a matter and
//! a period; during that period the agent's wallet shows the license and may present, for
//! that matter only, the fields the matter needs. The holder can withdraw it at any time.
//! Granting and withdrawing are events in the license's history and in the log.
//!
//! An authorization is bound to the holder who granted it (`holder_key`): it reaches only
//! current versions with that holder (`elicense_core::agency`), and a transfer ends it in the
//! transfer's own transaction. Authorizing and withdrawing need the current version.

use std::sync::Arc;

use elicense_core::agency::{Act, GrantState};
use elicense_core::holder::{HolderCode, HolderCodeType};
use elicense_core::Identifier;
use elicense_store::{AuthorizationRecord, EventRecord};
use serde::Serialize;
use serde_json::json;

use super::identity::{mask, Identity};
use super::licenses::{open_for, Opened};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::stored::Authorization;

/// Longest authorization, seconds (one year).
pub const MAX_AUTHORIZATION_SECS: i64 = 366 * 86_400;

/// A request to authorize an agent.
#[derive(Debug, Clone)]
pub struct Grant {
    pub agent_name: String,
    /// The agent's resident ID number (GB 11643).
    pub agent_id: String,
    pub matter: String,
    pub valid_from: i64,
    pub valid_until: i64,
}

/// An authorization as the holder sees it (the agent's ID masked).
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizationView {
    pub id: String,
    pub agent_name: String,
    pub matter: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub withdrawn_at: Option<i64>,
    pub state: GrantState,
}

impl AuthorizationView {
    /// Whether the holder may still withdraw it (active or not yet begun).
    pub fn withdrawable(&self) -> bool {
        matches!(self.state, GrantState::Active | GrantState::Pending)
    }
}

/// An event of the holder's (or representative's) about an opened license.
fn event(
    opened: &Opened,
    kind: elicense_core::EventKind,
    at: i64,
    detail: serde_json::Value,
) -> EventRecord {
    EventRecord {
        seq: 0,
        identifier: opened.license.record.identifier.clone(),
        kind: kind.to_string(),
        actor: opened.access.kind().into(),
        at,
        reason: None,
        detail: detail.to_string(),
        reason_category: None,
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

/// Grants an authorization on a license the identity holds (or holds for its enterprise).
pub async fn authorize(
    node: &Arc<Node>,
    id: &Identity,
    identifier: &Identifier,
    g: Grant,
) -> Result<AuthorizationView> {
    let opened = open_for(node, id, identifier, Act::ManageAgents).await?;
    let agent = HolderCode::parse(HolderCodeType::ResidentId, g.agent_id.trim())
        .map_err(AppError::invalid)?;
    let name = g.agent_name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(invalid("wallet.bad_agent", "the agent's name is required"));
    }
    if !opened
        .license_type
        .matters
        .iter()
        .any(|m| m.code == g.matter)
    {
        return Err(invalid(
            "wallet.unknown_matter",
            format!("no matter {} for this license type", g.matter),
        ));
    }
    if g.valid_until <= g.valid_from || g.valid_until - g.valid_from > MAX_AUTHORIZATION_SECS {
        return Err(invalid(
            "wallet.bad_period",
            "the period must end after it starts and last at most a year",
        ));
    }
    let agent_key = node.holder_key(&agent);
    if agent_key == opened.license.record.holder_key || agent_key == id.person_key {
        return Err(invalid("wallet.bad_agent", "one cannot be one's own agent"));
    }
    let now = node.now();
    let rec = AuthorizationRecord {
        id: super::random_id(),
        lineage: opened.license.record.lineage.clone(),
        identifier: opened.license.record.identifier.clone(),
        grantor_key: id.person_key.clone(),
        holder_key: opened.license.record.holder_key.clone(),
        agent_key,
        agent_name: name.to_owned(),
        matter: g.matter.clone(),
        valid_from: g.valid_from,
        valid_until: g.valid_until,
        created_at: now,
        withdrawn_at: None,
        ended_at: None,
    };
    let event = event(
        &opened,
        elicense_core::EventKind::Authorize,
        now,
        json!({"matter": g.matter, "agent": mask(agent.value()),
            "from": g.valid_from, "until": g.valid_until, "authorization": rec.id}),
    );
    node.store.put_authorization(rec.clone(), event).await?;
    Ok(view(&Authorization::try_from(rec)?, now))
}

/// Withdraws an authorization of a license the identity holds.
pub async fn withdraw(
    node: &Arc<Node>,
    id: &Identity,
    identifier: &Identifier,
    auth: &str,
) -> Result<()> {
    let opened = open_for(node, id, identifier, Act::ManageAgents).await?;
    let known = granted(node, &opened)
        .await?
        .into_iter()
        .find(|a| a.record.id == auth)
        .ok_or_else(|| AppError::not_found("wallet.no_authorization", "no such authorization"))?;
    let now = node.now();
    let event = event(
        &opened,
        elicense_core::EventKind::AuthorizeWithdraw,
        now,
        json!({"matter": known.grant.matter, "authorization": known.record.id}),
    );
    node.store.withdraw_authorization(auth, now, event).await?;
    Ok(())
}

/// The authorizations the holder of `opened` granted on its lineage, newest first.
async fn granted(node: &Arc<Node>, opened: &Opened) -> Result<Vec<Authorization>> {
    let mut out = Vec::new();
    for a in node
        .store
        .authorizations(&opened.license.record.lineage)
        .await?
    {
        let a = Authorization::try_from(a)?;
        if a.grant.holder_key == opened.license.record.holder_key {
            out.push(a);
        }
    }
    Ok(out)
}

/// Authorizations of an opened license that its opener may manage, newest first: those its
/// holder granted (none for an agent, or on a superseded version: only the current holder
/// manages them).
pub async fn list(node: &Arc<Node>, opened: &Opened) -> Result<Vec<AuthorizationView>> {
    if !opened.may(Act::ManageAgents) {
        return Ok(Vec::new());
    }
    let now = node.now();
    Ok(granted(node, opened)
        .await?
        .iter()
        .map(|a| view(a, now))
        .collect())
}

fn view(a: &Authorization, now: i64) -> AuthorizationView {
    AuthorizationView {
        id: a.record.id.clone(),
        agent_name: a.record.agent_name.clone(),
        matter: a.grant.matter.clone(),
        valid_from: a.grant.valid_from,
        valid_until: a.grant.valid_until,
        withdrawn_at: a.grant.withdrawn_at,
        state: a.grant.state(now),
    }
}
