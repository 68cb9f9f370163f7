//! Errors of catalogue loading and of data validation against a license type.
//!
//! Invariant: every field error names the field (claim name) and its Chinese label, so a
//! message can be shown to an issuing clerk as is.

use crate::error::ErrorCode;

/// Why a catalogue could not be loaded, or data does not fit a license type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// The catalogue text has a key that the format does not define.
    #[error("unknown key `{key}` in the catalogue: {detail}")]
    UnknownField {
        /// The unknown key.
        key: String,
        /// The parser's message, with the location.
        detail: String,
    },
    /// The catalogue text cannot be read, or its content breaks a rule (duplicate item
    /// names, examples that do not validate, undeclared issuers, bad regexes, ...).
    #[error("invalid catalogue: {message}")]
    Invalid {
        /// What is wrong, and where.
        message: String,
    },
    /// Data has a field that the license type does not define.
    #[error("field `{field}` is not defined by the license type")]
    FieldUnknown {
        /// The unknown field name.
        field: String,
    },
    /// A required field is missing or empty.
    #[error("field {label}({field}) is required")]
    FieldRequired {
        /// Claim name.
        field: String,
        /// Chinese label.
        label: String,
    },
    /// A field is longer than its `max_length` (counted in characters).
    #[error("field {label}({field}) has {found} characters, at most {max} are allowed")]
    FieldTooLong {
        /// Claim name.
        field: String,
        /// Chinese label.
        label: String,
        /// The limit.
        max: u32,
        /// Characters found.
        found: usize,
    },
    /// A field does not match its pattern.
    #[error("field {label}({field}) does not match the pattern {pattern}")]
    FieldPattern {
        /// Claim name.
        field: String,
        /// Chinese label.
        label: String,
        /// The pattern (anchored at both ends).
        pattern: String,
    },
    /// A field is not a value of its type (date, integer, resident ID, USCC, area code,
    /// one of the enumerated values).
    #[error("field {label}({field}) must be {expected}: {reason}")]
    FieldType {
        /// Claim name.
        field: String,
        /// Chinese label.
        label: String,
        /// What the type expects.
        expected: String,
        /// Why the value is not one.
        reason: String,
    },
    /// The issuer is not allowed to issue this license type.
    #[error("issuer {issuer} may not issue license type {type_code}")]
    IssuerNotAllowed {
        /// The issuer's USCC.
        issuer: String,
        /// The license type code.
        type_code: String,
    },
    /// The requested validity does not fit the type's validity rule.
    #[error("validity: {message}")]
    Validity {
        /// What is wrong.
        message: String,
    },
}

impl ErrorCode for CatalogueError {
    fn code(&self) -> &'static str {
        match self {
            Self::UnknownField { .. } => "catalogue.unknown_field",
            Self::Invalid { .. } => "catalogue.invalid",
            Self::FieldUnknown { .. } => "catalogue.field_unknown",
            Self::FieldRequired { .. } => "catalogue.field_required",
            Self::FieldTooLong { .. } => "catalogue.field_too_long",
            Self::FieldPattern { .. } => "catalogue.field_pattern",
            Self::FieldType { .. } => "catalogue.field_type",
            Self::IssuerNotAllowed { .. } => "catalogue.issuer_not_allowed",
            Self::Validity { .. } => "catalogue.validity",
        }
    }
}

impl CatalogueError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
        }
    }

    /// Maps a deserialiser message; serde words unknown keys as "unknown field `key`".
    pub(crate) fn from_parser(message: &str, detail: String) -> Self {
        const MARK: &str = "unknown field `";
        if let Some(start) = message.find(MARK) {
            let rest = &message[start + MARK.len()..];
            if let Some(end) = rest.find('`') {
                return Self::UnknownField {
                    key: rest[..end].to_owned(),
                    detail,
                };
            }
        }
        Self::invalid(detail)
    }
}
