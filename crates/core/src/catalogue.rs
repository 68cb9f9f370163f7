//! The license-type catalogue (电子证照目录): which license types exist, what data each
//! carries, who may issue it, how long it is valid.
//!
//! Invariants: a [`Catalogue`] obtained from [`Catalogue::from_toml_str`],
//! [`Catalogue::from_json_str`] or [`Catalogue::sample`] has passed [`Catalogue::check`]:
//! no unknown keys, unique item names of the form `[a-z][a-z0-9_]*`, patterns that compile,
//! examples that validate, issuers that are declared, unique `(code, version)` pairs, and
//! `derives` only on items that can hold the fact, at most once per fact, in types whose
//! holders have resident IDs.
//! [`LicenseType::validate`] is the one place where license data is checked against a type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use crate::area::AreaCode;
use crate::date::{add_months, format_date, serde_date, serde_date_opt};
use crate::gb32100::Uscc;
use crate::holder::HolderCodeType;
use crate::ident::TypeCode;

mod error;
mod item;
mod load;

pub use error::CatalogueError;
pub use item::{DataItem, Derived, Disclosure, ItemType, SEX_FEMALE, SEX_MALE};

/// How long a license of a type is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "RuleRepr", into = "RuleRepr")]
pub enum ValidityRule {
    /// 长期: no end date. Serialised `{"kind":"long_term"}`.
    LongTerm,
    /// A fixed number of years from the issue date, same day of the month.
    /// Serialised `{"kind":"fixed_years","years":6}`.
    FixedYears(u32),
    /// A fixed number of months from the issue date.
    /// Serialised `{"kind":"fixed_months","months":18}`.
    FixedMonths(u32),
    /// The issuer gives the end date for each license. Serialised
    /// `{"kind":"given_by_issuer"}`.
    GivenByIssuer,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RuleRepr {
    LongTerm,
    FixedYears { years: u32 },
    FixedMonths { months: u32 },
    GivenByIssuer,
}

impl From<RuleRepr> for ValidityRule {
    fn from(r: RuleRepr) -> Self {
        match r {
            RuleRepr::LongTerm => Self::LongTerm,
            RuleRepr::FixedYears { years } => Self::FixedYears(years),
            RuleRepr::FixedMonths { months } => Self::FixedMonths(months),
            RuleRepr::GivenByIssuer => Self::GivenByIssuer,
        }
    }
}

impl From<ValidityRule> for RuleRepr {
    fn from(r: ValidityRule) -> Self {
        match r {
            ValidityRule::LongTerm => Self::LongTerm,
            ValidityRule::FixedYears(years) => Self::FixedYears { years },
            ValidityRule::FixedMonths(months) => Self::FixedMonths { months },
            ValidityRule::GivenByIssuer => Self::GivenByIssuer,
        }
    }
}

/// The validity period of one license: `from` and `until` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Validity {
    /// First day of validity.
    #[serde(with = "serde_date")]
    pub from: Date,
    /// Last day of validity; `None` for 长期 (long-term).
    #[serde(with = "serde_date_opt")]
    pub until: Option<Date>,
}

impl Validity {
    /// True when `day` lies within the period.
    pub fn contains(&self, day: Date) -> bool {
        day >= self.from && self.until.is_none_or(|u| day <= u)
    }
}

