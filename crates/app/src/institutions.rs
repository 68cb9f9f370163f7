//! Relying institutions (用证单位) and their use of licenses: sharing requests, the holder's
//! consent or refusal, and annotated copies (加注件).
//!
//! An institution is registered with its business scope: the matters (事项) it may handle.
//! Its systems call the node with an API key (`eli_…`). For a matter in scope it asks for one
//! holder's license (a sharing query). What it receives is never the license itself but an
//! annotated copy: only the fields the matter needs, with who received it, why and until
//! when, signed by the issuer's key and checkable like a license (its status is the
//! license's). The copy is made at once when the matter has a legal basis (法定依据) in the
//! catalogue; otherwise the request waits for the holder, who sees it in the wallet and
//! consents or refuses. A request not answered within [`PENDING_SECS`] lapses.
//!
//! Every step is an event of the license, in its history and in the signed log:
//! `share_query` (the institution asked), `consent` / `refusal` (the holder answered),
//! `annotated_copy` (the copy was made). Events name the institution, the staff member, the
//! matter and the request; the holder sees who used their data and why.

use std::sync::Arc;

use elicense_core::area::AreaCode;
use elicense_core::catalogue::{LicenseType, MatterNeed};
use elicense_core::gb32100::Uscc;
use elicense_core::holder::HolderCode;
use elicense_store::{EventRecord, InstitutionRecord, LicenseRecord, ShareRecord};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::apikeys::{self, INSTITUTION_PREFIX};
use crate::error::{AppError, ErrorKind, Result};
use crate::face::{self, FaceFormat};
use crate::node::Node;
use crate::wallet::identity::Identity;
use crate::wallet::licenses::meta_of;

/// How long a request waits for the holder's answer, seconds.
pub const PENDING_SECS: i64 = 86_400;
/// Days an annotated copy may be used when the request names none.
pub const DEFAULT_KEEP_DAYS: u32 = 30;
/// Longest period of use of an annotated copy, days.
pub const MAX_KEEP_DAYS: u32 = 366;

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

/// An institution to register (or re-register with a new scope).
#[derive(Debug, Clone, Deserialize)]
pub struct NewInstitution {
    /// USCC (GB 32100).
    pub code: String,
    pub name: String,
    /// 6-digit area code.
    pub area: String,
    /// Matter codes it may handle.
    pub matters: Vec<String>,
}

/// A matter as the catalogue defines it, with the license type that carries it.
#[derive(Debug, Clone)]
pub struct Matter {
    pub license_type: Arc<LicenseType>,
    pub need: MatterNeed,
}

/// The matter with this code, from the latest catalogue.
pub async fn matter(node: &Node, code: &str) -> Result<Option<Matter>> {
    for t in node.catalogue.all().await? {
        if let Some(need) = t.matters.iter().find(|m| m.code == code) {
            return Ok(Some(Matter {
                need: need.clone(),
                license_type: t.clone(),
            }));
        }
    }
    Ok(None)
}

/// Registers an institution or replaces its name, area and scope.
pub async fn register(node: &Arc<Node>, new: NewInstitution) -> Result<InstitutionRecord> {
    let code = Uscc::parse(new.code.trim()).map_err(AppError::invalid)?;
    let area = AreaCode::parse(new.area.trim()).map_err(AppError::invalid)?;
    let name = new.name.trim();
    if name.is_empty() {
        return Err(invalid(
            "institution.no_name",
            "an institution needs a name",
        ));
    }
    if new.matters.is_empty() {
        return Err(invalid(
            "institution.no_matters",
            "an institution needs at least one matter in its scope",
        ));
    }
    let mut matters = Vec::new();
    for m in &new.matters {
        let m = m.trim();
        if matter(node, m).await?.is_none() {
            return Err(invalid(
                "institution.unknown_matter",
                format!("no license type of the catalogue names the matter {m}"),
            ));
        }
        if !matters.iter().any(|x: &String| x == m) {
            matters.push(m.to_string());
        }
    }
    let record = InstitutionRecord {
        code: code.to_string(),
        name: name.to_string(),
        area: area.to_string(),
        matters,
        created_at: node.now(),
        disabled_at: None,
    };
    node.store.put_institution(record.clone()).await?;
    Ok(node
        .store
        .institution(record.code.as_str())
        .await?
        .unwrap_or(record))
}

