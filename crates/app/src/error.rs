//! Application errors: a kind (which the HTTP layer maps to a status) plus the stable
//! machine code and message of the underlying cause.

use std::fmt;

use elicense_core::error::ErrorCode;

/// What sort of failure it is, for callers that map errors (HTTP status, CLI exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request or input is wrong; nothing was changed.
    Invalid,
    /// The thing asked for does not exist.
    NotFound,
    /// No credentials, or credentials not recognised.
    Unauthorized,
    /// Credentials recognised but not allowed to do this.
    Forbidden,
    /// The current state does not allow this (illegal transition, changed meanwhile).
    Conflict,
    /// Too many attempts (sign-in throttling): refused without looking at them; the caller
    /// may try again after `retry_after_secs`.
    Throttled { retry_after_secs: u64 },
    /// A dependency (database) is unavailable, or the node is too busy; retry later.
    Unavailable,
    /// A bug or corrupted data.
    Internal,
}

/// An error a use case returns.
#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            kind,
            code,
            message: message.into(),
        }
    }

    /// Bad input, from any domain error that carries a code.
    pub fn invalid<E: ErrorCode + fmt::Display>(e: E) -> Self {
        AppError::new(ErrorKind::Invalid, e.code(), e.to_string())
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        AppError::new(ErrorKind::NotFound, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        AppError::new(ErrorKind::Forbidden, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AppError::new(ErrorKind::Internal, "internal", message)
    }

    /// From a crypto-layer error.
    pub fn crypto(e: elicense_crypto::CryptoError) -> Self {
        AppError::new(ErrorKind::Internal, e.code(), e.to_string())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

impl From<elicense_store::StoreError> for AppError {
    fn from(e: elicense_store::StoreError) -> Self {
        use elicense_store::StoreError as S;
        let kind = match &e {
            S::Duplicate(_) | S::Conflict(_) | S::UsernameTaken(_) => ErrorKind::Conflict,
            S::NotFound(_) => ErrorKind::NotFound,
            S::Unavailable(_) => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        };
        AppError::new(kind, e.code(), e.to_string())
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