/// One license type (证照类型), in one version of its definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseType {
    /// Type code: the defining body's USCC + a 3-character sequence.
    pub code: TypeCode,
    /// Chinese name, e.g. 营业执照.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Version of this definition; a catalogue may hold several.
    pub version: u32,
    /// Name of the body that defines the type (its code is in `code`).
    pub defining_body: String,
    /// Authorities allowed to issue it.
    pub issuers: Vec<Uscc>,
    /// Which kind of holder code a holder has.
    pub holder_kind: HolderCodeType,
    /// Data items, in display order.
    pub items: Vec<DataItem>,
    /// Validity rule.
    pub validity: ValidityRule,
    /// Reference to the face (照面) template, e.g. `faces/business_license.svg`.
    pub face_template: String,
    /// Matters (事项) that ask for this type, each with the fields it needs: what a holder's
    /// wallet preselects when showing the license for that matter (minimal disclosure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matters: Vec<MatterNeed>,
    /// Issuing a license of this type also issues the holder enterprise's official seal and
    /// its legal representative's seal (the electronic business license, 营业执照); only on
    /// a type held by enterprises that names its legal representative (`represents`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub issues_seals: bool,
}

/// What one matter (事项) needs of one license type.
///
/// The same matter code under several license types makes a **joint matter**: it needs one
/// license of each of those types (e.g. opening a company's loan account needs the business
/// license and the legal representative's resident ID card), asked for together and answered
/// together; each type's part names its own fields. The parts agree on the name, the English
/// name and the legal basis ([`Catalogue::check`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatterNeed {
    /// Stable code of the matter, e.g. `hotel_check_in`.
    pub code: String,
    /// Chinese name, e.g. 旅馆住宿登记.
    pub name: String,
    pub name_en: String,
    /// Claims the matter needs: `holder_name`, `holder_id`, `license_number` or item names.
    pub fields: Vec<String>,
    /// The law or regulation that lets an institution handling this matter obtain those
    /// fields without asking the holder (法定依据). Without one, every sharing request needs
    /// the holder's consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
}

/// Claims of every license besides its data items (always selectively disclosable).
pub const HOLDER_CLAIMS: [&str; 3] = ["holder_name", "holder_id", "license_number"];