/// Every registered institution, by code.
pub async fn list(node: &Node) -> Result<Vec<InstitutionRecord>> {
    Ok(node.store.institutions().await?)
}

async fn existing(node: &Node, code: &str) -> Result<InstitutionRecord> {
    node.store.institution(code).await?.ok_or_else(|| {
        AppError::not_found(
            "institution.unknown",
            format!("institution {code} is not registered"),
        )
    })
}

/// Makes an API key for an institution; returns the key (shown once) and its id.
pub async fn create_key(node: &Arc<Node>, code: &str, label: &str) -> Result<(String, String)> {
    existing(node, code).await?;
    let (token, record) = apikeys::random_key(INSTITUTION_PREFIX, code, label, node.now());
    let id = record.id.clone();
    node.store.put_institution_key(record).await?;
    Ok((token, id))
}

/// The institution a presented key acts for: `auth.invalid_key` for an unknown or revoked
/// key, `institution.disabled` (forbidden) for a disabled institution.
pub async fn authenticate(node: &Arc<Node>, token: &str) -> Result<InstitutionRecord> {
    let id = apikeys::key_id(INSTITUTION_PREFIX, token)?;
    let rec = node
        .store
        .institution_key(id)
        .await?
        .ok_or_else(apikeys::invalid_key)?;
    apikeys::check(token, &rec, node.now())?;
    let inst = existing(node, &rec.issuer).await?;
    if inst.disabled_at.is_some_and(|t| t <= node.now()) {
        return Err(AppError::forbidden(
            "institution.disabled",
            format!("institution {} is disabled", inst.code),
        ));
    }
    Ok(inst)
}

/// What an institution asks for.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Ask {
    /// Matter code, one of the institution's scope.
    pub matter: String,
    /// The holder's resident ID (GB 11643) or USCC (GB 32100).
    pub holder_id: String,
    /// When given, must equal the holder's name on the license.
    pub holder_name: Option<String>,
    /// Why, in the institution's words (shown to the holder and logged).
    pub purpose: String,
    /// The staff member or system asking (shown to the holder and logged).
    pub staff: String,
    /// Days the annotated copy may be used (default 30, at most 366).
    pub keep_days: Option<u32>,
}

/// An annotated copy as its receiver gets it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CopyView {
    /// The copy: an SD-JWT VC with the matter's fields disclosed and an `annotation` claim;
    /// `POST /api/v1/verifications` checks it.
    pub credential: String,
    /// Last moment of use, unix seconds.
    pub until: i64,
    /// The fields it carries.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// The copy's public check page (no personal data).
    pub verify_url: String,
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

/// The public check page of an annotated copy.
pub fn copy_url(node: &Node, share: &str) -> String {
    format!("{}/verify/c/{share}", node.config.base_url)
}

fn share_state(s: &ShareRecord, now: i64) -> String {
    if s.state == "pending" && now >= s.expires_at {
        "expired".into()
    } else {
        s.state.clone()
    }
}

/// Whose view: the institution gets the copy, the holder the identifier.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Viewer {
    Institution,
    Holder,
}

async fn view(node: &Node, s: &ShareRecord, viewer: Viewer) -> Result<ShareView> {
    let m = matter(node, &s.matter).await?;
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
        fields,
        basis: s.basis.clone(),
        legal_basis: m.and_then(|m| m.need.legal_basis),
        state: share_state(s, node.now()),
        created_at: s.created_at,
        expires_at: s.expires_at,
        decided_at: s.decided_at,
        identifier: (viewer == Viewer::Holder).then(|| s.identifier.clone()),
        copy,
    })
}

/// The matter's fields a copy carries, by name: its disclosures and the claims the catalogue
/// always discloses (plain in the payload).
fn copy_fields(credential: &str, fields: &[String]) -> Result<Map<String, Value>> {
    let parsed = elicense_crypto::sdjwt::parse(credential)
        .map_err(|e| AppError::internal(format!("stored copy: {e}")))?;
    let mut out = Map::new();
    for d in &parsed.disclosures {
        if !d.array_element {
            out.insert(d.name.clone(), d.value.clone());
        }
    }
    if let Some(payload) = parsed.jws.payload.as_object() {
        for f in fields {
            if let Some(v) = payload.get(f) {
                out.insert(f.clone(), v.clone());
            }
        }
    }
    Ok(out)
}

