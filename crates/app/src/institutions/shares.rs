//! Sharing requests: an institution asks for a holder's license for a matter in its scope;
//! the request is granted at once under a legal basis, else the holder consents or refuses
//! (the state machine is `elicense_core::share`). Each step is a use event of the license,
//! written with the request in one transaction.

use std::sync::Arc;

use elicense_core::error::ErrorCode;
use elicense_core::holder::{HolderCode, HolderName};
use elicense_core::lifecycle::Status;
use elicense_core::share::{self, Basis, Decision, NameCheck, ShareState};
use elicense_store::{EventRecord, InstitutionRecord, ShareRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::*;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::stored::{License, Share};
use crate::wallet::identity::Identity;

/// What an institution asks for.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Ask {
    /// Matter code, one of the institution's scope.
    pub matter: String,
    /// The holder's resident ID (GB 11643) or USCC (GB 32100).
    pub holder_id: String,
    /// The holder's name as on the license. Required when the matter has a legal basis
    /// (`share.holder_name_required` otherwise); may be left out when the holder consents.
    /// When given it must equal the name on the license after normalisation (NFC, full-width
    /// forms and the ideographic space as ASCII, separator dots as `·`, outer whitespace
    /// dropped, inner runs as one space; no case folding, no fuzzy match): a wrong name is
    /// answered exactly like an unknown holder (`share.no_license`).
    pub holder_name: Option<String>,
    /// Why, in the institution's words (shown to the holder and logged).
    pub purpose: String,
    /// The username of the registered staff member asking (`staff`), to whom the matter is
    /// assigned; the holder sees and the log keeps their registered name.
    pub staff: String,
    /// Days the annotated copy may be used (default 30, at most 366).
    pub keep_days: Option<u32>,
    /// For a joint matter (several license types): the license type code asked for. Needed
    /// only when more than one of its types is held by the kind of ID given
    /// (`share.license_type_required`); else the type whose holders carry that ID answers.
    #[serde(default)]
    pub license_type: Option<String>,
}

/// A sharing request as the institution or the holder sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShareView {
    pub id: String,
    pub institution: String,
    pub institution_name: String,
    pub staff: String,
    pub matter: String,
    pub matter_name: String,
    pub purpose: String,
    /// License type name (what is asked for).
    pub type_name: String,
    /// License type code (empty when the catalogue no longer names the matter).
    pub type_code: String,
    /// Fields the matter needs.
    pub fields: Vec<String>,
    /// `consent` or `legal`.
    pub basis: String,
    /// The legal basis, when the matter has one.
    pub legal_basis: Option<String>,
    /// `pending`, `granted`, `refused` or `expired` (a pending request past `expires_at`).
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
    /// The license version concerned (the holder's view only).
    pub identifier: Option<String>,
    /// The annotated copy (the institution's view, once granted).
    pub copy: Option<CopyView>,
}

/// Whose view: the institution gets the copy, the holder the identifier.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Viewer {
    Institution,
    Holder,
}

pub(super) async fn view(node: &Node, s: &ShareRecord, viewer: Viewer) -> Result<ShareView> {
    let share = Share::try_from(s)?;
    let m = matter_of_share(node, s).await?;
    let institution_name = node
        .store
        .institution(&s.institution)
        .await?
        .map(|i| i.name)
        .unwrap_or_else(|| s.institution.clone());
    let fields = m
        .as_ref()
        .map(|m| m.need.fields.clone())
        .unwrap_or_default();
    let copy = match (&s.copy, s.copy_until, viewer) {
        (Some(credential), Some(until), Viewer::Institution) => Some(CopyView {
            fields: copy_fields(credential, &fields)?,
            credential: credential.clone(),
            until,
            verify_url: copy_url(node, &s.id),
        }),
        _ => None,
    };
    Ok(ShareView {
        id: s.id.clone(),
        institution: s.institution.clone(),
        institution_name,
        staff: s.staff.clone(),
        matter: s.matter.clone(),
        matter_name: m
            .as_ref()
            .map(|m| m.need.name.clone())
            .unwrap_or_else(|| s.matter.clone()),
        purpose: s.purpose.clone(),
        type_name: m
            .as_ref()
            .map(|m| m.license_type.name.clone())
            .unwrap_or_default(),
        type_code: m
            .as_ref()
            .map(|m| m.license_type.code.to_string())
            .unwrap_or_default(),
        fields,
        basis: share.basis.code().to_string(),
        legal_basis: m.and_then(|m| m.need.legal_basis),
        state: share.state_at(node.now()).code().to_string(),
        created_at: s.created_at,
        expires_at: s.expires_at,
        decided_at: s.decided_at,
        identifier: (viewer == Viewer::Holder).then(|| share.identifier.to_string()),
        copy,
    })
}

