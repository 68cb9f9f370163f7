//! GB 11643-1999 citizen identity numbers (公民身份号码).
//!
//! Invariants of a [`ResidentId`]: exactly 18 ASCII characters; 17 digits followed by a
//! digit or an uppercase `X`; the first two digits are a GB/T 2260 province-level code;
//! digits 7..=14 are a real calendar date (year 1800 or later); the last character is the
//! ISO/IEC 7064 MOD 11-2 check character of the first 17. Lowercase `x` is refused: a caller
//! that wants to accept it must normalise explicitly, so that the stored value is canonical.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::area::is_province;
use crate::error::ErrorCode;
use crate::macros::text_type;

/// Earliest accepted birth year; earlier years are typing errors, not people.
const MIN_YEAR: i32 = 1800;

/// Why a text is not a [`ResidentId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResidentIdError {
    /// Not 18 characters (a 15-digit first-generation number also lands here).
    #[error("resident ID must have 18 characters, found {found}")]
    BadLength {
        /// Number of characters (not bytes) found.
        found: usize,
    },
    /// A character that is not allowed where it stands: the first 17 must be ASCII digits,
    /// the last a digit or `X`.
    #[error("resident ID has a bad character {ch:?} (U+{:04X}) at position {position}", u32::from(*ch))]
    BadChar {
        /// The offending character.
        ch: char,
        /// 1-based character position.
        position: usize,
    },
    /// The check character is a lowercase `x`; GB 11643 writes it as `X`.
    #[error("resident ID check character must be uppercase X, found lowercase x")]
    Lowercase,
    /// Digits 7..=14 are not a real date (or a year before 1800).
    #[error("resident ID birth date {digits} is not a valid date")]
    BadDate {
        /// The eight date digits as found.
        digits: String,
    },
    /// The first two digits are not a GB/T 2260 province-level code.
    #[error("resident ID region: province code {province} is not a GB/T 2260 code")]
    BadRegion {
        /// The two digits found.
        province: String,
    },
    /// The MOD 11-2 check character does not match.
    #[error("resident ID check character is {found:?}, expected {expected:?}")]
    BadCheck {
        /// Check character found.
        found: char,
        /// Check character computed from the first 17 digits.
        expected: char,
    },
}

impl ErrorCode for ResidentIdError {
    fn code(&self) -> &'static str {
        match self {
            Self::BadLength { .. } => "resident_id.bad_length",
            Self::BadChar { .. } => "resident_id.bad_char",
            Self::Lowercase => "resident_id.lowercase",
            Self::BadDate { .. } => "resident_id.bad_date",
            Self::BadRegion { .. } => "resident_id.bad_region",
            Self::BadCheck { .. } => "resident_id.bad_check",
        }
    }
}

/// A valid GB 11643-1999 citizen identity number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResidentId(String);

impl ResidentId {
    /// Parses an 18-character number; see the module invariants.
    pub fn parse(s: &str) -> Result<Self, ResidentIdError> {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(ResidentIdError::BadLength { found: chars.len() });
        }
        for (i, &ch) in chars.iter().enumerate() {
            let ok = ch.is_ascii_digit() || (i == 17 && ch == 'X');
            if i == 17 && ch == 'x' {
                return Err(ResidentIdError::Lowercase);
            }
            if !ok {
                return Err(ResidentIdError::BadChar {
                    ch,
                    position: i + 1,
                });
            }
        }
        // All ASCII from here on, so byte slicing is safe.
        if !is_province(&s[..2]) {
            return Err(ResidentIdError::BadRegion {
                province: s[..2].to_owned(),
            });
        }
        if birth_date_of(s).is_none() {
            return Err(ResidentIdError::BadDate {
                digits: s[6..14].to_owned(),
            });
        }
        let expected = Self::check_char_for(&s[..17]).unwrap_or('?');
        if chars[17] != expected {
            return Err(ResidentIdError::BadCheck {
                found: chars[17],
                expected,
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The MOD 11-2 check character for a 17-digit body; `None` unless `body17` is exactly
    /// 17 ASCII digits.
    pub fn check_char_for(body17: &str) -> Option<char> {
        if body17.len() != 17 || !body17.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Weight of position i (0-based, left to right) is 2^(17-i) mod 11.
        let mut weight = 1u32;
        let mut weights = [0u32; 17];
        for w in weights.iter_mut().rev() {
            weight = weight * 2 % 11;
            *w = weight;
        }
        let sum: u32 = body17
            .bytes()
            .zip(weights)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let value = (12 - sum % 11) % 11;
        Some(if value == 10 {
            'X'
        } else {
            char::from(b'0' + value as u8)
        })
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The date of birth (digits 7..=14).
    pub fn birth_date(&self) -> Date {
        birth_date_of(&self.0).expect("checked by parse")
    }

    /// The six-digit GB/T 2260 code of the place of first registration.
    pub fn region(&self) -> &str {
        &self.0[..6]
    }

    /// True when the sequence digit (17th) is odd, which GB 11643 assigns to men.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }
}

text_type!(ResidentId, ResidentIdError);

fn birth_date_of(s: &str) -> Option<Date> {
    let year: i32 = s.get(6..10)?.parse().ok()?;
    let month: u8 = s.get(10..12)?.parse().ok()?;
    let day: u8 = s.get(12..14)?.parse().ok()?;
    if year < MIN_YEAR {
        return None;
    }
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.region(), "110105");
        assert_eq!(id.birth_date(), time::macros::date!(1949 - 12 - 31));
        assert!(!id.is_male());
        assert_eq!(id.to_string(), "11010519491231002X");
    }

    #[test]
    fn errors_name_the_fault() {
        let e = ResidentId::parse("1101051949123100AX").unwrap_err();
        assert_eq!(
            e,
            ResidentIdError::BadChar {
                ch: 'A',
                position: 17
            }
        );
        let e = ResidentId::parse("110105194912310021").unwrap_err();
        assert_eq!(
            e,
            ResidentIdError::BadCheck {
                found: '1',
                expected: 'X'
            }
        );
        assert!(e.to_string().contains("expected 'X'"));
        let e = ResidentId::parse("110105180012310021").unwrap_err();
        assert_eq!(e.code(), "resident_id.bad_check");
        assert_eq!(
            ResidentId::parse("110105179912310021").unwrap_err().code(),
            "resident_id.bad_date"
        );
    }

    #[test]
    fn serde_goes_through_parse() {
        let id: ResidentId = serde_json::from_str("\"11010519491231002X\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"11010519491231002X\""
        );
        assert!(serde_json::from_str::<ResidentId>("\"11010519491231002x\"").is_err());
    }
}
