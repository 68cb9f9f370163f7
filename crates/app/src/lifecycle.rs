//! Lifecycle use cases: every action goes through the domain state machine
//! (`elicense_core::lifecycle::transition`); the store applies it only if the license is still
//! in the state that was read. Change, extend and transfer create the next version (new
//! identifier version, new credential, new status slot) in the same transaction that marks the
//! old version superseded.

use std::collections::BTreeMap;
use std::sync::Arc;

use elicense_core::holder::{Holder, HolderCode};
use elicense_core::ident::Identifier;
use elicense_core::lifecycle::{transition, Action, LifecycleState};
use elicense_core::{EventKind, ReasonCategory};
use elicense_crypto::{Alg, Jwk};
use elicense_store::{EventRecord, TransitionRecord};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{AppError, ErrorKind, Result};
use crate::issue::{sign_and_record, Issued, StatusRef};
use crate::node::Node;
use crate::stored::License;
use crate::timeutil;

/// An action on one license version.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ActionRequest {
    /// `change`, `suspend`, `reinstate`, `revoke`, `cancel`, `withdraw`, `extend`,
    /// `annual_inspection`, `pledge`, `release`, `transfer` (`expire` is the node's own).
    #[schema(value_type = String)]
    pub action: Action,
    /// The issuer's reason in its own words: kept for the holder and the issuer, never
    /// public.
    pub reason: Option<String>,
    /// The public category of the reason (the log and the public verification show only
    /// this). Default: `expiry` for expire, `transfer` for transfer, else `other` when a
    /// reason is given.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub reason_category: Option<ReasonCategory>,
    #[serde(skip)]
    pub actor: String,
    /// When set, the license must have been issued by this issuer (API key scope).
    #[serde(skip)]
    pub acting_issuer: Option<String>,
    /// Change (at least one), extend, transfer: the data items to change.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Extend: the new end of validity (`YYYY-MM-DD`); default per the catalogue rule.
    pub valid_until: Option<String>,
    /// Transfer: the new holder.
    pub new_holder_name: Option<String>,
    pub new_holder_id: Option<String>,
    /// New versions: the holder key to bind (change and extend keep the old one by default).
    #[schema(value_type = Option<Object>)]
    pub holder_jwk: Option<Jwk>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::issue::deserialize_alg")]
    pub alg: Option<Alg>,
    /// Annual inspection: its result, e.g. 合格.
    pub result: Option<String>,
}

impl ActionRequest {
    pub fn new(action: Action, actor: &str) -> Self {
        ActionRequest {
            action,
            reason: None,
            reason_category: None,
            actor: actor.to_string(),
            acting_issuer: None,
            fields: BTreeMap::new(),
            valid_until: None,
            new_holder_name: None,
            new_holder_id: None,
            holder_jwk: None,
            alg: None,
            result: None,
        }
    }
}

/// What an action did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionOutcome {
    pub identifier: String,
    pub action: String,
    /// Status of `identifier` afterwards.
    pub status: String,
    pub pledged: bool,
    pub event_seq: i64,
    /// The event's place in the event log and its inclusion proof.
    pub log: crate::log::LogProof,
    /// The new version, for change, extend and transfer.
    pub successor: Option<Issued>,
}

