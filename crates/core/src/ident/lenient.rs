//! Lenient reading of identifiers produced by other systems.
//!
//! Invariants: a [`Lenient`] holds `identifier: Some(_)` exactly when `deviations` is empty,
//! and then the identifier's text equals the input. Nothing is corrected silently: every
//! departure from GB/T 36904 found in the text is one [`Deviation`] with a stable code.
//! Deviations seen in the field include a 6-digit area code or a 9-character organisation
//! code where the issuer's USCC belongs, 15-character type codes, lowercase UUIDs with
//! hyphens as serials, one-digit versions, check characters from a vendor routine that
//! does not implement MOD 37,36 correctly, and issuer codes that are USCCs but for letters
//! where the registering authority's division code belongs (positions 3-8).

use std::fmt;

use super::{mod37_36, parse_version, Identifier, Segment, TypeCode, TypeCodeFault};
use super::{IdentError, MAX_SERIAL_LEN};
use crate::area::AreaCode;
use crate::error::ErrorCode;
use crate::gb32100::{AreaFault, Uscc, UsccError};

/// The five raw segments after the root, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segments {
    /// Type code segment.
    pub type_code: String,
    /// Issuer code segment.
    pub issuer: String,
    /// Serial segment.
    pub serial: String,
    /// Version segment.
    pub version: String,
    /// Check segment.
    pub check: String,
}

/// The result of [`Identifier::parse_lenient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lenient {
    /// The text as given.
    pub text: String,
    /// The identifier, when the text is strictly conformant.
    pub identifier: Option<Identifier>,
    /// Every departure from the standard, in segment order.
    pub deviations: Vec<Deviation>,
    /// The raw segments, for callers that index foreign identifiers by their parts.
    pub segments: Segments,
}

impl Lenient {
    /// True when the text is strictly conformant.
    pub fn is_conformant(&self) -> bool {
        self.deviations.is_empty()
    }
}

/// What a non-USCC issuer segment looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssuerLooksLike {
    /// Six digits starting with a province code: a GB/T 2260 division code.
    AreaCode,
    /// Nine characters: the length of a GB 11714 organisation code.
    OrganisationCode,
    /// Neither.
    Unknown,
}

/// One departure from GB/T 36904 found by lenient reading.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deviation {
    /// The type code is not a USCC plus a three-character sequence.
    BadTypeCode {
        /// The segment as found.
        value: String,
        /// What is wrong with it.
        reason: TypeCodeFault,
    },
    /// The issuer segment is not a USCC.
    IssuerNotUscc {
        /// The segment as found.
        value: String,
        /// What it seems to be instead.
        looks_like: IssuerLooksLike,
        /// Why it is not a USCC.
        reason: UsccError,
    },
    /// The issuer segment is a USCC in every respect (length, alphabet, and, when
    /// `check_ok`, its MOD 31 check character) except positions 3-8, which are not the
    /// registering authority's GB/T 2260 division code.
    IssuerBadArea {
        /// The segment as found.
        value: String,
        /// What is wrong with positions 3-8.
        fault: AreaFault,
        /// True when the MOD 31 check character is right.
        check_ok: bool,
    },
    /// A segment would conform if it were uppercase.
    Lowercase {
        /// Which segment.
        segment: Segment,
        /// The segment as found.
        value: String,
    },
    /// The serial is empty.
    EmptySerial,
    /// The serial is longer than 64 characters.
    SerialTooLong {
        /// Number of characters.
        found: usize,
    },
    /// The serial has characters outside `0-9A-Z` (lowercase letters, hyphens, ...).
    SerialChars {
        /// The serial as found.
        value: String,
        /// The distinct offending characters in order of appearance (lowercase letters
        /// are reported once, as `'a'`).
        chars: Vec<char>,
    },
    /// The version is not three digits `001..=999`.
    BadVersion {
        /// The segment as found.
        value: String,
    },
    /// The check segment is not the MOD 37,36 check character. When the body has
    /// characters outside `0-9A-Z`, `expected` is computed over the normalised body
    /// (uppercased, other characters dropped) and `normalised` is set.
    BadCheck {
        /// The check segment as found.
        found: String,
        /// The check character it should be.
        expected: char,
        /// True when `expected` was computed over the normalised body.
        normalised: bool,
    },
    /// The body has characters outside `0-9A-Z`, for which MOD 37,36 is undefined; the
    /// check character matches the body once uppercased with other characters dropped,
    /// a common non-standard practice.
    CheckNonStandard {
        /// The check character found.
        found: char,
    },
}

