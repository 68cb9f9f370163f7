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
//! A request under a legal basis must name the holder, and reaches a license only when the
//! name matches the one on it (`elicense_core::share::name_check`); an unknown holder and a
//! wrong name get the same answer (`share.no_license`). Legal-basis requests are rate-limited
//! per institution, and so are requests that reach no license; an institution that runs
//! into either limit raises an alert for the operator (`guard`).
//!
//! Every step is an event of the license, in its history and in the signed log:
//! `share_query` (the institution asked), `consent` / `refusal` (the holder answered),
//! `annotated_copy` (the copy was made). Events name the institution, the registered staff
//! member who asked (`staff`: only for a matter assigned to them), the matter and the
//! request; the holder sees who used their data and why.
//!
//! A joint matter (the same matter code under several license types, see
//! `elicense_core::catalogue::MatterNeed`) needs one license of each type: a presentation
//! request asks for all of them at once and, answered, grants one sharing request per license,
//! each with the copy of its own part's fields; the institution's form is filled from all of
//! them (`forms`). A sharing request by holder ID reaches one part: the one whose holders
//! carry that kind of ID, or the one the request names.

mod copies;
mod demo;
pub mod forms;
mod guard;
pub mod presentations;
mod shares;
pub mod staff;
mod verifications;

pub use copies::*;
pub use demo::*;
pub use guard::*;
pub use shares::*;
pub use verifications::*;

use std::sync::Arc;

use elicense_core::area::AreaCode;
use elicense_core::catalogue::{LicenseType, MatterNeed};
use elicense_core::gb32100::Uscc;
use elicense_store::{InstitutionRecord, ShareRecord};
use serde::Deserialize;

use crate::apikeys::{self, INSTITUTION_PREFIX};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// How long a request waits for the holder's answer, seconds.
pub const PENDING_SECS: i64 = 86_400;

/// Days an annotated copy may be used when the request names none.
pub const DEFAULT_KEEP_DAYS: u32 = 30;

/// Longest period of use of an annotated copy, days.
pub const MAX_KEEP_DAYS: u32 = 366;

pub(super) fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
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

/// A matter of `inst`'s business scope (`share.out_of_scope` otherwise) that the catalogue
/// names (`share.unknown_matter`).
pub(crate) async fn scoped_matter(
    node: &Node,
    inst: &InstitutionRecord,
    code: &str,
) -> Result<Matter> {
    if !inst.matters.iter().any(|m| m == code) {
        return Err(AppError::forbidden(
            "share.out_of_scope",
            format!(
                "the matter {code} is not in the business scope of {}",
                inst.code
            ),
        ));
    }
    matter(node, code).await?.ok_or_else(|| {
        invalid(
            "share.unknown_matter",
            format!("the catalogue no longer names the matter {code}"),
        )
    })
}

/// The matter with this code, from the latest catalogue: its first part when it is a joint
/// matter (what its name and legal basis are read from; the parts agree on them).
pub async fn matter(node: &Node, code: &str) -> Result<Option<Matter>> {
    Ok(matter_parts(node, code).await?.into_iter().next())
}

/// Every part of the matter `code`, one per license type whose latest version names it, in
/// catalogue order: one for a plain matter, several for a joint matter (one license of each
/// type answers it together), none for an unknown code.
pub async fn matter_parts(node: &Node, code: &str) -> Result<Vec<Matter>> {
    let mut parts = Vec::new();
    for t in node.catalogue.all().await? {
        if let Some(need) = t.matters.iter().find(|m| m.code == code) {
            parts.push(Matter {
                need: need.clone(),
                license_type: t.clone(),
            });
        }
    }
    Ok(parts)
}

/// The part of matter `code` that license type `type_code` answers.
pub async fn matter_part(
    node: &Node,
    code: &str,
    type_code: &elicense_core::TypeCode,
) -> Result<Option<Matter>> {
    Ok(matter_parts(node, code)
        .await?
        .into_iter()
        .find(|m| &m.license_type.code == type_code))
}

/// The part of a sharing request's matter that its license answers.
pub(crate) async fn matter_of_share(node: &Node, s: &ShareRecord) -> Result<Option<Matter>> {
    let identifier = crate::stored::Share::try_from(s)?.identifier;
    matter_part(node, &s.matter, identifier.type_code()).await
}

/// Registers an institution or replaces its name, area and scope. Whether it is disabled is
/// not touched: only the operator disables and enables (`crate::operator`), so registering a
/// disabled institution again leaves it disabled.
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

pub(super) async fn existing(node: &Node, code: &str) -> Result<InstitutionRecord> {
    node.store.institution(code).await?.ok_or_else(|| {
        AppError::not_found(
            "institution.unknown",
            format!("institution {code} is not registered"),
        )
    })
}

/// Makes an API key for an institution; returns the key (shown once) and its id.
/// `institution.disabled` (forbidden) for a disabled institution: no new key is made for it.
pub async fn create_key(node: &Arc<Node>, code: &str, label: &str) -> Result<(String, String)> {
    let inst = existing(node, code).await?;
    if inst.disabled_at.is_some() {
        return Err(disabled(&inst.code));
    }
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
        return Err(disabled(&inst.code));
    }
    Ok(inst)
}

fn disabled(code: &str) -> AppError {
    AppError::forbidden(
        "institution.disabled",
        format!("institution {code} is disabled"),
    )
}

pub(super) fn institution_actor(code: &str) -> String {
    format!("institution:{code}")
}