/// Applies `req` to the license version `identifier`.
pub async fn apply(node: &Arc<Node>, id: &Identifier, req: ActionRequest) -> Result<ActionOutcome> {
    let license = node
        .store
        .license(id.as_str())
        .await?
        .ok_or_else(|| AppError::not_found("license.not_found", format!("no license {id}")))?;
    let license = License::try_from(license)?;
    let record = &license.record;
    // Who may act: the issuer, or after its end its successor (`crate::succession`).
    if let Some(acting) = &req.acting_issuer {
        crate::succession::authorize(node, acting, &record.issuer, node.now()).await?;
    }
    let state = LifecycleState {
        status: license.status,
        pledged: record.pledged,
    };
    let next = transition(state, req.action).map_err(|e| {
        AppError::new(
            ErrorKind::Conflict,
            elicense_core::error::ErrorCode::code(&e),
            e.to_string(),
        )
    })?;
    let now = node.now();
    let successor = if req.action.creates_version() {
        Some(successor(node, &license, &req, now).await?)
    } else {
        None
    };
    let mut detail = json!({});
    if let Some(result) = &req.result {
        detail["result"] = json!(result);
    }
    if let Some((issued, _)) = &successor {
        detail["successor"] = json!(issued.record.identifier);
    }
    // A successor authority acting for an ended one: the history names who acted.
    if let Some(acting) = req.acting_issuer.as_ref().filter(|a| **a != record.issuer) {
        detail["acting_issuer"] = json!(acting);
    }
    let category =
        ReasonCategory::for_action(req.action, req.reason_category, req.reason.is_some())
            .map(|c| c.to_string());
    let t = TransitionRecord {
        identifier: record.identifier.clone(),
        expected_status: record.status.clone(),
        expected_pledged: record.pledged,
        new_status: next.status.code().to_string(),
        new_status_value: next.status.status_list_value(),
        new_pledged: next.pledged,
        event: EventRecord {
            seq: 0,
            identifier: record.identifier.clone(),
            kind: EventKind::Lifecycle(req.action).to_string(),
            actor: req.actor.clone(),
            at: now,
            reason: req.reason.clone(),
            detail: detail.to_string(),
            reason_category: category.clone(),
        },
        successor: successor.as_ref().map(|(s, _)| {
            let mut new = s.new_license(
                EventKind::Issue,
                &req.actor,
                req.reason.clone(),
                json!({ "replaces": record.identifier, "by": req.action.code() }),
            );
            new.license.pledged = next.pledged && req.action != Action::Transfer;
            new.event.reason_category = category.clone();
            new
        }),
        // A new holder: every authorization the former holder granted ends with the transfer.
        end_authorizations: req.action == Action::Transfer,
        at: now,
    };
    let event = node.store.transition(t).await?;
    node.status.invalidate();
    // An enterprise's seals follow its business license (`seals::enterprise`); the license's
    // change stands even if this fails (the seals are set right at the next change).
    // After a change, extension or transfer the lineage lives on in the successor (valid,
    // perhaps with another holder).
    let successor_holder = successor.as_ref().and_then(|(s, _)| {
        serde_json::from_str::<elicense_core::license::LicenseMeta>(&s.record.meta)
            .ok()
            .map(|m| m.holder.code.value().to_owned())
    });
    let (holder, status) = match successor_holder {
        Some(h) => (h, elicense_core::lifecycle::Status::Valid),
        None => (license.meta.holder.code.value().to_owned(), next.status),
    };
    if let Err(e) =
        crate::seals::enterprise::follow_license(node, &record.lineage, &holder, status).await
    {
        tracing::warn!(code = e.code, error = %e.message, "enterprise seals did not follow the license");
    }
    let log = crate::log::proof_for_event(node, event.seq).await?;
    // The successor's issue event is the next entry, appended in the same transaction.
    let successor_log = match &successor {
        Some(_) => Some(crate::log::proof_for_index(node, log.index + 1).await?),
        None => None,
    };
    Ok(ActionOutcome {
        identifier: license.record.identifier,
        action: req.action.code().to_string(),
        status: next.status.code().to_string(),
        pledged: next.pledged,
        event_seq: event.seq,
        log,
        successor: successor.map(|(s, list)| Issued {
            status: StatusRef {
                uri: node.status.uri(list),
                idx: s.record.status_idx,
            },
            identifier: s.identifier,
            credential: s.record.credential,
            event_seq: event.seq + 1,
            log: successor_log,
        }),
    })
}

