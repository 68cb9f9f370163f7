//! The holder's view of licenses: what a signed-in identity may see, grouped by type, with
//! status in words, one license's details and its history from the event log.
//!
//! Invariants (decided by `elicense_core::agency`, never by comparing keys here):
//! - a license version is shown only to its holder, to the legal representative of the
//!   enterprise that holds it, or to an agent whose authorization, granted by that same
//!   holder, is in force (current versions only); to anyone else it does not exist
//!   (`wallet.not_found`, the same answer as for an unknown identifier);
//! - nothing but viewing is possible on a superseded version (`wallet.superseded`);
//! - a viewer sees the history of the versions they held, and only those; an agent sees only
//!   the public lifecycle events.

use std::collections::BTreeMap;
use std::sync::Arc;

use elicense_core::agency::{standing, Act, Grant, GrantState, Refusal, Standing, Version, Viewer};
use elicense_core::catalogue::LicenseType;
use elicense_core::lifecycle::Status;
use elicense_core::EventKind;
use elicense_core::Identifier;
use elicense_store::LicenseRecord;
use serde::Serialize;

use super::identity::Identity;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::stored::{Authorization, Event, License};
use crate::timeutil;

/// A license counts as expiring soon this many seconds before its validity ends.
pub const EXPIRING_SOON_SECS: i64 = 30 * 86_400;

/// Why an identity may see a license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The identity is the holder.
    Holder,
    /// The identity represents the enterprise that holds it (its name).
    Enterprise(String),
    /// The identity is an agent (代办) for one matter, under this authorization.
    Agent(Box<Authorization>),
}

impl Access {
    /// `holder`, `enterprise` or `agent`.
    pub fn kind(&self) -> &'static str {
        match self {
            Access::Holder => "holder",
            Access::Enterprise(_) => "enterprise",
            Access::Agent(_) => "agent",
        }
    }

    /// The same access as the core's decision sees it.
    fn standing<'g>(&self, grant: &'g Grant) -> Standing<'g> {
        match self {
            Access::Holder => Standing::Holder,
            Access::Enterprise(_) => Standing::Representative,
            Access::Agent(_) => Standing::Agent(grant),
        }
    }
}

/// One license in the wallet list.
#[derive(Debug, Clone, Serialize)]
pub struct WalletLicense {
    pub identifier: String,
    pub type_code: String,
    pub holder_name: String,
    pub issuer_name: String,
    pub license_number: String,
    /// Lifecycle status code (`valid`, `suspended`, `revoked`, ...).
    pub status: String,
    /// What the list shows: the status, or `expiring` for a valid license about to end.
    pub badge: String,
    pub valid_until: Option<String>,
    /// `holder`, `enterprise` or `agent`.
    pub access: &'static str,
    /// For an agent: the matter and the end of the authorization.
    pub agent_matter: Option<String>,
}

/// Licenses of one type.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub type_code: String,
    pub type_name: String,
    pub type_name_en: String,
    pub licenses: Vec<WalletLicense>,
}

/// A license opened in the wallet.
#[derive(Debug)]
pub struct Opened {
    /// The version opened, parsed.
    pub license: License,
    pub license_type: Arc<LicenseType>,
    pub access: Access,
}

impl Opened {
    /// Not superseded by a later version.
    pub fn current(&self) -> bool {
        is_current(&self.license)
    }

    /// Whether the opener may do `act` with this version.
    pub fn may(&self, act: Act) -> bool {
        self.check(act).is_ok()
    }

    /// `Ok` if the opener may do `act` with this version, else the refusal as an error.
    pub fn check(&self, act: Act) -> Result<()> {
        let none = Grant::default();
        let grant = match &self.access {
            Access::Agent(a) => &a.grant,
            _ => &none,
        };
        self.access
            .standing(grant)
            .may(act, self.current())
            .map_err(|r| match r {
                Refusal::Superseded => AppError::new(
                    ErrorKind::Conflict,
                    r.code(),
                    format!(
                        "license {} was superseded: act on its current version",
                        self.license.record.identifier
                    ),
                ),
                Refusal::AgentCannot => AppError::forbidden(r.code(), "an agent cannot do this"),
            })
    }
}

/// Not superseded by a later version.
fn is_current(l: &License) -> bool {
    l.status != Status::Superseded
}

