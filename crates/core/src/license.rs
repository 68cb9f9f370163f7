//! GB/T 36903 metadata of one license version (证照元数据).
//!
//! Invariants: a [`LicenseMeta`] holds checked codes (identifier, type code, issuer, area,
//! holder code) by construction; [`LicenseMeta::check_against`] adds the rules that link
//! fields together and to the catalogue (the identifier names the same type and issuer,
//! validity is ordered, the holder has the kind of code the type requires, the issuer may
//! issue the type, the data validates, and [`check_holder_items`]: the items a resident ID
//! determines agree with the holder's ID). The lifecycle status is not part of the metadata:
//! it changes without a new version, and lives with the store (see [`crate::lifecycle`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use crate::area::AreaCode;
use crate::catalogue::{CatalogueError, LicenseType, Validity};
use crate::date::{serde_date, serde_date_opt};
use crate::error::ErrorCode;
use crate::gb11643::ResidentId;
use crate::gb32100::Uscc;
use crate::holder::{Holder, HolderCode, HolderCodeType};
use crate::ident::{Identifier, TypeCode};

/// Metadata of one license version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicenseMeta {
    /// GB/T 36904 identifier of this version.
    pub identifier: Identifier,
    /// License number as printed (证照编号), assigned by the issuer.
    pub license_number: String,
    /// License type code.
    pub type_code: TypeCode,
    /// License type name, e.g. 营业执照.
    pub type_name: String,
    /// Version of the type definition the data follows.
    pub catalogue_version: u32,
    /// Issuing authority's code.
    pub issuer_code: Uscc,
    /// Issuing authority's name.
    pub issuer_name: String,
    /// Date of issue.
    #[serde(with = "serde_date")]
    pub issue_date: Date,
    /// First day of validity.
    #[serde(with = "serde_date")]
    pub valid_from: Date,
    /// Last day of validity; `None` for 长期 (long-term).
    #[serde(with = "serde_date_opt", default)]
    pub valid_until: Option<Date>,
    /// Division code of the issuing area.
    pub area_code: AreaCode,
    /// The holder.
    pub holder: Holder,
    /// The administrative matter under which it was issued (关联事项).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_matter: Option<String>,
    /// Data items, as returned by [`LicenseType::validate`].
    pub data: BTreeMap<String, Value>,
    /// Extension JSON (扩展信息), free-form.
    #[serde(default)]
    pub extension: Value,
    /// The version this one replaces, for versions created by a change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Identifier>,
}

/// Why metadata is inconsistent with itself or with its license type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LicenseError {
    /// Two fields of the metadata disagree (identifier vs. type or issuer, dates, the
    /// replaced version).
    #[error("inconsistent license metadata: {message}")]
    Inconsistent {
        /// What disagrees.
        message: String,
    },
    /// The holder's code type is not the one the license type requires.
    #[error("holder code type {found} does not fit the license type, which requires {expected}")]
    HolderKind {
        /// Code type found.
        found: String,
        /// Code type required.
        expected: String,
    },
    /// An item that the holder's resident ID determines (`derives` in the catalogue: birth
    /// date, sex) has another value than the ID gives.
    #[error("field {label}({field}) is {found:?} but the holder's resident ID gives {expected:?}")]
    HolderMismatch {
        /// Claim name.
        field: String,
        /// Chinese label.
        label: String,
        /// The value the ID determines.
        expected: String,
        /// The value given.
        found: String,
    },
    /// The metadata does not fit its license type (data, issuer).
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

impl ErrorCode for LicenseError {
    fn code(&self) -> &'static str {
        match self {
            Self::Inconsistent { .. } => "license.inconsistent",
            Self::HolderKind { .. } => "license.holder_kind",
            Self::HolderMismatch { .. } => "license.holder_mismatch",
            Self::Catalogue(e) => e.code(),
        }
    }
}

impl LicenseMeta {
    /// The validity period.
    pub fn validity(&self) -> Validity {
        Validity {
            from: self.valid_from,
            until: self.valid_until,
        }
    }

    /// Checks the rules that link fields to each other and to `ty` (see the module header).
    /// Data is checked by re-validating its values, as text, against the type.
    pub fn check_against(&self, ty: &LicenseType) -> Result<(), LicenseError> {
        let inconsistent = |message: String| Err(LicenseError::Inconsistent { message });
        if self.identifier.type_code() != &self.type_code || ty.code != self.type_code {
            return inconsistent(format!(
                "identifier type {}, metadata type {}, catalogue type {}",
                self.identifier.type_code(),
                self.type_code,
                ty.code
            ));
        }
        if self.identifier.issuer() != &self.issuer_code {
            return inconsistent(format!(
                "identifier issuer {} but issuer_code {}",
                self.identifier.issuer(),
                self.issuer_code
            ));
        }
        if ty.version != self.catalogue_version {
            return inconsistent(format!(
                "catalogue version {} but the type given is version {}",
                self.catalogue_version, ty.version
            ));
        }
        if self.valid_until.is_some_and(|u| u < self.valid_from) {
            return inconsistent("valid_until is before valid_from".to_owned());
        }
        if let Some(old) = &self.replaces {
            if !old.same_license(&self.identifier) || old.version() >= self.identifier.version() {
                return inconsistent(format!(
                    "{} cannot replace {old}: not an earlier version of the same license",
                    self.identifier
                ));
            }
        }
        if self.holder.code.kind() != &ty.holder_kind {
            return Err(LicenseError::HolderKind {
                found: self.holder.code.kind().to_string(),
                expected: ty.holder_kind.to_string(),
            });
        }
        ty.check_issuer(&self.issuer_code)?;
        let fields: BTreeMap<String, String> = self
            .data
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect();
        if ty.validate(&fields)? != self.data {
            return inconsistent("data values are not in their canonical JSON form".to_owned());
        }
        check_holder_items(ty, &self.holder.code, &self.data)
    }
}

/// Checks that every item of `ty` that records a fact the holder's resident ID determines
/// (`derives`) and has a value in `data` agrees with `holder`'s ID; the first item that does
/// not is `license.holder_mismatch`. Holders without a resident ID have no such items (the
/// catalogue refuses `derives` for their types), and an item without a value is not checked
/// (whether it is required is [`LicenseType::validate`]'s business).
pub fn check_holder_items(
    ty: &LicenseType,
    holder: &HolderCode,
    data: &BTreeMap<String, Value>,
) -> Result<(), LicenseError> {
    if holder.kind() != &HolderCodeType::ResidentId {
        return Ok(());
    }
    // A resident-ID holder code is a valid ID by construction.
    let Ok(id) = ResidentId::parse(holder.value()) else {
        return Ok(());
    };
    for item in &ty.items {
        let (Some(d), Some(value)) = (item.derives, data.get(&item.name)) else {
            continue;
        };
        let expected = d.value(&id);
        let found = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if found != expected {
            return Err(LicenseError::HolderMismatch {
                field: item.name.clone(),
                label: item.label.clone(),
                expected,
                found,
            });
        }
    }
    Ok(())
}