impl ErrorCode for Deviation {
    fn code(&self) -> &'static str {
        match self {
            Self::BadTypeCode { .. } => "identifier.bad_type_code",
            Self::IssuerNotUscc { .. } => "identifier.issuer_not_uscc",
            Self::IssuerBadArea { .. } => "identifier.issuer_bad_area",
            Self::Lowercase { .. } => "identifier.lowercase",
            Self::EmptySerial => "identifier.bad_serial",
            Self::SerialTooLong { .. } => "identifier.serial_too_long",
            Self::SerialChars { .. } => "identifier.serial_chars",
            Self::BadVersion { .. } => "identifier.bad_version",
            Self::BadCheck { .. } => "identifier.bad_check",
            Self::CheckNonStandard { .. } => "identifier.check_nonstandard",
        }
    }
}

impl Deviation {
    /// The stable code (same as [`ErrorCode::code`]).
    pub fn code(&self) -> &'static str {
        ErrorCode::code(self)
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadTypeCode { value, reason } => write!(f, "type code {value:?}: {reason}"),
            Self::IssuerNotUscc {
                value,
                looks_like,
                reason,
            } => {
                write!(f, "issuer code {value:?} is not a USCC")?;
                match looks_like {
                    IssuerLooksLike::AreaCode => write!(f, " (it looks like an area code)"),
                    IssuerLooksLike::OrganisationCode => {
                        write!(f, " (it has the length of an organisation code)")
                    }
                    IssuerLooksLike::Unknown => write!(f, ": {reason}"),
                }
            }
            Self::IssuerBadArea {
                value,
                fault,
                check_ok,
            } => {
                write!(
                    f,
                    "issuer code {value:?}: positions 3-8 are not the registering authority's \
                     division code (GB/T 2260): {fault}"
                )?;
                if !check_ok {
                    write!(f, "; its check character is wrong too")?;
                }
                Ok(())
            }
            Self::Lowercase { segment, value } => write!(f, "{segment} {value:?} is lowercase"),
            Self::EmptySerial => write!(f, "serial is empty"),
            Self::SerialTooLong { found } => {
                write!(f, "serial has {found} characters, at most {MAX_SERIAL_LEN}")
            }
            Self::SerialChars { value, chars } => {
                write!(f, "serial {value:?} has characters outside 0-9A-Z: ")?;
                let list: Vec<String> = chars
                    .iter()
                    .map(|c| match c {
                        'a' => "lowercase letters".to_owned(),
                        c => format!("{c:?}"),
                    })
                    .collect();
                f.write_str(&list.join(", "))
            }
            Self::BadVersion { value } => {
                write!(f, "version {value:?} is not 3 digits from 001 to 999")
            }
            Self::BadCheck {
                found,
                expected,
                normalised: false,
            } => write!(f, "check character is {found:?}, expected {expected:?}"),
            Self::BadCheck {
                found, expected, ..
            } => write!(
                f,
                "check character is {found:?}; MOD 37,36 is undefined for this body, and even \
                 over the uppercased body without other characters it would be {expected:?}"
            ),
            Self::CheckNonStandard { found } => write!(
                f,
                "check character {found:?} matches only the uppercased body with other \
                 characters dropped (MOD 37,36 is undefined for the body as written)"
            ),
        }
    }
}

fn type_code_deviation(raw: &str) -> Option<Deviation> {
    match TypeCode::parse(raw) {
        Ok(_) => None,
        Err(IdentError::BadTypeCode { value, reason }) => {
            Some(Deviation::BadTypeCode { value, reason })
        }
        Err(IdentError::Lowercase { segment, value }) => {
            Some(Deviation::Lowercase { segment, value })
        }
        Err(other) => unreachable!("TypeCode::parse returned {other:?}"),
    }
}

fn issuer_deviation(raw: &str) -> Option<Deviation> {
    let reason = Uscc::parse(raw).err()?;
    if raw.chars().any(|c| c.is_ascii_lowercase()) && Uscc::parse(&raw.to_ascii_uppercase()).is_ok()
    {
        return Some(Deviation::Lowercase {
            segment: Segment::Issuer,
            value: raw.to_owned(),
        });
    }
    if let UsccError::BadArea { fault, .. } = reason {
        let check_ok = Uscc::check_char_for(&raw[..17]).is_some_and(|c| raw.ends_with(c));
        return Some(Deviation::IssuerBadArea {
            value: raw.to_owned(),
            fault,
            check_ok,
        });
    }
    let looks_like = if AreaCode::parse(raw).is_ok() {
        IssuerLooksLike::AreaCode
    } else if raw.chars().count() == 9 {
        IssuerLooksLike::OrganisationCode
    } else {
        IssuerLooksLike::Unknown
    };
    Some(Deviation::IssuerNotUscc {
        value: raw.to_owned(),
        looks_like,
        reason,
    })
}

