//! Store errors, each with a stable machine code.

/// Why a storage operation could not be carried out.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// A row with the same key exists already (e.g. an identifier issued twice).
    #[error("already exists: {0}")]
    Duplicate(String),
    /// A new wallet account asked for a username another account has (a kind of
    /// `Duplicate` a user can act on: choose another name).
    #[error("username taken: {0}")]
    UsernameTaken(String),
    /// The row the operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The row changed since it was read (optimistic check failed); nothing was written.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or refused the operation; nothing was acknowledged.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be decoded: the database was changed outside elicense.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The caller asked for a write that breaks a store invariant (e.g. a use written through
    /// the lifecycle path, an unknown event kind); nothing was written. A bug of the caller.
    #[error("invalid write: {0}")]
    Invalid(String),
}

impl StoreError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Duplicate(_) => "store.duplicate",
            StoreError::UsernameTaken(_) => "account.username_taken",
            StoreError::NotFound(_) => "store.not_found",
            StoreError::Conflict(_) => "store.conflict",
            StoreError::Unavailable(_) => "store.unavailable",
            StoreError::Corrupt(_) => "store.corrupt",
            StoreError::Invalid(_) => "store.invalid",
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, msg)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Duplicate(msg.clone().unwrap_or_else(|| e.to_string()))
            }
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Unavailable(e.to_string()),
        }
    }
}

/// Why a presentation could not be completed (`opening == false`) or opened: `completed` is
/// its stored `completed_at` (`None`: no such presentation). Both back-ends answer with this
/// after their conditional update changed no row.
pub(crate) fn presentation_refusal(
    id: &str,
    completed: Option<Option<i64>>,
    opening: bool,
) -> StoreError {
    match completed {
        None => StoreError::NotFound(format!("presentation {id}")),
        Some(None) if opening => {
            StoreError::NotFound(format!("presentation {id} was never completed"))
        }
        Some(_) => StoreError::Conflict(format!(
            "presentation {id} was {} already",
            if opening { "opened" } else { "completed" }
        )),
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