impl Opened {
    /// The list entry of this license.
    pub fn summary(&self, now: i64) -> WalletLicense {
        WalletLicense {
            identifier: self.license.record.identifier.clone(),
            type_code: self.license.record.type_code.clone(),
            holder_name: self.license.meta.holder.name.clone(),
            issuer_name: self.license.meta.issuer_name.clone(),
            license_number: self.license.meta.license_number.clone(),
            status: self.license.status.code().to_owned(),
            badge: badge(&self.license, now).to_owned(),
            valid_until: self.license.meta.valid_until.map(timeutil::format),
            access: self.access.kind(),
            agent_matter: match &self.access {
                Access::Agent(a) => Some(a.grant.matter.clone()),
                _ => None,
            },
        }
    }
}

/// The list badge: the status, or `expiring` when valid and ending within 30 days.
pub fn badge(l: &License, now: i64) -> &'static str {
    match l.record.valid_until {
        Some(end) if l.status == Status::Valid && end - now <= EXPIRING_SOON_SECS => "expiring",
        _ => l.status.code(),
    }
}

fn not_found(identifier: &Identifier) -> AppError {
    AppError::not_found(
        "wallet.not_found",
        format!("no license {identifier} in this wallet"),
    )
}

/// Opens a license version the identity may see, for viewing (superseded versions the
/// identity held included).
pub async fn open(node: &Arc<Node>, id: &Identity, identifier: &Identifier) -> Result<Opened> {
    open_for(node, id, identifier, Act::View).await
}

/// Opens a license version the identity may see and checks it may do `act` with it
/// (`wallet.superseded` for anything but viewing a superseded version,
/// `wallet.agent_cannot_delegate` for what only the holder may do).
pub async fn open_for(
    node: &Arc<Node>,
    id: &Identity,
    identifier: &Identifier,
    act: Act,
) -> Result<Opened> {
    let record = node
        .store
        .license(identifier.as_str())
        .await?
        .ok_or_else(|| not_found(identifier))?;
    let license = License::try_from(record)?;
    let access = access(node, id, &license)
        .await?
        .ok_or_else(|| not_found(identifier))?;
    let opened = opened(node, license, access).await?;
    opened.check(act)?;
    Ok(opened)
}

/// A license version opened with `access`, with its type as issued.
async fn opened(node: &Arc<Node>, license: License, access: Access) -> Result<Opened> {
    let license_type = license.type_as_issued(node).await?;
    Ok(Opened {
        license,
        license_type,
        access,
    })
}

/// The authorizations an agent holds, parsed (`store.corrupt` if one does not).
async fn authorizations_for_agent(node: &Arc<Node>, agent_key: &str) -> Result<Vec<Authorization>> {
    node.store
        .authorizations_for_agent(agent_key)
        .await?
        .into_iter()
        .map(Authorization::try_from)
        .collect()
}

/// Who the identity is to license version `l`, decided by `agency::standing`.
async fn access(node: &Arc<Node>, id: &Identity, l: &License) -> Result<Option<Access>> {
    let r = &l.record;
    let represented: Vec<&str> = id.enterprises.iter().map(|(_, k)| k.as_str()).collect();
    let viewer = Viewer {
        person_key: &id.person_key,
        represented: &represented,
    };
    let version = Version {
        lineage: &r.lineage,
        holder_key: &r.holder_key,
        current: is_current(l),
    };
    let records = if version.current {
        authorizations_for_agent(node, &id.person_key).await?
    } else {
        Vec::new()
    };
    let grants: Vec<Grant> = records.iter().map(|a| a.grant.clone()).collect();
    Ok(match standing(viewer, version, &grants, node.now()) {
        None => None,
        Some(Standing::Holder) => Some(Access::Holder),
        Some(Standing::Representative) => id
            .enterprises
            .iter()
            .find(|(_, k)| *k == r.holder_key)
            .map(|(e, _)| Access::Enterprise(e.name.clone())),
        Some(Standing::Agent(g)) => {
            let i = grants.iter().position(|x| std::ptr::eq(x, g)).unwrap_or(0);
            records
                .into_iter()
                .nth(i)
                .map(|r| Access::Agent(Box::new(r)))
        }
    })
}