fn serial_deviations(raw: &str, out: &mut Vec<Deviation>) {
    let found = raw.chars().count();
    if found == 0 {
        out.push(Deviation::EmptySerial);
    }
    if found > MAX_SERIAL_LEN {
        out.push(Deviation::SerialTooLong { found });
    }
    let mut chars = Vec::new();
    for c in raw.chars() {
        let c = if c.is_ascii_lowercase() { 'a' } else { c };
        let conforms = c.is_ascii_digit() || c.is_ascii_uppercase();
        if !conforms && !chars.contains(&c) {
            chars.push(c);
        }
    }
    match chars.as_slice() {
        [] => {}
        ['a'] => out.push(Deviation::Lowercase {
            segment: Segment::Serial,
            value: raw.to_owned(),
        }),
        _ => out.push(Deviation::SerialChars {
            value: raw.to_owned(),
            chars,
        }),
    }
}

fn check_deviation(body: &str, check: &str) -> Option<Deviation> {
    if let Some(expected) = mod37_36(body) {
        return (!check.chars().eq([expected])).then(|| Deviation::BadCheck {
            found: check.to_owned(),
            expected,
            normalised: false,
        });
    }
    let normalised: String = body
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        .collect();
    let expected = mod37_36(&normalised).expect("normalised body is 0-9A-Z");
    let mut found = check.chars();
    match (found.next(), found.next()) {
        (Some(c), None) if c == expected => Some(Deviation::CheckNonStandard { found: c }),
        _ => Some(Deviation::BadCheck {
            found: check.to_owned(),
            expected,
            normalised: true,
        }),
    }
}

/// Reads the five segments of `text`; see the module invariants.
pub(super) fn read(text: &str, [type_code, issuer, serial, version, check]: [&str; 5]) -> Lenient {
    let mut deviations = Vec::new();
    deviations.extend(type_code_deviation(type_code));
    deviations.extend(issuer_deviation(issuer));
    serial_deviations(serial, &mut deviations);
    if parse_version(version).is_none() {
        deviations.push(Deviation::BadVersion {
            value: version.to_owned(),
        });
    }
    let body = format!("{type_code}{issuer}{serial}{version}");
    deviations.extend(check_deviation(&body, check));
    let identifier = if deviations.is_empty() {
        Identifier::parse(text).ok()
    } else {
        None
    };
    debug_assert_eq!(identifier.is_some(), deviations.is_empty());
    Lenient {
        text: text.to_owned(),
        identifier,
        deviations,
        segments: Segments {
            type_code: type_code.to_owned(),
            issuer: issuer.to_owned(),
            serial: serial.to_owned(),
            version: version.to_owned(),
            check: check.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jiangxi_sample_lists_every_deviation() {
        let text =
            "1.2.156.3005.2.360000102HB0808.360000102.2b0cf89c-a66b-4ebb-a18c-4008891e8ee5.1.W";
        let l = Identifier::parse_lenient(text).unwrap();
        let codes: Vec<&str> = l.deviations.iter().map(Deviation::code).collect();
        assert_eq!(
            codes,
            [
                "identifier.bad_type_code",
                "identifier.issuer_not_uscc",
                "identifier.serial_chars",
                "identifier.bad_version",
                "identifier.check_nonstandard"
            ]
        );
        assert!(l.identifier.is_none());
        assert!(l.deviations[2]
            .to_string()
            .contains("lowercase letters, '-'"));
        assert!(l.deviations[1].to_string().contains("organisation code"));
    }

    #[test]
    fn issuer_with_letters_in_its_area_is_reported() {
        // 11A100... : a USCC with a correct check character but a letter at position 5.
        let issuer = format!(
            "11A10000000000011{}",
            Uscc::check_char_for("11A10000000000011").unwrap()
        );
        let body = format!("11100000000013338W032{issuer}7001");
        let text = format!(
            "1.2.156.3005.2.11100000000013338W032.{issuer}.7.001.{}",
            super::mod37_36(&body).unwrap()
        );
        let l = Identifier::parse_lenient(&text).unwrap();
        let codes: Vec<&str> = l.deviations.iter().map(Deviation::code).collect();
        assert_eq!(codes, ["identifier.issuer_bad_area"]);
        assert!(l.identifier.is_none());
        let message = l.deviations[0].to_string();
        assert!(message.contains("positions 3-8"), "{message}");
        assert!(!message.contains("check character"), "{message}");
        assert!(matches!(
            &l.deviations[0],
            Deviation::IssuerBadArea {
                fault: AreaFault::NotDigit {
                    ch: 'A',
                    position: 3
                },
                check_ok: true,
                ..
            }
        ));
        // The strict parser refuses it, naming the issuer segment.
        assert_eq!(
            Identifier::parse(&text).unwrap_err().code(),
            "identifier.bad_issuer_code"
        );
    }

    #[test]
    fn lowercase_serial_alone_is_a_case_deviation() {
        let text = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.zz000008.001.Z";
        let l = Identifier::parse_lenient(text).unwrap();
        let codes: Vec<&str> = l.deviations.iter().map(Deviation::code).collect();
        assert_eq!(
            codes,
            ["identifier.lowercase", "identifier.check_nonstandard"]
        );
    }
}
