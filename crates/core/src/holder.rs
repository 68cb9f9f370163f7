//! License holders and their codes (GB/T 36903 持证主体代码 and 代码类型).
//!
//! Invariants: a [`HolderCodeType`] is always a three-digit code, and the three known codes
//! are always the named variants, never `Other`; a [`HolderCode`] value is valid for its
//! type (a checked resident ID, a checked USCC, a plausible passport number, or non-empty
//! text without control characters for other types).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::gb11643::{ResidentId, ResidentIdError};
use crate::gb32100::{Uscc, UsccError};

/// Longest holder code value accepted for passports and other code types.
const MAX_OTHER_LEN: usize = 64;

/// Why a holder code (or its type) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HolderError {
    /// The code type is not three ASCII digits.
    #[error("holder code type must be 3 digits, found {found:?}")]
    BadCodeType {
        /// The text found.
        found: String,
    },
    /// The value is not a valid resident ID.
    #[error("holder code is not a valid resident ID: {0}")]
    ResidentId(ResidentIdError),
    /// The value is not a valid unified social credit code.
    #[error("holder code is not a valid unified social credit code: {0}")]
    Uscc(UsccError),
    /// A passport number is not 5..=20 characters of `0-9A-Z`.
    #[error("passport number {value:?} must be 5 to 20 characters of 0-9A-Z")]
    Passport {
        /// The value found.
        value: String,
    },
    /// A value of another code type is empty, too long or has control characters.
    #[error("holder code {value:?} must be 1 to 64 printable characters")]
    Other {
        /// The value found.
        value: String,
    },
}

impl ErrorCode for HolderError {
    fn code(&self) -> &'static str {
        match self {
            Self::BadCodeType { .. } => "holder.bad_code_type",
            Self::ResidentId(e) => e.code(),
            Self::Uscc(e) => e.code(),
            Self::Passport { .. } => "holder.bad_passport",
            Self::Other { .. } => "holder.bad_code",
        }
    }
}

/// The type of a holder code, by its GB/T 36903 three-digit code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum HolderCodeType {
    /// `111`: resident identity card number (GB 11643).
    ResidentId,
    /// `049`: unified social credit code (GB 32100).
    Uscc,
    /// `414`: ordinary passport.
    Passport,
    /// Any other three-digit code.
    Other(String),
}

impl HolderCodeType {
    /// Parses a three-digit code; `111`, `049` and `414` give the named variants.
    pub fn parse(code: &str) -> Result<Self, HolderError> {
        match code {
            "111" => Ok(Self::ResidentId),
            "049" => Ok(Self::Uscc),
            "414" => Ok(Self::Passport),
            _ if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Self::Other(code.to_owned()))
            }
            _ => Err(HolderError::BadCodeType {
                found: code.to_owned(),
            }),
        }
    }

    /// The three-digit code.
    pub fn code(&self) -> &str {
        match self {
            Self::ResidentId => "111",
            Self::Uscc => "049",
            Self::Passport => "414",
            Self::Other(code) => code,
        }
    }

    /// Chinese name of the code type.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::ResidentId => "居民身份证",
            Self::Uscc => "统一社会信用代码",
            Self::Passport => "护照",
            Self::Other(_) => "其他证件",
        }
    }
}

