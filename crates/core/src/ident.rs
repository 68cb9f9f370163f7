//! GB/T 36904 electronic-license identifiers (电子证照标识).
//!
//! Form: `1.2.156.3005.2.<type code>.<issuer code>.<serial>.<version>.<check>` where the type
//! code is a [`TypeCode`] (the defining body's USCC plus a three-character sequence), the
//! issuer code is the issuing authority's [`Uscc`], the serial is 1..=64 characters of
//! `0-9A-Z`, the version is three digits `001..=999`, and the check character is ISO/IEC
//! 7064 MOD 37,36 ([`mod37_36`]) over type code + issuer + serial + version (no root, no
//! dots).
//!
//! Invariants: an [`Identifier`] is always strictly conformant and its text is canonical
//! (uppercase, zero-padded version, correct check character), so `parse(to_string(x)) == x`.
//! Non-conformant identifiers from other systems are read with
//! [`Identifier::parse_lenient`], which never yields an `Identifier` for them but lists what
//! deviates (see [`lenient`]).

use serde::{Deserialize, Serialize};

use crate::gb32100::Uscc;
use crate::macros::text_type;

mod error;
pub mod lenient;

pub use error::{IdentError, Segment, SerialFault, TypeCodeFault};

pub use lenient::{Deviation, IssuerLooksLike, Lenient, Segments};

/// The MOD 37,36 alphabet; a character's value is its index.
const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Longest serial this crate issues or accepts strictly.
pub const MAX_SERIAL_LEN: usize = 64;

/// ISO/IEC 7064 MOD 37,36 (hybrid system, M = 36) check character over `0-9A-Z`.
/// `None` when `body` holds any other character (lowercase included).
pub fn mod37_36(body: &str) -> Option<char> {
    const M: u32 = 36;
    let mut p = M;
    for ch in body.chars() {
        let a = ALPHABET.find(ch)? as u32;
        let s = match (p + a) % M {
            0 => M,
            s => s,
        };
        p = s * 2 % (M + 1);
    }
    ALPHABET.chars().nth(((M + 1 - p) % M) as usize)
}