pub(super) fn use_event(
    s: &ShareRecord,
    institution_name: &str,
    kind: elicense_core::EventKind,
    actor: String,
    at: i64,
    reason: Option<String>,
) -> EventRecord {
    EventRecord {
        seq: 0,
        identifier: s.identifier.clone(),
        kind: kind.to_string(),
        actor,
        at,
        reason,
        reason_category: None,
        detail: json!({
            "share": s.id,
            "institution": s.institution,
            "institution_name": institution_name,
            "staff": s.staff,
            "matter": s.matter,
            "basis": s.basis,
        })
        .to_string(),
    }
}

/// The holder's license in force of the matter's type that `names` lets the request reach,
/// newest first. Whether the holder is unknown, has no such license or another name, the
/// work is one lookup by the holder's keyed hash and the answer `None`.
pub(super) async fn license_for(
    node: &Node,
    m: &Matter,
    holder: &HolderCode,
    names: &NameCheck,
) -> Result<Option<License>> {
    let now = node.now();
    let type_code = m.license_type.code.to_string();
    for r in node.store.by_holder(&node.holder_key(holder)).await? {
        if r.type_code != type_code {
            continue;
        }
        let license = License::try_from(r)?;
        if license.status != Status::Valid {
            continue;
        }
        if license.record.valid_until.is_some_and(|u| u <= now) {
            continue;
        }
        let on_license = HolderName::parse(&license.meta.holder.name);
        if !on_license.is_some_and(|n| names.answers(&n)) {
            continue;
        }
        return Ok(Some(license));
    }
    Ok(None)
}

/// The matter's basis: legal when the catalogue names a legal basis for it.
fn basis_of(m: &Matter) -> Basis {
    if m.need.legal_basis.is_some() {
        Basis::Legal
    } else {
        Basis::Consent
    }
}

/// The part of a (possibly joint) matter a sharing request by holder ID reaches: the one
/// named (`share.unknown_matter` when the matter has no such part), else the only part whose
/// holders carry that kind of ID (`share.license_type_required` when several do; the first
/// part when none does, which then finds no license like any unknown holder).
async fn part_asked(
    node: &Node,
    first: Matter,
    holder: &HolderCode,
    license_type: Option<&str>,
) -> Result<Matter> {
    let parts = matter_parts(node, &first.need.code).await?;
    if let Some(t) = license_type.map(str::trim) {
        return parts
            .into_iter()
            .find(|p| p.license_type.code.as_str() == t)
            .ok_or_else(|| {
                invalid(
                    "share.unknown_matter",
                    format!(
                        "the matter {} asks for no license type {t}",
                        first.need.code
                    ),
                )
            });
    }
    let mut fitting = parts
        .into_iter()
        .filter(|p| &p.license_type.holder_kind == holder.kind());
    match (fitting.next(), fitting.next()) {
        (Some(p), None) => Ok(p),
        (None, _) => Ok(first),
        (Some(_), Some(_)) => Err(invalid(
            "share.license_type_required",
            format!(
                "the matter {} asks for several license types held with this kind of ID: \
                 name one (license_type)",
                first.need.code
            ),
        )),
    }
}

/// An institution asks for a holder's license for a matter in its scope. The request is
/// checked (scope, matter, holder ID, name under a legal basis, purpose, period), then
/// admitted by the institution's limits (`Guard::admit`), then answered; a request that
/// reaches no license counts against the institution (`Guard::missed`).
pub async fn ask(node: &Arc<Node>, inst: &InstitutionRecord, ask: Ask) -> Result<ShareView> {
    let matter_code = ask.matter.trim();
    let first = scoped_matter(node, inst, matter_code).await?;
    let holder = HolderCode::detect(ask.holder_id.trim())
        .map_err(|e| invalid("share.bad_holder_id", e.to_string()))?;
    let m = part_asked(node, first, &holder, ask.license_type.as_deref()).await?;
    let basis = basis_of(&m);
    let names = share::name_check(
        basis,
        ask.holder_name.as_deref().and_then(HolderName::parse),
    )
    .map_err(|e| invalid(e.code(), e.to_string()))?;
    let (purpose, staff) = (ask.purpose.trim(), ask.staff.trim());
    if purpose.is_empty() || staff.is_empty() {
        return Err(invalid(
            "share.missing_purpose",
            "a request names its purpose and the staff member asking",
        ));
    }
    let staff = super::staff::asking(node, inst, staff, matter_code).await?;
    let keep_days = ask.keep_days.unwrap_or(DEFAULT_KEEP_DAYS);
    if keep_days == 0 || keep_days > MAX_KEEP_DAYS {
        return Err(invalid(
            "share.bad_period",
            format!("keep_days must be 1 to {MAX_KEEP_DAYS}"),
        ));
    }
    node.share_guard.admit(&inst.code, basis, node.now())?;
    // The same answer whether the holder is unknown, has no such license in force or
    // another name.
    let Some(License { record, .. }) = license_for(node, &m, &holder, &names).await? else {
        node.share_guard.missed(&inst.code, node.now());
        return Err(AppError::not_found(
            "share.no_license",
            format!(
                "no {} in force on this node answers this holder ID and name",
                m.license_type.name
            ),
        ));
    };
    // A license from another region only under a mutual-recognition list.
    crate::federation::recognition::check(node, &record.issuer, &record.type_code)?;
    let now = node.now();
    let state = share::open(basis);
    let mut share = ShareRecord {
        id: crate::wallet::random_id(),
        institution: inst.code.clone(),
        staff: staff.to_string(),
        matter: m.need.code.clone(),
        purpose: purpose.to_string(),
        identifier: record.identifier.clone(),
        lineage: record.lineage.clone(),
        holder_key: record.holder_key.clone(),
        basis: basis.code().into(),
        state: state.code().into(),
        created_at: now,
        expires_at: now + PENDING_SECS,
        decided_at: None,
        copy: None,
        copy_until: None,
        keep_days,
    };
    let actor = institution_actor(&inst.code);
    let mut events = vec![use_event(
        &share,
        &inst.name,
        elicense_core::EventKind::ShareQuery,
        actor.clone(),
        now,
        Some(share.purpose.clone()),
    )];
    if state == ShareState::Granted {
        let (copy, until) = make_copy(node, &share, inst, &m, keep_days, now).await?;
        share.decided_at = Some(now);
        share.copy = Some(copy);
        share.copy_until = Some(until);
        events.push(use_event(
            &share,
            &inst.name,
            elicense_core::EventKind::AnnotatedCopy,
            actor,
            now,
            None,
        ));
    }
    node.store.put_share(share.clone(), events).await?;
    view(node, &share, Viewer::Institution).await
}

