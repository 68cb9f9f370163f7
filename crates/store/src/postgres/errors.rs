//! How PostgreSQL and pool errors become [`StoreError`]s, with the codes the SQLite back-end
//! gives for the same case (the conformance suite checks them).
//!
//! | PostgreSQL | StoreError |
//! | --- | --- |
//! | 23505 unique violation | `Duplicate` |
//! | 23503 foreign-key violation, other class-23 integrity errors | `Duplicate`, as SQLite maps every constraint violation |
//! | a stored value that does not decode (wrong type, out of range for the record) | `Corrupt` |
//! | connection refused or lost, pool timeout, server shutting down, 08/53/57P class, deadlock or serialization failure, anything else | `Unavailable` |

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::error::StoreError;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            let text = e.to_string();
            // tokio-postgres reports a column it could not decode this way.
            if text.starts_with("error deserializing column") {
                return StoreError::Corrupt(full_text(&e));
            }
            return StoreError::Unavailable(full_text(&e));
        };
        let what = match (db.table(), db.constraint()) {
            (Some(t), Some(c)) => format!("{} ({t}.{c})", db.message()),
            _ => db.message().to_owned(),
        };
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION
            || *code == SqlState::FOREIGN_KEY_VIOLATION
            || code.code().starts_with("23")
        {
            StoreError::Duplicate(what)
        } else {
            StoreError::Unavailable(format!("{} [{}]", what, code.code()))
        }
    }
}

impl From<PoolError> for StoreError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Backend(e) => match StoreError::from(e) {
                StoreError::Unavailable(m) => {
                    StoreError::Unavailable(format!("cannot connect to PostgreSQL: {m}"))
                }
                other => other,
            },
            PoolError::Timeout(t) => StoreError::Unavailable(format!(
                "PostgreSQL pool timed out ({t:?}): the server is unreachable or overloaded"
            )),
            other => StoreError::Unavailable(format!("PostgreSQL pool: {other}")),
        }
    }
}

/// The error with its causes (`connection refused` sits in the source chain).
fn full_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