impl fmt::Display for HolderCodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for HolderCodeType {
    type Err = HolderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for HolderCodeType {
    type Error = HolderError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<HolderCodeType> for String {
    fn from(t: HolderCodeType) -> Self {
        t.code().to_owned()
    }
}

/// A holder's code together with its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawHolderCode", into = "RawHolderCode")]
pub struct HolderCode {
    kind: HolderCodeType,
    value: String,
}

/// Serialised form of [`HolderCode`]: `{"type": "111", "value": "..."}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHolderCode {
    #[serde(rename = "type")]
    kind: HolderCodeType,
    value: String,
}

impl TryFrom<RawHolderCode> for HolderCode {
    type Error = HolderError;
    fn try_from(raw: RawHolderCode) -> Result<Self, Self::Error> {
        Self::parse(raw.kind, &raw.value)
    }
}

impl From<HolderCode> for RawHolderCode {
    fn from(c: HolderCode) -> Self {
        Self {
            kind: c.kind,
            value: c.value,
        }
    }
}

impl HolderCode {
    /// Checks `value` against the rules of `kind`.
    pub fn parse(kind: HolderCodeType, value: &str) -> Result<Self, HolderError> {
        match &kind {
            HolderCodeType::ResidentId => {
                ResidentId::parse(value).map_err(HolderError::ResidentId)?;
            }
            HolderCodeType::Uscc => {
                Uscc::parse(value).map_err(HolderError::Uscc)?;
            }
            HolderCodeType::Passport => {
                let len = value.len();
                let ok = (5..=20).contains(&len)
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
                if !ok {
                    return Err(HolderError::Passport {
                        value: value.to_owned(),
                    });
                }
            }
            HolderCodeType::Other(_) => {
                let len = value.chars().count();
                if len == 0 || len > MAX_OTHER_LEN || value.chars().any(char::is_control) {
                    return Err(HolderError::Other {
                        value: value.to_owned(),
                    });
                }
            }
        }
        Ok(Self {
            kind,
            value: value.to_owned(),
        })
    }

    /// A resident ID or a USCC, whichever `value` is. A value valid as both (rare: an
    /// all-digit USCC whose digits also form a region, a birth date and a MOD 11-2 check)
    /// is taken as a resident ID. On failure the error is the one of the more likely kind:
    /// resident ID for values that are digits apart from a final `X`/`x` or that have
    /// 15 characters (first-generation IDs), USCC otherwise.
    pub fn detect(value: &str) -> Result<Self, HolderError> {
        let as_id = ResidentId::parse(value);
        if as_id.is_ok() {
            return Self::parse(HolderCodeType::ResidentId, value);
        }
        let as_uscc = Uscc::parse(value);
        if as_uscc.is_ok() {
            return Self::parse(HolderCodeType::Uscc, value);
        }
        let chars: Vec<char> = value.chars().collect();
        let body_digits = chars
            .iter()
            .take(chars.len().saturating_sub(1))
            .all(char::is_ascii_digit);
        let last_ok = chars
            .last()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, 'X' | 'x'));
        let looks_like_id = (body_digits && last_ok) || chars.len() == 15;
        match (as_id, as_uscc) {
            (Err(e), _) if looks_like_id => Err(HolderError::ResidentId(e)),
            (_, Err(e)) => Err(HolderError::Uscc(e)),
            _ => unreachable!("both parses failed above"),
        }
    }

    /// The code type.
    pub fn kind(&self) -> &HolderCodeType {
        &self.kind
    }

    /// The code itself.
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// A license holder: a person or an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    /// Name of the person or organisation.
    pub name: String,
    /// Their code and its type.
    pub code: HolderCode,
}

/// A holder's name as a sharing request compares it: the same name however it was typed,
/// never a similar one.
///
/// Normalisation (in this order), and nothing else: Unicode NFC; full-width ASCII forms
/// (U+FF01–U+FF5E) become their ASCII characters and the ideographic space (U+3000) a space;
/// the separator dot of transcribed names (阿依古丽·买买提), typed as U+00B7, U+2022, U+2027,
/// U+30FB or U+FF65, becomes U+00B7; whitespace at either end is dropped and each run of
/// whitespace inside becomes one U+0020. No case folding, no traditional/simplified mapping,
/// no similarity: `张伟` and `张 伟` or `張偉` are different names.
///
/// Invariant: never empty; `parse(n.as_str()) == Some(n)` (normalising is idempotent).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HolderName(String);