/// Every license the identity may see, current versions only, grouped by type (catalogue
/// order), newest first within a group.
pub async fn list(node: &Arc<Node>, id: &Identity) -> Result<Vec<Group>> {
    let now = node.now();
    let mut records: Vec<(LicenseRecord, Access)> = Vec::new();
    for (key, access) in std::iter::once((id.person_key.as_str(), Access::Holder)).chain(
        id.enterprises
            .iter()
            .map(|(e, k)| (k.as_str(), Access::Enterprise(e.name.clone()))),
    ) {
        for r in node.store.by_holder(key).await? {
            records.push((r, access.clone()));
        }
    }
    // An agent sees the current version of each lineage it holds a grant for, if the grant
    // reaches it (same holder, in force): the core decides, as for `open`.
    let mut lineages: Vec<String> = authorizations_for_agent(node, &id.person_key)
        .await?
        .into_iter()
        .filter(|a| a.grant.state(now) == GrantState::Active)
        .map(|a| a.grant.lineage)
        .collect();
    lineages.sort();
    lineages.dedup();
    for lineage in lineages {
        let Some(r) = node.store.versions(&lineage).await?.pop() else {
            continue;
        };
        let license = License::try_from(r)?;
        if let Some(a @ Access::Agent(_)) = access(node, id, &license).await? {
            records.push((license.record, a));
        }
    }
    // Keep the newest version of each lineage (older versions were superseded).
    let mut newest: BTreeMap<String, (LicenseRecord, Access)> = BTreeMap::new();
    for (r, a) in records {
        match newest.get(&r.lineage) {
            Some((have, _)) if have.version >= r.version => {}
            _ => {
                newest.insert(r.lineage.clone(), (r, a));
            }
        }
    }
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (record, access) in newest.into_values() {
        let opened = opened(node, License::try_from(record)?, access).await?;
        let g = groups
            .entry(opened.license.record.type_code.clone())
            .or_insert_with(|| Group {
                type_code: opened.license.record.type_code.clone(),
                type_name: opened.license_type.name.clone(),
                type_name_en: opened.license_type.name_en.clone(),
                licenses: Vec::new(),
            });
        g.licenses.push(opened.summary(now));
    }
    let mut out: Vec<Group> = groups.into_values().collect();
    for g in &mut out {
        g.licenses.sort_by(|a, b| b.identifier.cmp(&a.identifier));
    }
    Ok(out)
}

/// One event in a license's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// The issue, a lifecycle action or a use (serialised as its stable code).
    pub kind: EventKind,
    pub actor: String,
    pub reason: Option<String>,
    /// The matter of a use or an authorization.
    pub matter: Option<String>,
    /// The institution that asked, received or verified, by name (uses by institutions).
    pub institution: Option<String>,
    /// The version the event is about.
    pub identifier: String,
    /// Leaf index in the event log, when the event's inclusion was checked against a signed
    /// checkpoint.
    pub log_index: Option<u64>,
}

/// The events of `opened`'s lineage its opener may see, oldest first: those of the versions
/// held by the same holder as `opened`; for an agent, only their lifecycle events.
pub async fn visible_events(node: &Arc<Node>, opened: &Opened) -> Result<Vec<Event>> {
    let held: Vec<String> = node
        .store
        .versions(&opened.license.record.lineage)
        .await?
        .into_iter()
        .filter(|v| v.holder_key == opened.license.record.holder_key)
        .map(|v| v.identifier)
        .collect();
    let uses = opened.may(Act::SeeUses);
    let mut events = Vec::new();
    for e in node.store.events(&opened.license.record.lineage).await? {
        let e = Event::try_from(e)?;
        if held.contains(&e.record.identifier) && (uses || !e.kind.is_use()) {
            events.push(e);
        }
    }
    Ok(events)
}

/// Events shown per page of a license's history.
pub const HISTORY_PAGE: usize = 50;

/// One page of a license's history, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    /// Page number, from 0 (the newest events).
    pub page: usize,
    /// Number of pages (at least 1).
    pub pages: usize,
}

/// Page `page` (0 = newest) of the history the opener of `opened` may see, newest first, each
/// event checked to be in the signed log: the events of the versions of the lineage held by
/// the same holder as `opened` (a former holder never sees the new holder's events; the new
/// holder never sees the former holder's uses); for an agent, only their lifecycle events.
pub async fn history(node: &Arc<Node>, opened: &Opened, page: usize) -> Result<History> {
    let mut events = visible_events(node, opened).await?;
    events.reverse();
    let pages = events.len().div_ceil(HISTORY_PAGE).max(1);
    let page = page.min(pages - 1);
    let mut entries = Vec::with_capacity(HISTORY_PAGE);
    for e in events
        .into_iter()
        .skip(page * HISTORY_PAGE)
        .take(HISTORY_PAGE)
    {
        let log_index = node.event_in_log_cached(&e.record).await?;
        entries.push(entry(e, log_index));
    }
    Ok(History {
        entries,
        page,
        pages,
    })
}

/// A stored event as the history shows it.
fn entry(e: Event, log_index: Option<u64>) -> HistoryEntry {
    let text = |key: &str| e.detail_text(key).map(str::to_owned);
    let (matter, institution) = (text("matter"), text("institution_name"));
    HistoryEntry {
        seq: e.record.seq,
        at: e.record.at,
        kind: e.kind,
        actor: e.record.actor,
        reason: e.record.reason,
        matter,
        institution,
        identifier: e.record.identifier,
        log_index,
    }
}