fn use_event(
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

fn institution_actor(code: &str) -> String {
    format!("institution:{code}")
}

/// The holder's license in force of the matter's type, newest first.
async fn license_for(
    node: &Node,
    m: &Matter,
    holder: &HolderCode,
    name: Option<&str>,
) -> Result<Option<LicenseRecord>> {
    let now = node.now();
    let type_code = m.license_type.code.to_string();
    for r in node.store.by_holder(&node.holder_key(holder)).await? {
        if r.type_code != type_code || r.status != "valid" {
            continue;
        }
        if r.valid_until.is_some_and(|u| u <= now) {
            continue;
        }
        if let Some(name) = name {
            if meta_of(&r)?.holder.name != name.trim() {
                continue;
            }
        }
        return Ok(Some(r));
    }
    Ok(None)
}

/// The stored license version a request concerns, its metadata and its type as issued.
async fn license_of(
    node: &Node,
    identifier: &str,
) -> Result<(
    LicenseRecord,
    elicense_core::license::LicenseMeta,
    Arc<LicenseType>,
)> {
    let record = node.store.license(identifier).await?.ok_or_else(|| {
        AppError::not_found("license.not_found", format!("no license {identifier}"))
    })?;
    let meta = meta_of(&record)?;
    let t = node
        .catalogue
        .get(&record.type_code, Some(record.catalogue_version))
        .await?;
    Ok((record, meta, t))
}

/// Makes the annotated copy of a request's license.
async fn make_copy(
    node: &Arc<Node>,
    s: &ShareRecord,
    inst: &InstitutionRecord,
    m: &Matter,
    keep_days: u32,
    at: i64,
) -> Result<(String, i64)> {
    let (record, meta, t) = license_of(node, &s.identifier).await?;
    let until = at + i64::from(keep_days) * 86_400;
    let annotation = json!({
        "kind": "annotated_copy",
        "share": s.id,
        "license": record.identifier,
        "institution": {"code": inst.code, "name": inst.name},
        "staff": s.staff,
        "matter": {"code": m.need.code, "name": m.need.name},
        "purpose": s.purpose,
        "basis": s.basis,
        "issued_at": at,
        "until": until,
    });
    let credential =
        crate::issue::annotated_copy(node, &record, &t, &meta, &m.need.fields, annotation, until)
            .await?;
    Ok((credential, until))
}

/// An institution asks for a holder's license for a matter in its scope.
pub async fn ask(node: &Arc<Node>, inst: &InstitutionRecord, ask: Ask) -> Result<ShareView> {
    let matter_code = ask.matter.trim();
    if !inst.matters.iter().any(|m| m == matter_code) {
        return Err(AppError::forbidden(
            "share.out_of_scope",
            format!(
                "the matter {matter_code} is not in the business scope of {}",
                inst.code
            ),
        ));
    }
    let m = matter(node, matter_code).await?.ok_or_else(|| {
        invalid(
            "share.unknown_matter",
            format!("the catalogue no longer names the matter {matter_code}"),
        )
    })?;
    let holder = HolderCode::detect(ask.holder_id.trim())
        .map_err(|e| invalid("share.bad_holder_id", e.to_string()))?;
    let (purpose, staff) = (ask.purpose.trim(), ask.staff.trim());
    if purpose.is_empty() || staff.is_empty() {
        return Err(invalid(
            "share.missing_purpose",
            "a request names its purpose and the staff member asking",
        ));
    }
    let keep_days = ask.keep_days.unwrap_or(DEFAULT_KEEP_DAYS);
    if keep_days == 0 || keep_days > MAX_KEEP_DAYS {
        return Err(invalid(
            "share.bad_period",
            format!("keep_days must be 1 to {MAX_KEEP_DAYS}"),
        ));
    }
    // The same answer whether the holder is unknown or has no such license in force.
    let record = license_for(node, &m, &holder, ask.holder_name.as_deref())
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "share.no_license",
                format!(
                    "the holder has no {} in force on this node",
                    m.license_type.name
                ),
            )
        })?;
    let now = node.now();
    let legal = m.need.legal_basis.is_some();
    let mut share = ShareRecord {
        id: crate::wallet::random_id(),
        institution: inst.code.clone(),
        staff: staff.to_string(),
        matter: m.need.code.clone(),
        purpose: purpose.to_string(),
        identifier: record.identifier.clone(),
        lineage: record.lineage.clone(),
        holder_key: record.holder_key.clone(),
        basis: if legal { "legal" } else { "consent" }.into(),
        state: "pending".into(),
        created_at: now,
        expires_at: now + PENDING_SECS,
        decided_at: None,
        copy: None,
        copy_until: None,
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
    if legal {
        let (copy, until) = make_copy(node, &share, inst, &m, keep_days, now).await?;
        share.state = "granted".into();
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
    } else {
        // The period the institution asked for travels with the request until the holder
        // decides.
        share.copy_until = Some(i64::from(keep_days));
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
    if share_state(&s, now) != "pending" {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "share.decided",
            format!("the request {share_id} is {} already", share_state(&s, now)),
        ));
    }
    let actor = "holder".to_string();
    let inst = existing(node, &s.institution).await?;
    let (state, copy, events) = if consent {
        let m = matter(node, &s.matter).await?.ok_or_else(|| {
            invalid(
                "share.unknown_matter",
                format!("the catalogue no longer names the matter {}", s.matter),
            )
        })?;
        let keep_days = s
            .copy_until
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(DEFAULT_KEEP_DAYS);
        let copy = make_copy(node, &s, &inst, &m, keep_days, now).await?;
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
        ("granted", Some(copy), events)
    } else {
        let refusal = use_event(
            &s,
            &inst.name,
            elicense_core::EventKind::Refusal,
            actor,
            now,
            None,
        );
        ("refused", None, vec![refusal])
    };
    match node
        .store
        .decide_share(share_id, state, now, copy, events)
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

