//! No re-typing (免填报): an institution defines, per matter of its scope, which of the
//! matter's license claims fill which fields of its form; a granted request then returns the
//! form filled from the annotated copy, each field marked as verified from which license, so
//! the applicant never types it again. For a joint matter the form draws on several licenses
//! (e.g. the enterprise's USCC from the business license and the representative's address
//! from their ID card): each field names the license type it comes from when more than one
//! carries its claim, and a presentation request's answer fills it from all its copies.
//!
//! Invariants: a form names only claims the matter's annotated copy carries (the matter's
//! fields: `form.unknown_claim`), so every value it returns comes from a signed copy; a form
//! is filled only from a granted request of the same institution (`share.not_found` for
//! another's, `form.not_granted` before the copy exists); a field whose claim the license
//! does not carry is returned empty and unverified, never guessed.

use std::collections::BTreeSet;
use std::sync::Arc;

use elicense_store::{FormRecord, InstitutionRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{invalid, matter_parts, scoped_matter, Matter, ShareView};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// Most fields of one form.
pub const MAX_FIELDS: usize = 50;

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    /// The form's own field name (`[a-z][a-z0-9_]*`, unique in the form).
    pub name: String,
    /// The label the applicant sees.
    pub label: String,
    /// The license claim that fills it: one of the matter's fields.
    pub claim: String,
    /// For a joint matter: the code of the license type whose claim it is. Needed only when
    /// more than one of the matter's types carries the claim (`form.ambiguous_claim`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
}

/// An institution's form for a matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub fields: Vec<FormField>,
}

/// Where a filled value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Source {
    /// The license type (e.g. 营业执照).
    pub type_name: String,
    /// The claim of the annotated copy.
    pub claim: String,
    /// The copy's public check page.
    pub verify_url: String,
}

/// A field as the form returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FilledField {
    pub name: String,
    pub label: String,
    /// The value from the copy; `null` when the license does not carry the claim.
    #[schema(value_type = Option<Object>)]
    pub value: Value,
    /// True when the value comes from the signed copy.
    pub verified: bool,
    /// Which license it was verified from (absent when not verified).
    pub source: Option<Source>,
}

/// A form filled from a granted request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FilledForm {
    /// The request it was filled from (the first of `shares`).
    pub share: String,
    /// Every request it was filled from: one, or one per license of a joint matter.
    pub shares: Vec<String>,
    pub matter: String,
    pub fields: Vec<FilledField>,
}

fn is_field_name(name: &str) -> bool {
    let mut b = name.bytes();
    b.next().is_some_and(|c| c.is_ascii_lowercase())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && name.len() <= 64
}

/// The index of the part of a matter whose claim fills field `f`: the part of the type it
/// names, else the only part that carries the claim. `form.unknown_claim` (no such part or
/// claim), `form.ambiguous_claim` (several parts carry it and the field names none).
fn part_of(parts: &[Matter], f: &FormField) -> std::result::Result<usize, &'static str> {
    let mut carrying = parts.iter().enumerate().filter(|(_, p)| {
        p.need.fields.contains(&f.claim)
            && f.license_type
                .as_deref()
                .is_none_or(|t| p.license_type.code.as_str() == t.trim())
    });
    match (carrying.next(), carrying.next()) {
        (Some((i, _)), None) => Ok(i),
        (None, _) => Err("form.unknown_claim"),
        (Some(_), Some(_)) => Err("form.ambiguous_claim"),
    }
}

