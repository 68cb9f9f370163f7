//! No re-typing (免填报): an institution defines, per matter of its scope, which of the
//! matter's license claims fill which fields of its form; a granted request then returns the
//! form filled from the annotated copy, each field marked as verified from which license, so
//! the applicant never types it again.
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

use super::{invalid, scoped_matter};
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
    /// The request it was filled from.
    pub share: String,
    pub matter: String,
    pub fields: Vec<FilledField>,
}

fn is_field_name(name: &str) -> bool {
    let mut b = name.bytes();
    b.next().is_some_and(|c| c.is_ascii_lowercase())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && name.len() <= 64
}

/// Defines (or replaces) the institution's form for `matter_code`. `share.out_of_scope`,
/// `share.unknown_matter`, `form.bad_field` (a name or label that is empty, malformed or
/// used twice; none, or more than [`MAX_FIELDS`]), `form.unknown_claim` (not a field of the
/// matter).
pub async fn put(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    matter_code: &str,
    form: Form,
) -> Result<Form> {
    let m = scoped_matter(node, inst, matter_code).await?;
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
        if !m.need.fields.contains(&f.claim) {
            return Err(invalid(
                "form.unknown_claim",
                format!(
                    "field {}: the matter {matter_code} carries no claim {:?} (it carries {})",
                    f.name,
                    f.claim,
                    m.need.fields.join(", ")
                ),
            ));
        }
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

/// The institution's form for `matter_code` (`form.not_defined`).
pub async fn get(node: &Arc<Node>, inst: &InstitutionRecord, matter_code: &str) -> Result<Form> {
    let rec = node
        .store
        .form(&inst.code, matter_code)
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "form.not_defined",
                format!("{} has no form for the matter {matter_code}", inst.code),
            )
        })?;
    let fields = serde_json::from_str(&rec.fields)
        .map_err(|e| crate::stored::corrupt(format_args!("form {matter_code}"), e))?;
    Ok(Form { fields })
}

/// The institution's form for the matter of its request `share_id`, filled from the
/// request's annotated copy. `share.not_found` (none of this institution's),
/// `form.not_granted` (no copy yet: pending, refused or expired), `form.not_defined`.
pub async fn filled(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    share_id: &str,
) -> Result<FilledForm> {
    let view = super::get(node, inst, share_id).await?;
    let Some(copy) = view.copy else {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "form.not_granted",
            format!(
                "the request {share_id} is {}: no annotated copy to fill from",
                view.state
            ),
        ));
    };
    let form = get(node, inst, &view.matter).await?;
    let fields = form
        .fields
        .into_iter()
        .map(|f| match copy.fields.get(&f.claim) {
            Some(v) => FilledField {
                name: f.name,
                label: f.label,
                value: v.clone(),
                verified: true,
                source: Some(Source {
                    type_name: view.type_name.clone(),
                    claim: f.claim,
                    verify_url: copy.verify_url.clone(),
                }),
            },
            None => FilledField {
                name: f.name,
                label: f.label,
                value: Value::Null,
                verified: false,
                source: None,
            },
        })
        .collect();
    Ok(FilledForm {
        share: view.id,
        matter: view.matter,
        fields,
    })
}