/// Records that an institution verified a credential of a license stored here (event
/// `verify`, actor the institution). A credential of an unknown license is not recorded.
pub async fn record_verification(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    verdict: &crate::verify::Verdict,
) -> Result<()> {
    let Some(identifier) = verdict.identifier.as_deref() else {
        return Ok(());
    };
    if node.store.license(identifier).await?.is_none() {
        return Ok(());
    }
    let copy_of = verdict
        .annotation
        .as_ref()
        .and_then(|a| a.get("share"))
        .cloned();
    node.store
        .record_use(EventRecord {
            seq: 0,
            identifier: identifier.to_string(),
            kind: elicense_core::EventKind::Verify.to_string(),
            actor: institution_actor(&inst.code),
            at: node.now(),
            reason: None,
            reason_category: None,
            detail: json!({
                "institution": inst.code,
                "institution_name": inst.name,
                "valid": verdict.valid,
                "annotated_copy": copy_of,
            })
            .to_string(),
        })
        .await?;
    Ok(())
}

/// The face of an annotated copy: the license's template with only the matter's fields, a
/// watermark naming the institution and matter, and a QR code of the copy's check page.
pub async fn copy_face(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    share_id: &str,
    format: FaceFormat,
) -> Result<Vec<u8>> {
    let s = node
        .store
        .share(share_id)
        .await?
        .filter(|s| s.institution == inst.code && s.copy.is_some())
        .ok_or_else(|| {
            AppError::not_found(
                "share.not_found",
                format!("no annotated copy for request {share_id}"),
            )
        })?;
    let (record, meta, t) = license_of(node, &s.identifier).await?;
    let (fields, matter_name) = match matter(node, &s.matter).await? {
        Some(m) => (m.need.fields, m.need.name),
        None => (Vec::new(), s.matter.clone()),
    };
    let mut input = face::input(node, &record, &meta, &t);
    minimise(&mut input, &t, &fields);
    input.qr = copy_url(node, &s.id);
    input.watermark = Some(format!("加注件 仅供{}办理{}使用", inst.name, matter_name));
    face::render(node, input, format).await
}