/// Builds and signs the next version for change, extend and transfer.
async fn successor(
    node: &Arc<Node>,
    license: &License,
    req: &ActionRequest,
    now: i64,
) -> Result<(crate::issue::Signed, u32)> {
    let (id, record, old) = (&license.identifier, &license.record, &license.meta);
    // A new version is issued under the current catalogue definition.
    let lt = node.catalogue.get(record.type_code.as_str(), None).await?;
    let mut meta = old.clone();
    meta.catalogue_version = lt.version;
    meta.type_name = lt.name.clone();
    let old_jwk: Option<Jwk> = old
        .extension
        .get("holder_jwk")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let mut holder_jwk = req.holder_jwk.clone().or(old_jwk);
    match req.action {
        Action::Change => {
            if req.fields.is_empty() {
                return Err(AppError::new(
                    ErrorKind::Invalid,
                    "lifecycle.nothing_to_change",
                    "a change names at least one field",
                ));
            }
        }
        Action::Extend => {
            let Some(old_until) = old.valid_until else {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "lifecycle.long_term",
                    "a long-term (长期) license has nothing to extend",
                ));
            };
            let requested = timeutil::parse_valid_until(req.valid_until.as_deref())?;
            let start = old_until.max(timeutil::date_at(now));
            let v = lt.validity(start, requested).map_err(AppError::invalid)?;
            if v.until.is_some_and(|u| u <= old_until) {
                return Err(AppError::new(
                    ErrorKind::Invalid,
                    "lifecycle.not_later",
                    "the new end of validity must be after the old one",
                ));
            }
            meta.valid_until = v.until;
        }
        Action::Transfer => {
            let (Some(name), Some(code)) = (&req.new_holder_name, &req.new_holder_id) else {
                return Err(AppError::new(
                    ErrorKind::Invalid,
                    "lifecycle.new_holder_required",
                    "a transfer names the new holder (name and id)",
                ));
            };
            let code =
                HolderCode::parse(lt.holder_kind.clone(), code).map_err(AppError::invalid)?;
            if code == old.holder.code {
                return Err(AppError::new(
                    ErrorKind::Invalid,
                    "lifecycle.same_holder",
                    "a transfer needs a different holder",
                ));
            }
            if name.trim().is_empty() {
                return Err(AppError::new(
                    ErrorKind::Invalid,
                    "holder.name_required",
                    "holder name is required",
                ));
            }
            meta.holder = Holder {
                name: name.trim().to_string(),
                code,
            };
            holder_jwk = req.holder_jwk.clone();
        }
        _ => unreachable!("only change, extend and transfer create versions"),
    }
    // Data items given with any of the three (a transfer usually renames the holder's items
    // too) are validated together with the unchanged ones.
    if !req.fields.is_empty() {
        let mut fields: BTreeMap<String, String> = old
            .data
            .iter()
            .map(|(k, v)| (k.clone(), value_text(v)))
            .collect();
        fields.extend(req.fields.clone());
        meta.data = lt.validate(&fields).map_err(AppError::invalid)?;
        if let Some(number) = meta.data.get("license_number").and_then(Value::as_str) {
            meta.license_number = number.to_string();
        }
    }
    // Whatever changed (items, holder), the items the holder's ID determines must agree.
    elicense_core::license::check_holder_items(&lt, &meta.holder.code, &meta.data)
        .map_err(AppError::invalid)?;
    meta.identifier = id.next_version().map_err(AppError::invalid)?;
    meta.replaces = Some(id.clone());
    meta.issue_date = timeutil::date_at(now);
    meta.extension = json!({});
    let alg = req.alg.unwrap_or(license.alg);
    let slot = node
        .take_slot(record.type_code.as_str(), record.issuer.as_str(), alg)
        .await?;
    let signed = sign_and_record(node, &lt, meta, slot, alg, holder_jwk, now).await?;
    Ok((signed, slot.list))
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Moves every license whose validity ended into `expired`; returns how many it moved.
pub async fn expire_due(node: &Arc<Node>, limit: u32) -> Result<usize> {
    let due = node.store.expiring(node.now(), limit).await?;
    let mut n = 0;
    for id in due {
        let id = crate::stored::identifier("a license due to expire", &id)?;
        let mut req = ActionRequest::new(Action::Expire, "system:expiry");
        req.reason = Some("有效期届满 validity ended".into());
        match apply(node, &id, req).await {
            Ok(_) => n += 1,
            // Another process moved it first, or an action raced: fine, it is not due now.
            Err(e) if e.kind == ErrorKind::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