impl HolderName {
    /// The normalised name, `None` when nothing but whitespace was given.
    pub fn parse(raw: &str) -> Option<HolderName> {
        use unicode_normalization::UnicodeNormalization;
        let mut out = String::with_capacity(raw.len());
        let mut space = false;
        for c in raw.nfc() {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                '\u{2022}' | '\u{2027}' | '\u{30FB}' | '\u{FF65}' => '\u{00B7}',
                c => c,
            };
            if c.is_whitespace() {
                space = !out.is_empty();
                continue;
            }
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
        (!out.is_empty()).then_some(HolderName(out))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HolderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_typed_never_as_similar() {
        let n = |s: &str| HolderName::parse(s);
        assert_eq!(n("张伟"), n(" \u{3000}张伟\t"));
        assert_eq!(n("阿依古丽·买买提"), n("阿依古丽・买买提"));
        assert_eq!(n("阿依古丽·买买提"), n("阿依古丽\u{2022}买买提"));
        assert_eq!(n("JOHN SMITH"), n("ＪＯＨＮ\u{3000}\u{3000}ＳＭＩＴＨ"));
        assert_eq!(n("JOHN SMITH").unwrap().as_str(), "JOHN SMITH");
        // NFC: a decomposed é is the composed one.
        assert_eq!(n("Andre\u{301}"), n("Andr\u{e9}"));
        assert_ne!(n("张伟"), n("张 伟"));
        assert_ne!(n("张伟"), n("張偉"));
        assert_ne!(n("John Smith"), n("JOHN SMITH"));
        assert_eq!(n(" \u{3000}\n"), None);
        assert_eq!(n(""), None);
    }

    #[test]
    fn code_types() {
        assert_eq!(
            HolderCodeType::parse("111").unwrap(),
            HolderCodeType::ResidentId
        );
        assert_eq!(HolderCodeType::parse("049").unwrap(), HolderCodeType::Uscc);
        assert_eq!(HolderCodeType::parse("414").unwrap().code(), "414");
        assert_eq!(
            HolderCodeType::parse("990").unwrap(),
            HolderCodeType::Other("990".into())
        );
        assert_eq!(
            HolderCodeType::parse("11").unwrap_err().code(),
            "holder.bad_code_type"
        );
        let json = serde_json::to_string(&HolderCodeType::Uscc).unwrap();
        assert_eq!(json, "\"049\"");
    }

    #[test]
    fn detect_picks_the_kind() {
        let id = HolderCode::detect("11010519491231002X").unwrap();
        assert_eq!(id.kind(), &HolderCodeType::ResidentId);
        let uscc = HolderCode::detect("91330000755918469E").unwrap();
        assert_eq!(uscc.kind(), &HolderCodeType::Uscc);
        assert_eq!(uscc.value(), "91330000755918469E");
        let e = HolderCode::detect("110105194912310021").unwrap_err();
        assert_eq!(e.code(), "resident_id.bad_check");
        assert_eq!(
            HolderCode::detect("110105491231002").unwrap_err().code(),
            "resident_id.bad_length"
        );
        assert_eq!(
            HolderCode::detect("91330000755918469F").unwrap_err().code(),
            "uscc.bad_check"
        );
        assert_eq!(
            HolderCode::detect("9111010800000000I5").unwrap_err().code(),
            "uscc.bad_char"
        );
    }

    #[test]
    fn holder_serde() {
        let holder = Holder {
            name: "张伟".into(),
            code: HolderCode::parse(HolderCodeType::ResidentId, "11010119900307002X").unwrap(),
        };
        let json = serde_json::to_string(&holder).unwrap();
        assert_eq!(
            json,
            r#"{"name":"张伟","code":{"type":"111","value":"11010119900307002X"}}"#
        );
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), holder);
        let bad = json.replace("002X", "002Y");
        assert!(serde_json::from_str::<Holder>(&bad).is_err());
        assert!(HolderCode::parse(HolderCodeType::Passport, "E12345678").is_ok());
        assert!(HolderCode::parse(HolderCodeType::Passport, "e1").is_err());
    }
}
