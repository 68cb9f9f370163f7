//! GB/T 2260 administrative division codes.
//!
//! Invariants: [`PROVINCES`] lists every province-level code (11..82) exactly once; an
//! [`AreaCode`] is always six ASCII digits whose first two are one of those codes. Lower
//! levels (city, county) are not checked against a table: the table changes every year and
//! this crate has no I/O to fetch it.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::macros::text_type;

/// GB/T 2260 province-level codes with their short names.
pub const PROVINCES: [(&str, &str); 34] = [
    ("11", "北京市"),
    ("12", "天津市"),
    ("13", "河北省"),
    ("14", "山西省"),
    ("15", "内蒙古自治区"),
    ("21", "辽宁省"),
    ("22", "吉林省"),
    ("23", "黑龙江省"),
    ("31", "上海市"),
    ("32", "江苏省"),
    ("33", "浙江省"),
    ("34", "安徽省"),
    ("35", "福建省"),
    ("36", "江西省"),
    ("37", "山东省"),
    ("41", "河南省"),
    ("42", "湖北省"),
    ("43", "湖南省"),
    ("44", "广东省"),
    ("45", "广西壮族自治区"),
    ("46", "海南省"),
    ("50", "重庆市"),
    ("51", "四川省"),
    ("52", "贵州省"),
    ("53", "云南省"),
    ("54", "西藏自治区"),
    ("61", "陕西省"),
    ("62", "甘肃省"),
    ("63", "青海省"),
    ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"),
    ("71", "台湾省"),
    ("81", "香港特别行政区"),
    ("82", "澳门特别行政区"),
];

/// True when `code` is a two-digit GB/T 2260 province-level code such as `"11"`.
pub fn is_province(code: &str) -> bool {
    province_name(code).is_some()
}

/// The name of a two-digit province-level code, e.g. `"22"` → `"吉林省"`.
pub fn province_name(code: &str) -> Option<&'static str> {
    PROVINCES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// Why a text is not an [`AreaCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AreaCodeError {
    /// The text is not six characters long.
    #[error("area code must be 6 digits, found {found} characters")]
    BadLength {
        /// Number of characters found.
        found: usize,
    },
    /// A character is not an ASCII digit.
    #[error("area code must be digits only: {ch:?} at position {position}")]
    BadChar {
        /// The offending character.
        ch: char,
        /// 1-based character position.
        position: usize,
    },
    /// The first two digits are not a GB/T 2260 province-level code.
    #[error("area code {code}: province code {province} is not a GB/T 2260 code")]
    UnknownProvince {
        /// The whole code.
        code: String,
        /// Its first two digits.
        province: String,
    },
}

impl ErrorCode for AreaCodeError {
    fn code(&self) -> &'static str {
        match self {
            Self::BadLength { .. } => "area.bad_length",
            Self::BadChar { .. } => "area.bad_char",
            Self::UnknownProvince { .. } => "area.bad_province",
        }
    }
}

/// A six-digit GB/T 2260 division code (`110000` Beijing, `110101` 东城区).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    /// Parses six digits whose first two are a province-level code.
    pub fn parse(s: &str) -> Result<Self, AreaCodeError> {
        let found = s.chars().count();
        if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            if found == 6 {
                return Err(AreaCodeError::BadChar {
                    ch,
                    position: i + 1,
                });
            }
        }
        if found != 6 {
            return Err(AreaCodeError::BadLength { found });
        }
        if !is_province(&s[..2]) {
            return Err(AreaCodeError::UnknownProvince {
                code: s.to_owned(),
                province: s[..2].to_owned(),
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit province-level code.
    pub fn province(&self) -> &str {
        &self.0[..2]
    }

    /// The province-level name, e.g. `北京市`.
    pub fn province_name(&self) -> &'static str {
        province_name(self.province()).unwrap_or_default()
    }
}

text_type!(AreaCode, AreaCodeError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces() {
        assert!(is_province("11") && is_province("82") && is_province("65"));
        assert!(!is_province("99") && !is_province("10") && !is_province("1"));
    }

    #[test]
    fn area_codes() {
        assert_eq!(AreaCode::parse("110101").unwrap().province_name(), "北京市");
        assert_eq!(
            AreaCode::parse("11010").unwrap_err().code(),
            "area.bad_length"
        );
        assert_eq!(
            AreaCode::parse("11010A").unwrap_err().code(),
            "area.bad_char"
        );
        assert_eq!(
            AreaCode::parse("990000").unwrap_err().code(),
            "area.bad_province"
        );
        let json = serde_json::to_string(&AreaCode::parse("220000").unwrap()).unwrap();
        assert_eq!(json, "\"220000\"");
        assert!(serde_json::from_str::<AreaCode>("\"000000\"").is_err());
    }
}