impl LicenseType {
    /// Checks license data: no unknown field, every required field present and non-empty,
    /// each value valid for its item. Empty optional fields are left out of the result.
    pub fn validate(
        &self,
        fields: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, Value>, CatalogueError> {
        if let Some(field) = fields.keys().find(|k| self.item(k).is_none()) {
            return Err(CatalogueError::FieldUnknown {
                field: field.clone(),
            });
        }
        let mut out = BTreeMap::new();
        for item in &self.items {
            match fields.get(&item.name).filter(|v| !v.is_empty()) {
                Some(value) => {
                    out.insert(item.name.clone(), item.check(value)?);
                }
                None if item.required => {
                    return Err(CatalogueError::FieldRequired {
                        field: item.name.clone(),
                        label: item.label.clone(),
                    })
                }
                None => {}
            }
        }
        Ok(out)
    }

    /// The validity of a license issued on `issue_date`. `requested_until` is required for
    /// [`ValidityRule::GivenByIssuer`], refused for [`ValidityRule::LongTerm`], and for fixed
    /// terms may shorten (never lengthen) the period.
    pub fn validity(
        &self,
        issue_date: Date,
        requested_until: Option<Date>,
    ) -> Result<Validity, CatalogueError> {
        let fail = |message: String| Err(CatalogueError::Validity { message });
        let months = match self.validity {
            ValidityRule::LongTerm => {
                if let Some(until) = requested_until {
                    return fail(format!(
                        "{} is long-term (长期); no end date may be given, found {}",
                        self.name,
                        format_date(until)
                    ));
                }
                return Ok(Validity {
                    from: issue_date,
                    until: None,
                });
            }
            ValidityRule::GivenByIssuer => None,
            ValidityRule::FixedYears(years) => Some(years.saturating_mul(12)),
            ValidityRule::FixedMonths(months) => Some(months),
        };
        let longest = match months {
            Some(m) => Some(
                add_months(issue_date, m).ok_or_else(|| CatalogueError::Validity {
                    message: "end date out of range".to_owned(),
                })?,
            ),
            None => None,
        };
        let until = match (requested_until, longest) {
            (None, Some(longest)) => longest,
            (None, None) => {
                return fail(format!("{}: the issuer must give the end date", self.name))
            }
            (Some(until), Some(longest)) if until > longest => {
                return fail(format!(
                    "{}: end date {} is after the longest term, {}",
                    self.name,
                    format_date(until),
                    format_date(longest)
                ))
            }
            (Some(until), _) => until,
        };
        if until < issue_date {
            return fail(format!(
                "end date {} is before the issue date {}",
                format_date(until),
                format_date(issue_date)
            ));
        }
        Ok(Validity {
            from: issue_date,
            until: Some(until),
        })
    }

    /// The example value of every item, as license data that validates.
    pub fn example_fields(&self) -> BTreeMap<String, String> {
        self.items
            .iter()
            .map(|i| (i.name.clone(), i.example.clone()))
            .collect()
    }

    /// The values the holder's resident ID determines, by item name (items with `derives`).
    pub fn derived_fields(&self, id: &crate::gb11643::ResidentId) -> BTreeMap<String, String> {
        self.items
            .iter()
            .filter_map(|i| Some((i.name.clone(), i.derives?.value(id))))
            .collect()
    }

    /// The item that names the holder's legal representative (`represents = true`), if the
    /// type has one.
    pub fn representative_item(&self) -> Option<&DataItem> {
        self.items.iter().find(|i| i.represents)
    }

    /// The item with that claim name.
    pub fn item(&self, name: &str) -> Option<&DataItem> {
        self.items.iter().find(|i| i.name == name)
    }

    /// True when `issuer` is listed as an issuer of this type.
    pub fn may_issue(&self, issuer: &Uscc) -> bool {
        self.issuers.contains(issuer)
    }

    /// `Ok` when `issuer` may issue this type, else `catalogue.issuer_not_allowed`.
    pub fn check_issuer(&self, issuer: &Uscc) -> Result<(), CatalogueError> {
        if self.may_issue(issuer) {
            Ok(())
        } else {
            Err(CatalogueError::IssuerNotAllowed {
                issuer: issuer.to_string(),
                type_code: self.code.to_string(),
            })
        }
    }

    /// Canonical JSON of the definition without its `version`: object keys sorted, no
    /// whitespace. Two definitions are the same exactly when these strings are equal, so a
    /// store can tell whether a re-loaded definition changed.
    pub fn canonical_json(&self) -> String {
        let mut value = serde_json::to_value(self).expect("a license type serialises");
        if let Value::Object(map) = &mut value {
            map.shift_remove("version");
        }
        canonicalise(value).to_string()
    }

    /// Same as [`LicenseType::canonical_json`] (no hashing in this crate: the canonical
    /// string itself is the content fingerprint).
    pub fn content_hash(&self) -> String {
        self.canonical_json()
    }
}

fn canonicalise(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonicalise(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonicalise).collect()),
        other => other,
    }
}

/// An issuing authority (发证机关).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// Its USCC.
    pub code: Uscc,
    /// Its name.
    pub name: String,
    /// The division it serves.
    pub area: AreaCode,
}

/// A catalogue: license types (possibly several versions each) and issuing authorities.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// License types.
    #[serde(default)]
    pub types: Vec<LicenseType>,
    /// Issuing authorities.
    #[serde(default)]
    pub issuers: Vec<Issuer>,
}

impl Catalogue {
    /// The highest version of the type with this code.
    pub fn get(&self, code: &TypeCode) -> Option<&LicenseType> {
        self.types
            .iter()
            .filter(|t| &t.code == code)
            .max_by_key(|t| t.version)
    }

    /// One given version of a type.
    pub fn type_version(&self, code: &TypeCode, version: u32) -> Option<&LicenseType> {
        self.types
            .iter()
            .find(|t| &t.code == code && t.version == version)
    }

    /// The issuing authority with this code.
    pub fn issuer(&self, code: &Uscc) -> Option<&Issuer> {
        self.issuers.iter().find(|i| &i.code == code)
    }
}