/// Blanks what the matter does not need: holder data and items not in `fields`.
fn minimise(input: &mut elicense_face::FaceInput, t: &LicenseType, fields: &[String]) {
    const HIDDEN: &str = "—";
    let keep = |name: &str| fields.iter().any(|f| f == name);
    for (key, claim) in [
        ("holder_name", "holder_name"),
        ("holder_code", "holder_id"),
        ("license_number", "license_number"),
    ] {
        if !keep(claim) {
            input.fields.insert(key.into(), HIDDEN.into());
        }
    }
    for item in &t.items {
        if !keep(&item.name) {
            if let Some(v) = input.fields.get_mut(&format!("item.{}", item.name)) {
                *v = HIDDEN.into();
            }
        }
    }
    let labels: Vec<&str> = t
        .items
        .iter()
        .filter(|i| keep(&i.name))
        .map(|i| i.label.as_str())
        .collect();
    input
        .items
        .retain(|(label, _)| labels.contains(&label.as_str()));
}

/// What anyone may know of an annotated copy from its check page: that it exists, for whom
/// and what, until when, and the license's status. No personal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicCopy {
    pub share: String,
    pub institution_name: String,
    pub matter_name: String,
    pub type_name: String,
    pub issued_at: i64,
    pub until: i64,
    /// The copy may still be used: its period runs and the license is in force.
    pub usable: bool,
    pub license_status: crate::verify::PublicStatus,
}

/// The public view of an annotated copy by request id: `copy.not_found` unless granted.
pub async fn public_copy(node: &Arc<Node>, share_id: &str) -> Result<PublicCopy> {
    let s = node
        .store
        .share(share_id)
        .await?
        .filter(|s| s.state == "granted" && s.copy.is_some())
        .ok_or_else(|| {
            AppError::not_found("copy.not_found", format!("no annotated copy {share_id}"))
        })?;
    let v = view(node, &s, Viewer::Holder).await?;
    let status = crate::verify::public_status(node, &s.identifier).await?;
    let until = s.copy_until.unwrap_or(0);
    let in_force = status.status.code == "valid";
    Ok(PublicCopy {
        share: s.id.clone(),
        institution_name: v.institution_name,
        matter_name: v.matter_name,
        type_name: v.type_name,
        issued_at: s.decided_at.unwrap_or(s.created_at),
        until,
        usable: in_force && node.now() < until,
        license_status: status,
    })
}

/// Demo institutions of `elicense demo`: a bank (consent needed) and a hotel (legal basis).
/// Their keys are derived from the node's secret, so the demo can print them on every start.
pub async fn seed_demo(node: &Arc<Node>) -> Result<Vec<DemoInstitution>> {
    const DEMO: [(&str, &str, &str, &[&str]); 2] = [
        (
            "91110105MA01B2C3DL",
            "示例商业银行北京分行",
            "110105",
            &["bank_account_opening"],
        ),
        (
            "91310101MA1FPX0Q1Y",
            "上海样本大酒店",
            "310101",
            &["hotel_check_in", "age_check"],
        ),
    ];
    let mut out = Vec::new();
    for (code, name, area, matters) in DEMO {
        let inst = register(
            node,
            NewInstitution {
                code: code.into(),
                name: name.into(),
                area: area.into(),
                matters: matters.iter().map(|m| m.to_string()).collect(),
            },
        )
        .await?;
        let mut m = Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
            .expect("HMAC takes any key length");
        m.update(b"elicense demo institution key\0");
        m.update(code.as_bytes());
        let bytes = m.finalize().into_bytes();
        let mut id = [0u8; 6];
        let mut secret = [0u8; 20];
        id.copy_from_slice(&bytes[..6]);
        secret.copy_from_slice(&bytes[6..26]);
        let (token, record) =
            apikeys::new_key(INSTITUTION_PREFIX, id, secret, code, "demo", node.now());
        if node.store.institution_key(&record.id).await?.is_none() {
            node.store.put_institution_key(record).await?;
        }
        out.push(DemoInstitution {
            code: inst.code,
            name: inst.name,
            matters: inst.matters,
            api_key: token,
        });
    }
    Ok(out)
}

/// A demo institution as `elicense demo` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoInstitution {
    pub code: String,
    pub name: String,
    pub matters: Vec<String>,
    pub api_key: String,
}
