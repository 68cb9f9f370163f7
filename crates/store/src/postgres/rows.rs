//! Rows to records and records to parameters. Integers are stored as `bigint` (`smallint` for
//! the status value); a stored value outside the record's range is `Corrupt`.

use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use crate::error::{Result, StoreError};
use crate::records::*;

/// Column `i` of `row`; a value that does not decode is `Corrupt`.
pub fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T> {
    row.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

/// A `bigint` column that holds a `u32` field.
pub fn get_u32(row: &Row, i: usize) -> Result<u32> {
    let v: i64 = get(row, i)?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {i}: {v} is not a u32")))
}

/// A `bigint` column that holds a `u64` field.
pub fn get_u64(row: &Row, i: usize) -> Result<u64> {
    let v: i64 = get(row, i)?;
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {i}: {v} is not a u64")))
}

/// A `u64` as a `bigint` parameter.
pub fn param_u64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v)
        .map_err(|_| StoreError::Unavailable(format!("{what} {v} does not fit a bigint")))
}

pub fn all<T>(rows: &[Row], f: fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}

pub fn license(r: &Row) -> Result<LicenseRecord> {
    let status_value: i16 = get(r, 8)?;
    Ok(LicenseRecord {
        identifier: get(r, 0)?,
        lineage: get(r, 1)?,
        version: get_u32(r, 2)?,
        type_code: get(r, 3)?,
        catalogue_version: get_u32(r, 4)?,
        issuer: get(r, 5)?,
        holder_key: get(r, 6)?,
        status: get(r, 7)?,
        status_value: u8::try_from(status_value)
            .map_err(|_| StoreError::Corrupt(format!("status value {status_value}")))?,
        pledged: get(r, 9)?,
        meta: get(r, 10)?,
        credential: get(r, 11)?,
        alg: get(r, 12)?,
        kid: get(r, 13)?,
        status_list: get_u32(r, 14)?,
        status_idx: get_u32(r, 15)?,
        issued_at: get(r, 16)?,
        valid_until: get(r, 17)?,
        updated_at: get(r, 18)?,
        representative_key: get(r, 19)?,
    })
}

pub fn event(r: &Row) -> Result<EventRecord> {
    Ok(EventRecord {
        seq: get(r, 0)?,
        identifier: get(r, 1)?,
        kind: get(r, 2)?,
        actor: get(r, 3)?,
        at: get(r, 4)?,
        reason: get(r, 5)?,
        detail: get(r, 6)?,
        reason_category: get(r, 7)?,
    })
}

pub const KEY_COLUMNS: &str =
    "kid, issuer, alg, public_jwk, encrypted_pem, sm2_signer_id, not_before, not_after, revoked_at";

pub fn key(r: &Row) -> Result<KeyRecord> {
    Ok(KeyRecord {
        kid: get(r, 0)?,
        issuer: get(r, 1)?,
        alg: get(r, 2)?,
        public_jwk: get(r, 3)?,
        encrypted_pem: get(r, 4)?,
        sm2_signer_id: get(r, 5)?,
        not_before: get(r, 6)?,
        not_after: get(r, 7)?,
        revoked_at: get(r, 8)?,
    })
}

pub fn catalogue(r: &Row) -> Result<CatalogueEntry> {
    Ok(CatalogueEntry {
        code: get(r, 0)?,
        version: get_u32(r, 1)?,
        definition: get(r, 2)?,
        created_at: get(r, 3)?,
    })
}

pub fn issuer(r: &Row) -> Result<IssuerRecord> {
    Ok(IssuerRecord {
        code: get(r, 0)?,
        name: get(r, 1)?,
        area: get(r, 2)?,
        successor: get(r, 3)?,
        ended_at: get(r, 4)?,
    })
}

pub fn api_key(r: &Row) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: get(r, 0)?,
        hash: get(r, 1)?,
        issuer: get(r, 2)?,
        label: get(r, 3)?,
        created_at: get(r, 4)?,
        revoked_at: get(r, 5)?,
    })
}

pub fn list(r: &Row) -> Result<StatusListRecord> {
    Ok(StatusListRecord {
        id: get_u32(r, 0)?,
        issuer: get(r, 1)?,
        len: get_u32(r, 2)?,
        alg: get(r, 3)?,
    })
}

pub fn status_entry(r: &Row) -> Result<StatusEntry> {
    let status: i16 = get(r, 1)?;
    Ok(StatusEntry {
        idx: get_u32(r, 0)?,
        status: u8::try_from(status)
            .map_err(|_| StoreError::Corrupt(format!("status value {status}")))?,
    })
}

pub fn import_row(r: &Row) -> Result<ImportRowRecord> {
    Ok(ImportRowRecord {
        job: get(r, 0)?,
        row: get_u64(r, 1)?,
        identifier: get(r, 2)?,
        error_code: get(r, 3)?,
        error_message: get(r, 4)?,
    })
}

pub const ACCOUNT_COLUMNS: &str =
    "id, username, password_hash, profile, holder_keys, created_at, disabled_at";

pub fn account(r: &Row) -> Result<AccountRecord> {
    Ok(AccountRecord {
        id: get(r, 0)?,
        username: get(r, 1)?,
        password_hash: get(r, 2)?,
        profile: get(r, 3)?,
        holder_keys: get(r, 4)?,
        created_at: get(r, 5)?,
        disabled_at: get(r, 6)?,
    })
}

pub fn binding(r: &Row) -> Result<BindingRecord> {
    Ok(BindingRecord {
        identifier: get(r, 0)?,
        jkt: get(r, 1)?,
        jwk: get(r, 2)?,
        credential: get(r, 3)?,
        created_at: get(r, 4)?,
    })
}

pub const PRESENTATION_COLUMNS: &str = "id, identifier, presentation, matter, jkt, nonce, \
    created_at, expires_at, completed_at, opened_at";

pub fn presentation(r: &Row) -> Result<PresentationRecord> {
    Ok(PresentationRecord {
        id: get(r, 0)?,
        identifier: get(r, 1)?,
        presentation: get(r, 2)?,
        matter: get(r, 3)?,
        jkt: get(r, 4)?,
        nonce: get(r, 5)?,
        created_at: get(r, 6)?,
        expires_at: get(r, 7)?,
        completed_at: get(r, 8)?,
        opened_at: get(r, 9)?,
    })
}

pub const AUTHORIZATION_COLUMNS: &str = "id, lineage, identifier, grantor_key, holder_key, \
    agent_key, agent_name, matter, valid_from, valid_until, created_at, withdrawn_at, ended_at";

pub fn authorization(r: &Row) -> Result<AuthorizationRecord> {
    Ok(AuthorizationRecord {
        id: get(r, 0)?,
        lineage: get(r, 1)?,
        identifier: get(r, 2)?,
        grantor_key: get(r, 3)?,
        holder_key: get(r, 4)?,
        agent_key: get(r, 5)?,
        agent_name: get(r, 6)?,
        matter: get(r, 7)?,
        valid_from: get(r, 8)?,
        valid_until: get(r, 9)?,
        created_at: get(r, 10)?,
        withdrawn_at: get(r, 11)?,
        ended_at: get(r, 12)?,
    })
}
