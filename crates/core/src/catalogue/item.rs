//! Data items of a license type and the check of one value against one item.
//!
//! Invariants: [`DataItem::check`] is the single definition of what a valid value is:
//! length (in characters) first, then type, then pattern; integers come out as JSON
//! numbers, every other type as the JSON string given. [`Derived::value`] is the single
//! definition of the value a resident ID determines for an item (`derives`).

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CatalogueError;
use crate::area::AreaCode;
use crate::date::parse_date;
use crate::gb11643::ResidentId;
use crate::gb32100::Uscc;

/// The type of a data item's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// Free text.
    String,
    /// A date `YYYY-MM-DD`.
    Date,
    /// A signed integer (`0`, `-12`, `4500`; no leading zeros or `+`).
    Integer,
    /// A GB 11643 resident ID.
    ResidentId,
    /// A GB 32100 unified social credit code.
    Uscc,
    /// A GB/T 2260 six-digit area code.
    AreaCode,
    /// One of the listed values.
    Enum(Vec<String>),
}

impl ItemType {
    /// What a value of this type looks like, for messages.
    pub fn expectation(&self) -> String {
        match self {
            Self::String => "text".to_owned(),
            Self::Date => "a date YYYY-MM-DD".to_owned(),
            Self::Integer => "an integer".to_owned(),
            Self::ResidentId => "a resident ID (GB 11643)".to_owned(),
            Self::Uscc => "a unified social credit code (GB 32100)".to_owned(),
            Self::AreaCode => "an area code (GB/T 2260)".to_owned(),
            Self::Enum(values) => format!("one of {}", values.join(", ")),
        }
    }
}

/// Whether an item may appear in a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    /// Always in the credential, in clear.
    Always,
    /// In the credential as a selectively disclosable claim.
    #[default]
    Selective,
    /// Kept in the store, never put in a credential.
    Never,
}

/// A fact about the holder that their GB 11643 resident ID determines, which a data item may
/// declare it records (`derives = "birth_date"` or `"sex"`): its value must then agree with
/// the holder's ID. A catalogue declares it instead of the code matching labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Derived {
    /// Date of birth, digits 7-14 of the ID; the item's type is `date`.
    BirthDate,
    /// Sex, digit 17 of the ID (odd: 男, even: 女); the item's type is an `enum` with
    /// both [`SEX_MALE`] and [`SEX_FEMALE`].
    Sex,
}

/// The value of a [`Derived::Sex`] item for men.
pub const SEX_MALE: &str = "男";
/// The value of a [`Derived::Sex`] item for women.
pub const SEX_FEMALE: &str = "女";

impl Derived {
    /// The value `id` determines, as the item's text.
    pub fn value(self, id: &ResidentId) -> String {
        match self {
            Self::BirthDate => crate::date::format_date(id.birth_date()),
            Self::Sex if id.is_male() => SEX_MALE.to_owned(),
            Self::Sex => SEX_FEMALE.to_owned(),
        }
    }

    /// The attribute's name in a catalogue (`birth_date`, `sex`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BirthDate => "birth_date",
            Self::Sex => "sex",
        }
    }

    /// Whether an item of type `t` can record this fact.
    pub fn fits(self, t: &ItemType) -> bool {
        match (self, t) {
            (Self::BirthDate, ItemType::Date) => true,
            (Self::Sex, ItemType::Enum(values)) => [SEX_MALE, SEX_FEMALE]
                .iter()
                .all(|v| values.iter().any(|x| x == v)),
            _ => false,
        }
    }
}

/// One data item (信息项) of a license type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataItem {
    /// Claim name, `[a-z][a-z0-9_]*`.
    pub name: String,
    /// Chinese label as printed on the license.
    pub label: String,
    /// Value type.
    #[serde(rename = "type")]
    pub item_type: ItemType,
    /// True when every license must have a value.
    #[serde(default)]
    pub required: bool,
    /// Maximum length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A regular expression the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Whether the item may go into a credential.
    #[serde(default)]
    pub disclosure: Disclosure,
    /// A sample value (样例) that itself validates.
    pub example: String,
    /// The fact about the holder that the holder's resident ID determines and this item
    /// records; only for types whose holders have resident IDs (`holder_kind = "111"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derives: Option<Derived>,
    /// True for the resident ID of the holder's legal representative (法定代表人): the person
    /// with this ID acts for the holder (sees its licenses, authorises agents) while the
    /// license is in force. Only on a `resident_id` item of a type whose holders have USCCs
    /// (`holder_kind = "049"`), at most one per type.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub represents: bool,
}

/// Compiles a catalogue pattern so that it must match the whole value.
pub(crate) fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    well_formed && s != "-0"
}

impl DataItem {
    /// Checks one non-empty value; returns it as JSON (numbers for integers).
    pub fn check(&self, value: &str) -> Result<Value, CatalogueError> {
        let field = || self.name.clone();
        let label = || self.label.clone();
        let found = value.chars().count();
        if let Some(max) = self.max_length {
            if found > max as usize {
                return Err(CatalogueError::FieldTooLong {
                    field: field(),
                    label: label(),
                    max,
                    found,
                });
            }
        }
        let type_error = |reason: String| CatalogueError::FieldType {
            field: field(),
            label: label(),
            expected: self.item_type.expectation(),
            reason,
        };
        let json = match &self.item_type {
            ItemType::String => Value::String(value.to_owned()),
            ItemType::Date => {
                parse_date(value).ok_or_else(|| type_error(format!("{value:?} is not a date")))?;
                Value::String(value.to_owned())
            }
            ItemType::Integer => {
                let number = is_integer(value)
                    .then(|| value.parse::<i64>().ok())
                    .flatten()
                    .ok_or_else(|| type_error(format!("{value:?} is not an integer")))?;
                Value::from(number)
            }
            ItemType::ResidentId => {
                ResidentId::parse(value).map_err(|e| type_error(e.to_string()))?;
                Value::String(value.to_owned())
            }
            ItemType::Uscc => {
                Uscc::parse(value).map_err(|e| type_error(e.to_string()))?;
                Value::String(value.to_owned())
            }
            ItemType::AreaCode => {
                AreaCode::parse(value).map_err(|e| type_error(e.to_string()))?;
                Value::String(value.to_owned())
            }
            ItemType::Enum(values) => {
                if !values.iter().any(|v| v == value) {
                    return Err(type_error(format!("{value:?} is not listed")));
                }
                Value::String(value.to_owned())
            }
        };
        if let Some(pattern) = &self.pattern {
            let regex = compile_pattern(pattern).map_err(|e| {
                CatalogueError::invalid(format!("item {}: bad pattern: {e}", self.name))
            })?;
            if !regex.is_match(value) {
                return Err(CatalogueError::FieldPattern {
                    field: field(),
                    label: label(),
                    pattern: pattern.clone(),
                });
            }
        }
        Ok(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_canonical() {
        for ok in ["0", "7", "-12", "4500"] {
            assert!(is_integer(ok), "{ok}");
        }
        for bad in ["", "-", "-0", "007", "+5", "1.0", "１"] {
            assert!(!is_integer(bad), "{bad}");
        }
    }

    #[test]
    fn item_type_serde() {
        let t: ItemType = serde_json::from_str(r#"{"enum":["A1","C1"]}"#).unwrap();
        assert_eq!(t, ItemType::Enum(vec!["A1".into(), "C1".into()]));
        assert_eq!(
            serde_json::to_string(&ItemType::AreaCode).unwrap(),
            "\"area_code\""
        );
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"enum":["A1","C1"]}"#
        );
    }
}