/// Reports `Lowercase` when `s` has lowercase letters and `parse` accepts its uppercase.
fn refuse_lowercase<T, E>(
    s: &str,
    segment: Segment,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<IdentError> {
    (s.chars().any(|c| c.is_ascii_lowercase()) && parse(&s.to_ascii_uppercase()).is_ok()).then(
        || IdentError::Lowercase {
            segment,
            value: s.to_owned(),
        },
    )
}

/// A license type code: the defining body's USCC (18) + a sequence `[0-9A-Z]{3}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TypeCode(String);

impl TypeCode {
    /// Parses a 21-character type code.
    pub fn parse(s: &str) -> Result<Self, IdentError> {
        Self::parse_exact(s).map_err(|reason| {
            refuse_lowercase(s, Segment::TypeCode, Self::parse_exact).unwrap_or(
                IdentError::BadTypeCode {
                    value: s.to_owned(),
                    reason,
                },
            )
        })
    }

    fn parse_exact(s: &str) -> Result<Self, TypeCodeFault> {
        let found = s.chars().count();
        if found != 21 || !s.is_ascii() {
            // A non-ASCII character cannot be in a USCC: report it through the USCC check.
            if found == 21 {
                let body: String = s.chars().take(18).collect();
                if let Err(e) = Uscc::parse(&body) {
                    return Err(TypeCodeFault::DefiningBody(e));
                }
                return Err(TypeCodeFault::BadSequence {
                    sequence: s.chars().skip(18).collect(),
                });
            }
            return Err(TypeCodeFault::BadLength { found });
        }
        Uscc::parse(&s[..18]).map_err(TypeCodeFault::DefiningBody)?;
        let sequence = &s[18..];
        if !sequence
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(TypeCodeFault::BadSequence {
                sequence: sequence.to_owned(),
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// Builds a type code from the defining body and a sequence `[0-9A-Z]{3}`.
    pub fn new(defining_body: &Uscc, sequence: &str) -> Result<Self, IdentError> {
        Self::parse(&format!("{defining_body}{sequence}"))
    }

    /// The 21 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The USCC of the body that defines the license type.
    pub fn defining_body(&self) -> Uscc {
        Uscc::parse(&self.0[..18]).expect("checked by parse")
    }

    /// The three-character sequence within the defining body.
    pub fn sequence(&self) -> &str {
        &self.0[18..]
    }
}

text_type!(TypeCode, IdentError);

fn check_serial(serial: &str) -> Result<(), IdentError> {
    fn exact(serial: &str) -> Result<(), SerialFault> {
        let found = serial.chars().count();
        if found == 0 {
            return Err(SerialFault::Empty);
        }
        if found > MAX_SERIAL_LEN {
            return Err(SerialFault::TooLong { found });
        }
        match serial
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
        {
            Some((i, ch)) => Err(SerialFault::BadChar {
                ch,
                position: i + 1,
            }),
            None => Ok(()),
        }
    }
    exact(serial).map_err(|reason| {
        refuse_lowercase(serial, Segment::Serial, exact).unwrap_or(IdentError::BadSerial {
            value: serial.to_owned(),
            reason,
        })
    })
}

fn check_version(version: u16) -> Result<(), IdentError> {
    if (1..=999).contains(&version) {
        Ok(())
    } else {
        Err(IdentError::BadVersion {
            value: version.to_string(),
        })
    }
}

/// Parses a version segment: exactly three ASCII digits, `001..=999`.
fn parse_version(s: &str) -> Option<u16> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|v| (1..=999).contains(v))
}

/// Splits `text` into its five raw segments after the root.
fn split(text: &str) -> Result<[&str; 5], IdentError> {
    let bad_root = || IdentError::BadRoot {
        found: text.chars().take(20).collect(),
    };
    let rest = text.strip_prefix(Identifier::ROOT).ok_or_else(bad_root)?;
    let rest = match rest {
        "" => return Err(IdentError::BadStructure { segments: 0 }),
        _ => rest.strip_prefix('.').ok_or_else(bad_root)?,
    };
    let segments: Vec<&str> = rest.split('.').collect();
    <[&str; 5]>::try_from(segments.as_slice()).map_err(|_| IdentError::BadStructure {
        segments: segments.len(),
    })
}

/// A strictly conformant GB/T 36904 identifier of one license version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Identifier {
    text: String,
    type_code: TypeCode,
    issuer: Uscc,
    serial: String,
    version: u16,
    check: char,
}

impl Identifier {
    /// The OID arc under which every e-license identifier lives.
    pub const ROOT: &'static str = "1.2.156.3005.2";

    /// Builds an identifier and computes its check character. `serial`: 1..=64 characters
    /// of `0-9A-Z`; `version`: 1..=999.
    pub fn new(
        type_code: TypeCode,
        issuer: Uscc,
        serial: &str,
        version: u16,
    ) -> Result<Self, IdentError> {
        check_serial(serial)?;
        check_version(version)?;
        let body = format!("{type_code}{issuer}{serial}{version:03}");
        let check = mod37_36(&body).expect("all parts are 0-9A-Z");
        Ok(Self {
            text: format!(
                "{}.{type_code}.{issuer}.{serial}.{version:03}.{check}",
                Self::ROOT
            ),
            type_code,
            issuer,
            serial: serial.to_owned(),
            version,
            check,
        })
    }

    /// Parses a strictly conformant identifier. Checks, in order: root, five segments,
    /// type code, issuer, serial, version, check character; the first fault is returned.
    pub fn parse(s: &str) -> Result<Self, IdentError> {
        let [type_code, issuer, serial, version, check] = split(s)?;
        let type_code = TypeCode::parse(type_code)?;
        let issuer = Uscc::parse(issuer).map_err(|reason| {
            refuse_lowercase(issuer, Segment::Issuer, Uscc::parse).unwrap_or(
                IdentError::BadIssuerCode {
                    value: issuer.to_owned(),
                    reason,
                },
            )
        })?;
        check_serial(serial)?;
        let version_number = parse_version(version).ok_or_else(|| IdentError::BadVersion {
            value: version.to_owned(),
        })?;
        let id = Self::new(type_code, issuer, serial, version_number)?;
        if check.chars().eq([id.check]) {
            Ok(id)
        } else {
            Err(IdentError::BadCheck {
                found: check.to_owned(),
                expected: id.check,
            })
        }
    }

    /// Reads an identifier that may not conform, listing every deviation. `Err` only when
    /// the text is not recognisably an identifier (wrong root, not five segments).
    pub fn parse_lenient(s: &str) -> Result<Lenient, IdentError> {
        let segments = split(s)?;
        Ok(lenient::read(s, segments))
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The license type code.
    pub fn type_code(&self) -> &TypeCode {
        &self.type_code
    }

    /// The issuing authority's code.
    pub fn issuer(&self) -> &Uscc {
        &self.issuer
    }

    /// The issuer-assigned serial.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The version, 1..=999.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The MOD 37,36 check character.
    pub fn check_char(&self) -> char {
        self.check
    }

    /// The same license with another version.
    pub fn with_version(&self, version: u16) -> Result<Self, IdentError> {
        Self::new(
            self.type_code.clone(),
            self.issuer.clone(),
            &self.serial,
            version,
        )
    }

    /// The same license, version + 1 (`BadVersion` after 999).
    pub fn next_version(&self) -> Result<Self, IdentError> {
        self.with_version(self.version.saturating_add(1))
    }

    /// True when both name the same license (type, issuer, serial), whatever the version.
    pub fn same_license(&self, other: &Identifier) -> bool {
        self.type_code == other.type_code
            && self.issuer == other.issuer
            && self.serial == other.serial
    }
}

text_type!(Identifier, IdentError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const JILIN: &str = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";

    #[test]
    fn check_char_of_known_body() {
        assert_eq!(
            mod37_36("11100000000013338W03211220000013544541J2430599001"),
            Some('F')
        );
        assert_eq!(mod37_36("abc"), None);
    }

    #[test]
    fn versions() {
        let id = Identifier::parse(JILIN).unwrap();
        let v2 = id.next_version().unwrap();
        assert_eq!(v2.version(), 2);
        assert_eq!(v2.check_char(), 'D');
        assert!(v2.same_license(&id) && v2 != id);
        assert_eq!(
            id.with_version(1000).unwrap_err().code(),
            "identifier.bad_version"
        );
        assert_eq!(
            id.with_version(999)
                .unwrap()
                .next_version()
                .unwrap_err()
                .code(),
            "identifier.bad_version"
        );
        assert_eq!(
            id.with_version(0).unwrap_err().code(),
            "identifier.bad_version"
        );
    }

    #[test]
    fn parts_and_errors() {
        let id = Identifier::parse(JILIN).unwrap();
        assert_eq!(
            id.type_code().defining_body().as_str(),
            "11100000000013338W"
        );
        assert_eq!(id.type_code().sequence(), "032");
        assert_eq!(id.issuer().as_str(), "11220000013544541J");
        assert_eq!(id.serial(), "2430599");
        let lower = JILIN.replace("2430599", "2430599a");
        assert_eq!(
            Identifier::parse(&lower).unwrap_err().code(),
            "identifier.lowercase"
        );
        assert_eq!(
            Identifier::parse("1.2.156.3005.2").unwrap_err().code(),
            "identifier.bad_structure"
        );
        assert_eq!(
            Identifier::parse("1.2.156.3005.21.X").unwrap_err().code(),
            "identifier.bad_root"
        );
        let long = "A".repeat(65);
        let e = Identifier::new(id.type_code().clone(), id.issuer().clone(), &long, 1);
        assert_eq!(e.unwrap_err().code(), "identifier.bad_serial");
        assert!(TypeCode::parse("11100000000013338W03２").is_err());
    }

    #[test]
    fn serde_is_the_text() {
        let id = Identifier::parse(JILIN).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{JILIN}\""));
        assert_eq!(serde_json::from_str::<Identifier>(&json).unwrap(), id);
    }
}
