//! GB 32100-2015 unified social credit codes (统一社会信用代码, USCC).
//!
//! Invariants of a [`Uscc`]: exactly 18 characters from the 31-character alphabet
//! `0-9 A-H J-N P-R T U W-Y` (no I, O, S, V, Z, no lowercase); the last is the MOD 31
//! check character of the first 17 (weights 3^i mod 31, check value 31 - sum mod 31, where
//! 31 is written `0`); positions 3-8 are the registering authority's GB/T 2260 division
//! code: six digits whose first two are a province-level code, or `100000` for a
//! registering authority at national level. The rest of the inner structure (registration
//! authority and category in positions 1-2, the GB 11714 organisation code in 9-17) is not
//! checked: real codes of older bodies do not all follow it.

use serde::{Deserialize, Serialize};

use crate::area::is_province;
use crate::error::ErrorCode;
use crate::macros::text_type;

/// The GB 32100 alphabet; a character's value is its index.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Letters that GB 32100 leaves out of its alphabet.
pub const FORBIDDEN_LETTERS: [char; 5] = ['I', 'O', 'S', 'V', 'Z'];

/// The division code of registering authorities at national level (positions 3-8).
pub const NATIONAL_AREA: &str = "100000";

/// 1-based positions of the registering authority's division code.
pub const AREA_POSITIONS: std::ops::RangeInclusive<usize> = 3..=8;

/// What is wrong with positions 3-8, the registering authority's division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AreaFault {
    /// A character that is not an ASCII digit (letters are in the alphabet, not here).
    #[error("{ch:?} at position {position} is not a digit")]
    NotDigit {
        /// The offending character.
        ch: char,
        /// 1-based position in the whole code.
        position: usize,
    },
    /// The first two digits are not a GB/T 2260 province-level code (nor `100000`).
    #[error("{province} is not a GB/T 2260 province-level code")]
    UnknownProvince {
        /// Positions 3-4.
        province: String,
    },
}

/// Why a text is not a [`Uscc`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsccError {
    /// Not 18 characters.
    #[error("unified social credit code must have 18 characters, found {found}")]
    BadLength {
        /// Number of characters (not bytes) found.
        found: usize,
    },
    /// A character outside the alphabet. `forbidden` is set for the letters I, O, S, V, Z,
    /// which the standard excludes so that they are not confused with 1, 0, 5, U, 2.
    #[error("{}", bad_char_message(*ch, *position, *forbidden))]
    BadChar {
        /// The offending character.
        ch: char,
        /// 1-based character position.
        position: usize,
        /// True for one of the excluded letters I, O, S, V, Z.
        forbidden: bool,
    },
    /// A lowercase letter whose uppercase form is in the alphabet.
    #[error("unified social credit code must be uppercase: {ch:?} at position {position}")]
    Lowercase {
        /// The lowercase letter.
        ch: char,
        /// 1-based character position.
        position: usize,
    },
    /// Positions 3-8 are not the registering authority's GB/T 2260 division code.
    #[error(
        "unified social credit code positions 3-8 ({area}) must be the registering \
         authority's division code (GB/T 2260): {fault}"
    )]
    BadArea {
        /// Positions 3-8 as found.
        area: String,
        /// What is wrong with them.
        fault: AreaFault,
    },
    /// The MOD 31 check character does not match.
    #[error("unified social credit code check character is {found:?}, expected {expected:?}")]
    BadCheck {
        /// Check character found.
        found: char,
        /// Check character computed from the first 17.
        expected: char,
    },
}

fn bad_char_message(ch: char, position: usize, forbidden: bool) -> String {
    if forbidden {
        format!(
            "unified social credit code has the forbidden letter {ch:?} at position {position} \
             (GB 32100 excludes I, O, S, V, Z)"
        )
    } else {
        format!(
            "unified social credit code has a bad character {ch:?} (U+{:04X}) at position {position}",
            u32::from(ch)
        )
    }
}

impl ErrorCode for UsccError {
    fn code(&self) -> &'static str {
        match self {
            Self::BadLength { .. } => "uscc.bad_length",
            Self::BadChar { .. } => "uscc.bad_char",
            Self::Lowercase { .. } => "uscc.lowercase",
            Self::BadArea { .. } => "uscc.bad_area",
            Self::BadCheck { .. } => "uscc.bad_check",
        }
    }
}

/// A valid GB 32100 unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

fn value_of(ch: char) -> Option<u32> {
    ALPHABET.find(ch).map(|i| i as u32)
}

