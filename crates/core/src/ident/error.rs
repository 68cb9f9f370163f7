//! Errors of identifier parsing and construction.
//!
//! Invariant: each fault names the segment it is about and carries the text found, so a
//! message can say exactly what to fix; codes are stable (`identifier.*`).

use crate::error::ErrorCode;
use crate::gb32100::UsccError;

/// One of the five segments after the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Segment {
    /// The 21-character license type code.
    TypeCode,
    /// The issuing authority's code.
    Issuer,
    /// The issuer-assigned serial.
    Serial,
    /// The three-digit version.
    Version,
    /// The check character.
    Check,
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TypeCode => "type code",
            Self::Issuer => "issuer code",
            Self::Serial => "serial",
            Self::Version => "version",
            Self::Check => "check character",
        })
    }
}

/// What is wrong with a type code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeCodeFault {
    /// Not 21 characters.
    #[error("a type code has 21 characters, found {found}")]
    BadLength {
        /// Number of characters found.
        found: usize,
    },
    /// The first 18 characters are not a valid USCC of the defining body.
    #[error("its first 18 characters are not the defining body's USCC: {0}")]
    DefiningBody(UsccError),
    /// The last three characters are not `[0-9A-Z]{3}`.
    #[error("its sequence {sequence:?} is not 3 characters of 0-9A-Z")]
    BadSequence {
        /// The last three characters.
        sequence: String,
    },
}

/// What is wrong with a serial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SerialFault {
    /// The serial is empty.
    #[error("it is empty")]
    Empty,
    /// More than [`super::MAX_SERIAL_LEN`] characters.
    #[error("it has {found} characters, at most 64 are allowed")]
    TooLong {
        /// Number of characters found.
        found: usize,
    },
    /// A character outside `0-9A-Z`.
    #[error("{ch:?} at position {position} is not one of 0-9A-Z")]
    BadChar {
        /// The offending character.
        ch: char,
        /// 1-based character position within the serial.
        position: usize,
    },
}

/// Why a text or a set of parts is not a strictly conformant identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentError {
    /// The text does not start with the root `1.2.156.3005.2`.
    #[error("identifier must start with 1.2.156.3005.2, found {found:?}")]
    BadRoot {
        /// The beginning of the text (up to 20 characters).
        found: String,
    },
    /// After the root there are not exactly five dot-separated segments.
    #[error("identifier must have 5 segments after the root (type code, issuer, serial, version, check), found {segments}")]
    BadStructure {
        /// Number of segments found after the root.
        segments: usize,
    },
    /// The type code segment is not a valid [`super::TypeCode`].
    #[error("bad type code {value:?}: {reason}")]
    BadTypeCode {
        /// The segment as found.
        value: String,
        /// What is wrong with it.
        reason: TypeCodeFault,
    },
    /// The issuer segment is not a valid [`crate::Uscc`].
    #[error("bad issuer code {value:?}: {reason}")]
    BadIssuerCode {
        /// The segment as found.
        value: String,
        /// What is wrong with it.
        reason: UsccError,
    },
    /// The serial is empty, too long or has a character outside `0-9A-Z`.
    #[error("bad serial {value:?}: {reason}")]
    BadSerial {
        /// The serial as found.
        value: String,
        /// What is wrong with it.
        reason: SerialFault,
    },
    /// The version is not three digits in `001..=999`.
    #[error("bad version {value:?}: must be 3 digits from 001 to 999")]
    BadVersion {
        /// The version as found (or the number asked for).
        value: String,
    },
    /// The check segment is not the single MOD 37,36 check character of the body.
    #[error("bad check character {found:?}, expected {expected:?}")]
    BadCheck {
        /// The check segment as found.
        found: String,
        /// The check character computed over the body.
        expected: char,
    },
    /// A segment would be valid in uppercase; identifiers are uppercase only.
    #[error("{segment} {value:?} must be uppercase")]
    Lowercase {
        /// Which segment.
        segment: Segment,
        /// The segment as found.
        value: String,
    },
}

impl ErrorCode for IdentError {
    fn code(&self) -> &'static str {
        match self {
            Self::BadRoot { .. } => "identifier.bad_root",
            Self::BadStructure { .. } => "identifier.bad_structure",
            Self::BadTypeCode { .. } => "identifier.bad_type_code",
            Self::BadIssuerCode { .. } => "identifier.bad_issuer_code",
            Self::BadSerial { .. } => "identifier.bad_serial",
            Self::BadVersion { .. } => "identifier.bad_version",
            Self::BadCheck { .. } => "identifier.bad_check",
            Self::Lowercase { .. } => "identifier.lowercase",
        }
    }
}