/// Defines (or replaces) the institution's form for `matter_code`. `share.out_of_scope`,
/// `share.unknown_matter`, `form.bad_field` (a name or label that is empty, malformed or
/// used twice; none, or more than [`MAX_FIELDS`]), `form.unknown_claim` (not a field of the
/// matter, or of the license type it names), `form.ambiguous_claim` (a joint matter's claim
/// that several of its types carry, without `license_type`).
pub async fn put(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    matter_code: &str,
    form: Form,
) -> Result<Form> {
    scoped_matter(node, inst, matter_code).await?;
    let parts = matter_parts(node, matter_code).await?;
    if form.fields.is_empty() || form.fields.len() > MAX_FIELDS {
        return Err(invalid(
            "form.bad_field",
            format!("a form has 1 to {MAX_FIELDS} fields"),
        ));
    }
    let mut names = BTreeSet::new();
    for f in &form.fields {
        let label = f.label.trim();
        if !is_field_name(&f.name)
            || !names.insert(f.name.as_str())
            || label.is_empty()
            || label.chars().count() > 64
        {
            return Err(invalid(
                "form.bad_field",
                format!(
                    "field {:?}: a unique name [a-z][a-z0-9_]* and a label of 1 to 64 characters",
                    f.name
                ),
            ));
        }
        part_of(&parts, f).map_err(|code| {
            let message = match code {
                "form.ambiguous_claim" => format!(
                    "field {}: more than one license type of the matter {matter_code} carries \
                     {:?}: name one (license_type)",
                    f.name, f.claim
                ),
                _ => format!(
                    "field {}: the matter {matter_code} carries no claim {:?}{} (it carries {})",
                    f.name,
                    f.claim,
                    f.license_type
                        .as_deref()
                        .map(|t| format!(" of license type {t}"))
                        .unwrap_or_default(),
                    parts
                        .iter()
                        .flat_map(|p| p.need.fields.iter().map(String::as_str))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            invalid(code, message)
        })?;
    }
    let fields =
        serde_json::to_string(&form.fields).map_err(|e| AppError::internal(e.to_string()))?;
    node.store
        .put_form(FormRecord {
            institution: inst.code.clone(),
            matter: matter_code.to_owned(),
            fields,
            updated_at: node.now(),
        })
        .await?;
    get(node, inst, matter_code).await
}

/// The institution's form for `matter_code`, if it defined one.
async fn defined(node: &Node, institution: &str, matter_code: &str) -> Result<Option<Form>> {
    let Some(rec) = node.store.form(institution, matter_code).await? else {
        return Ok(None);
    };
    let fields = serde_json::from_str(&rec.fields)
        .map_err(|e| crate::stored::corrupt(format_args!("form {matter_code}"), e))?;
    Ok(Some(Form { fields }))
}

/// The institution's form for `matter_code` (`form.not_defined`).
pub async fn get(node: &Arc<Node>, inst: &InstitutionRecord, matter_code: &str) -> Result<Form> {
    defined(node, &inst.code, matter_code)
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "form.not_defined",
                format!("{} has no form for the matter {matter_code}", inst.code),
            )
        })
}

/// The institution's form for the matter of its request `share_id`, filled from the
/// request's annotated copy (for a joint matter, only the fields of that request's license
/// are filled: the presentation request's view fills them all). `share.not_found` (none of
/// this institution's), `form.not_granted` (no copy yet: pending, refused or expired),
/// `form.not_defined`.
pub async fn filled(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    share_id: &str,
) -> Result<FilledForm> {
    let view = super::get(node, inst, share_id).await?;
    if view.copy.is_none() {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "form.not_granted",
            format!(
                "the request {share_id} is {}: no annotated copy to fill from",
                view.state
            ),
        ));
    }
    let matter = view.matter.clone();
    fill(node, &inst.code, &matter, &[view])
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "form.not_defined",
                format!("{} has no form for the matter {matter}", inst.code),
            )
        })
}

/// The institution's form for `matter_code` filled from the annotated copies of `shares`
/// (granted requests of that matter: one, or one per license of a joint matter); `None`
/// when it has no form or no share carries a copy. A field is filled from the copy of the
/// license type it names, else from the one copy whose part carries its claim.
pub(crate) async fn fill(
    node: &Node,
    institution: &str,
    matter_code: &str,
    shares: &[ShareView],
) -> Result<Option<FilledForm>> {
    if shares.iter().all(|s| s.copy.is_none()) {
        return Ok(None);
    }
    let Some(form) = defined(node, institution, matter_code).await? else {
        return Ok(None);
    };
    let source_of = |f: &FormField| {
        shares.iter().find_map(|s| {
            let copy = s.copy.as_ref()?;
            let fits = f
                .license_type
                .as_deref()
                .map_or(s.fields.contains(&f.claim), |t| s.type_code == t.trim());
            let value = copy.fields.get(&f.claim).filter(|_| fits)?;
            Some((s, copy, value))
        })
    };
    let fields = form
        .fields
        .iter()
        .map(|f| match source_of(f) {
            Some((s, copy, value)) => FilledField {
                name: f.name.clone(),
                label: f.label.clone(),
                value: value.clone(),
                verified: true,
                source: Some(Source {
                    type_name: s.type_name.clone(),
                    claim: f.claim.clone(),
                    verify_url: copy.verify_url.clone(),
                }),
            },
            None => FilledField {
                name: f.name.clone(),
                label: f.label.clone(),
                value: Value::Null,
                verified: false,
                source: None,
            },
        })
        .collect();
    Ok(Some(FilledForm {
        share: shares[0].id.clone(),
        shares: shares.iter().map(|s| s.id.clone()).collect(),
        matter: matter_code.to_owned(),
        fields,
    }))
}