impl Uscc {
    /// Parses an 18-character code; see the module invariants.
    pub fn parse(s: &str) -> Result<Self, UsccError> {
        let found = s.chars().count();
        if found != 18 {
            return Err(UsccError::BadLength { found });
        }
        for (i, ch) in s.chars().enumerate() {
            if value_of(ch).is_some() {
                continue;
            }
            let position = i + 1;
            let upper = ch.to_ascii_uppercase();
            if ch.is_ascii_lowercase() && value_of(upper).is_some() {
                return Err(UsccError::Lowercase { ch, position });
            }
            return Err(UsccError::BadChar {
                ch,
                position,
                forbidden: FORBIDDEN_LETTERS.contains(&upper),
            });
        }
        // Every character is in the (ASCII) alphabet from here on: byte slicing is safe.
        check_area(&s[2..8])?;
        let expected = Self::check_char_for(&s[..17]).unwrap_or('?');
        let found = s[17..].chars().next().unwrap_or('?');
        if found != expected {
            return Err(UsccError::BadCheck { found, expected });
        }
        Ok(Self(s.to_owned()))
    }

    /// The check character for a 17-character body; `None` unless `body17` is exactly 17
    /// characters of the alphabet.
    pub fn check_char_for(body17: &str) -> Option<char> {
        if body17.chars().count() != 17 {
            return None;
        }
        let mut weight = 1u32;
        let mut sum = 0u32;
        for ch in body17.chars() {
            sum += value_of(ch)? * weight;
            weight = weight * 3 % 31;
        }
        let value = (31 - sum % 31) % 31;
        ALPHABET.chars().nth(value as usize)
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks positions 3-8 (`area`, six characters of the alphabet); see the module header.
fn check_area(area: &str) -> Result<(), UsccError> {
    let bad = |fault| UsccError::BadArea {
        area: area.to_owned(),
        fault,
    };
    if let Some((i, ch)) = area.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(bad(AreaFault::NotDigit {
            ch,
            position: AREA_POSITIONS.start() + i,
        }));
    }
    if area != NATIONAL_AREA && !is_province(&area[..2]) {
        return Err(bad(AreaFault::UnknownProvince {
            province: area[..2].to_owned(),
        }));
    }
    Ok(())
}

text_type!(Uscc, UsccError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rule() {
        assert_eq!(Uscc::check_char_for("91370000163047727"), Some('0'));
        assert_eq!(Uscc::check_char_for("9137000016304772"), None);
        assert_eq!(Uscc::check_char_for("9137000016304772I"), None);
    }

    #[test]
    fn errors_name_the_fault() {
        let e = Uscc::parse("9111010800000000I5").unwrap_err();
        assert_eq!(
            e,
            UsccError::BadChar {
                ch: 'I',
                position: 17,
                forbidden: true
            }
        );
        assert!(e.to_string().contains("forbidden letter 'I'"));
        let e = Uscc::parse("11220000013544541j").unwrap_err();
        assert_eq!(e.code(), "uscc.lowercase");
        let e = Uscc::parse("11220000013544541K").unwrap_err();
        assert_eq!(
            e,
            UsccError::BadCheck {
                found: 'K',
                expected: 'J'
            }
        );
    }

    /// A code with its check character computed, so that only the area can be at fault.
    fn with_check(body17: &str) -> String {
        format!("{body17}{}", Uscc::check_char_for(body17).unwrap())
    }

    #[test]
    fn area_segment_is_a_division_code() {
        // Letters where the registering authority's division code belongs.
        let e = Uscc::parse(&with_check("9111A10800000000M")).unwrap_err();
        assert_eq!(e.code(), "uscc.bad_area");
        assert_eq!(
            e,
            UsccError::BadArea {
                area: "11A108".into(),
                fault: AreaFault::NotDigit {
                    ch: 'A',
                    position: 5
                }
            }
        );
        assert!(e.to_string().contains("positions 3-8"), "{e}");
        let e = Uscc::parse(&with_check("91MA0101000000001")).unwrap_err();
        assert_eq!(e.code(), "uscc.bad_area");
        // Digits, but no province 99; national level is 100000 exactly.
        let e = Uscc::parse(&with_check("91990101000000001")).unwrap_err();
        assert!(matches!(
            e,
            UsccError::BadArea {
                fault: AreaFault::UnknownProvince { .. },
                ..
            }
        ));
        assert!(Uscc::parse(&with_check("11100000000000001")).is_ok());
        assert_eq!(
            Uscc::parse(&with_check("11101000000000001"))
                .unwrap_err()
                .code(),
            "uscc.bad_area"
        );
        // Case and charset faults are reported first, the check character last.
        assert_eq!(
            Uscc::parse("91a1010800000000I5").unwrap_err().code(),
            "uscc.lowercase"
        );
        assert_eq!(
            Uscc::parse("9111A10800000000M0").unwrap_err().code(),
            "uscc.bad_area"
        );
    }
}
