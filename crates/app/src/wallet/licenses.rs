//! The holder's view of licenses: what a signed-in identity may see, grouped by type, with
//! status in words, one license's details and its history from the event log.
//!
//! Invariant: a license is shown only to its holder, to the legal representative of the
//! enterprise that holds it, or to an agent with an authorization in force; to anyone else it
//! does not exist (`wallet.not_found`, the same answer as for an unknown identifier).

use std::collections::BTreeMap;
use std::sync::Arc;

use elicense_core::catalogue::LicenseType;
use elicense_core::license::LicenseMeta;
use elicense_store::{AuthorizationRecord, EventRecord, LicenseRecord};
use serde::Serialize;

use super::identity::Identity;
use crate::error::{AppError, Result};
use crate::node::Node;
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
    Agent(AuthorizationRecord),
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
    pub record: LicenseRecord,
    pub meta: LicenseMeta,
    pub license_type: Arc<LicenseType>,
    pub access: Access,
}

impl Opened {
    /// The list entry of this license.
    pub fn summary(&self, now: i64) -> WalletLicense {
        WalletLicense {
            identifier: self.record.identifier.clone(),
            type_code: self.record.type_code.clone(),
            holder_name: self.meta.holder.name.clone(),
            issuer_name: self.meta.issuer_name.clone(),
            license_number: self.meta.license_number.clone(),
            status: self.record.status.clone(),
            badge: badge(&self.record, now).to_owned(),
            valid_until: self.meta.valid_until.map(timeutil::format),
            access: self.access.kind(),
            agent_matter: match &self.access {
                Access::Agent(a) => Some(a.matter.clone()),
                _ => None,
            },
        }
    }
}

/// The list badge: the status, or `expiring` when valid and ending within 30 days.
pub fn badge(r: &LicenseRecord, now: i64) -> &str {
    match r.valid_until {
        Some(end) if r.status == "valid" && end - now <= EXPIRING_SOON_SECS => "expiring",
        _ => &r.status,
    }
}

pub(crate) fn meta_of(r: &LicenseRecord) -> Result<LicenseMeta> {
    serde_json::from_str(&r.meta).map_err(|e| AppError::internal(format!("stored meta: {e}")))
}

fn not_found(identifier: &str) -> AppError {
    AppError::not_found(
        "wallet.not_found",
        format!("no license {identifier} in this wallet"),
    )
}

/// An authorization in force at `now`.
fn in_force(a: &AuthorizationRecord, now: i64) -> bool {
    a.withdrawn_at.is_none() && a.valid_from <= now && now < a.valid_until
}

/// Opens a license the identity may see (the current version of its lineage).
pub async fn open(node: &Arc<Node>, id: &Identity, identifier: &str) -> Result<Opened> {
    let record = node
        .store
        .license(identifier)
        .await?
        .ok_or_else(|| not_found(identifier))?;
    let access = access(node, id, &record)
        .await?
        .ok_or_else(|| not_found(identifier))?;
    let meta = meta_of(&record)?;
    let license_type = node
        .catalogue
        .get(&record.type_code, Some(record.catalogue_version))
        .await?;
    Ok(Opened {
        record,
        meta,
        license_type,
        access,
    })
}

async fn access(node: &Arc<Node>, id: &Identity, r: &LicenseRecord) -> Result<Option<Access>> {
    if r.holder_key == id.person_key {
        return Ok(Some(Access::Holder));
    }
    if let Some((e, _)) = id.enterprises.iter().find(|(_, k)| *k == r.holder_key) {
        return Ok(Some(Access::Enterprise(e.name.clone())));
    }
    let now = node.now();
    Ok(node
        .store
        .authorizations_for_agent(&id.person_key)
        .await?
        .into_iter()
        .find(|a| a.lineage == r.lineage && in_force(a, now))
        .map(Access::Agent))
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
    for a in node.store.authorizations_for_agent(&id.person_key).await? {
        if !in_force(&a, now) {
            continue;
        }
        if let Some(r) = node.store.license(&a.identifier).await? {
            records.push((r, Access::Agent(a)));
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
        let license_type = node
            .catalogue
            .get(&record.type_code, Some(record.catalogue_version))
            .await?;
        let meta = meta_of(&record)?;
        let opened = Opened {
            record,
            meta,
            license_type,
            access,
        };
        let g = groups
            .entry(opened.record.type_code.clone())
            .or_insert_with(|| Group {
                type_code: opened.record.type_code.clone(),
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
    /// `issue`, an action code, or a use: `present`, `verify`, `authorize`, `authorize_withdraw`.
    pub kind: String,
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

/// The history of a license (every version), oldest first, each event checked to be in the
/// signed log.
pub async fn history(node: &Arc<Node>, lineage: &str) -> Result<Vec<HistoryEntry>> {
    let events = node.store.events(lineage).await?;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let log_index = crate::log::event_in_log(node, &e).await?;
        out.push(entry(e, log_index));
    }
    Ok(out)
}

fn entry(e: EventRecord, log_index: Option<u64>) -> HistoryEntry {
    let detail = serde_json::from_str::<serde_json::Value>(&e.detail).ok();
    let text = |key: &str| {
        detail
            .as_ref()
            .and_then(|d| d.get(key).and_then(|m| m.as_str()).map(str::to_owned))
    };
    let matter = text("matter");
    let institution = text("institution_name");
    HistoryEntry {
        seq: e.seq,
        at: e.at,
        kind: e.kind,
        actor: e.actor,
        reason: e.reason,
        matter,
        institution,
        identifier: e.identifier,
        log_index,
    }
}