/// A request of this institution; another institution's is `share.not_found`.
pub async fn get(node: &Arc<Node>, inst: &InstitutionRecord, id: &str) -> Result<ShareView> {
    let s = node
        .store
        .share(id)
        .await?
        .filter(|s| s.institution == inst.code)
        .ok_or_else(|| AppError::not_found("share.not_found", format!("no request {id}")))?;
    view(node, &s, Viewer::Institution).await
}

/// The institution's requests, newest first.
pub async fn of_institution(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    limit: u32,
) -> Result<Vec<ShareView>> {
    let mut out = Vec::new();
    for s in node
        .store
        .shares_of_institution(&inst.code, limit.clamp(1, 1000))
        .await?
    {
        out.push(view(node, &s, Viewer::Institution).await?);
    }
    Ok(out)
}

/// Requests about the licenses the signed-in holder holds (or represents), newest first.
pub async fn for_holder(node: &Arc<Node>, id: &Identity) -> Result<Vec<ShareView>> {
    let keys: Vec<String> = id.holder_keys().map(str::to_owned).collect();
    let mut out = Vec::new();
    for s in node.store.shares_for_holders(&keys).await? {
        out.push(view(node, &s, Viewer::Holder).await?);
    }
    Ok(out)
}

/// The holder consents to or refuses a pending request. Only the holder (or the enterprise's
/// representative) decides; anyone else gets `share.not_found`. A decided or lapsed request
/// is `share.decided` (conflict).
pub async fn decide(
    node: &Arc<Node>,
    id: &Identity,
    share_id: &str,
    consent: bool,
) -> Result<ShareView> {
    let not_found = || AppError::not_found("share.not_found", format!("no request {share_id}"));
    let s = node.store.share(share_id).await?.ok_or_else(not_found)?;
    if !id.holder_keys().any(|k| k == s.holder_key) {
        return Err(not_found());
    }
    let now = node.now();
    let stored = Share::try_from(&s)?.stored_state;
    let decision = if consent {
        Decision::Consent
    } else {
        Decision::Refuse
    };
    let next = share::decide(stored, s.expires_at, decision, now).map_err(|e| {
        AppError::new(
            ErrorKind::Conflict,
            e.code(),
            format!("the request {share_id}: {e}"),
        )
    })?;
    let actor = "holder".to_string();
    let inst = existing(node, &s.institution).await?;
    let (copy, events) = if next == ShareState::Granted {
        let m = matter_of_share(node, &s).await?.ok_or_else(|| {
            invalid(
                "share.unknown_matter",
                format!("the catalogue no longer names the matter {}", s.matter),
            )
        })?;
        let copy = make_copy(node, &s, &inst, &m, s.keep_days, now).await?;
        let events = vec![
            use_event(
                &s,
                &inst.name,
                elicense_core::EventKind::Consent,
                actor,
                now,
                None,
            ),
            use_event(
                &s,
                &inst.name,
                elicense_core::EventKind::AnnotatedCopy,
                institution_actor(&s.institution),
                now,
                None,
            ),
        ];
        (Some(copy), events)
    } else {
        let refusal = use_event(
            &s,
            &inst.name,
            elicense_core::EventKind::Refusal,
            actor,
            now,
            None,
        );
        (None, vec![refusal])
    };
    match node
        .store
        .decide_share(share_id, next.code(), now, copy, events)
        .await
    {
        Ok(_) => {}
        Err(elicense_store::StoreError::Conflict(_)) => {
            return Err(AppError::new(
                ErrorKind::Conflict,
                "share.decided",
                format!("the request {share_id} was decided meanwhile"),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let s = node.store.share(share_id).await?.ok_or_else(not_found)?;
    view(node, &s, Viewer::Holder).await
}
