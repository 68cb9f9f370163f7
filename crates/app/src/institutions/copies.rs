//! Annotated copies (加注件): the minimised, annotated credential an institution receives for a
//! granted request, its face, and its public check page.

use std::sync::Arc;

use elicense_core::catalogue::LicenseType;
use elicense_core::share::ShareState;
use elicense_store::{InstitutionRecord, ShareRecord};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::*;
use crate::error::{AppError, Result};
use crate::face::{self, FaceFormat};
use crate::node::Node;
use crate::stored::{License, Share};

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

/// The public check page of an annotated copy.
pub fn copy_url(node: &Node, share: &str) -> String {
    format!("{}/verify/c/{share}", node.config.base_url)
}

/// The matter's fields a copy carries, by name: its disclosures and the claims the catalogue
/// always discloses (plain in the payload).
pub(super) fn copy_fields(credential: &str, fields: &[String]) -> Result<Map<String, Value>> {
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

/// The stored license version a request concerns and its type as issued.
pub(super) async fn license_of(
    node: &Node,
    s: &ShareRecord,
) -> Result<(License, Arc<LicenseType>)> {
    let identifier = Share::try_from(s)?.identifier;
    let license = License::load(node, &identifier).await?;
    let t = license.type_as_issued(node).await?;
    Ok((license, t))
}

/// Makes the annotated copy of a request's license.
pub(super) async fn make_copy(
    node: &Arc<Node>,
    s: &ShareRecord,
    inst: &InstitutionRecord,
    m: &Matter,
    keep_days: u32,
    at: i64,
) -> Result<(String, i64)> {
    let (license, t) = license_of(node, s).await?;
    let (record, meta) = (&license.record, &license.meta);
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
        crate::issue::annotated_copy(node, record, &t, meta, &m.need.fields, annotation, until)
            .await?;
    Ok((credential, until))
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
    let (license, t) = license_of(node, &s).await?;
    let (fields, matter_name) = match matter_of_share(node, &s).await? {
        Some(m) => (m.need.fields, m.need.name),
        None => (Vec::new(), s.matter.clone()),
    };
    let mut input = face::input(node, &license, &t);
    minimise(&mut input, &t, &fields);
    input.qr = copy_url(node, &s.id);
    input.watermark = Some(format!("加注件 仅供{}办理{}使用", inst.name, matter_name));
    face::render_sealed(node, &license, input, format, "annotated copy").await
}

/// Blanks what the matter does not need: holder data and items not in `fields`.
pub(super) fn minimise(input: &mut elicense_face::FaceInput, t: &LicenseType, fields: &[String]) {
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
    let not_found =
        || AppError::not_found("copy.not_found", format!("no annotated copy {share_id}"));
    let s = node.store.share(share_id).await?.ok_or_else(not_found)?;
    let share = Share::try_from(&s)?;
    if share.stored_state != ShareState::Granted || s.copy.is_none() {
        return Err(not_found());
    }
    let v = view(node, &s, Viewer::Holder).await?;
    let status = crate::verify::public_status(node, &share.identifier).await?;
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
