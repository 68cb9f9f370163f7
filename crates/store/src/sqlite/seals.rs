//! Electronic seals on SQLite (migration 22, see `crate::seals`). Every write is one writer
//! job (one savepoint): the CA's insert-unless-present and its read-back, a batch of uses with
//! the check that their seals exist. `seals.users` is a JSON array of usernames.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::seals::{KeyCertificateRecord, SealCaRecord, SealRecord, SealStore, SealUseRecord};

const CA_COLUMNS: &str = "alg, encrypted_pem, certificate, created_at";

const COLUMNS: &str = "id, owner, owner_name, kind, name, alg, encrypted_pem, certificate, \
    serial, seal, picture, valid_from, valid_to, status, status_at, license, users, \
    created_at, created_by";

/// Oldest first; seals made in the same second by id, so both back-ends agree.
const OLDEST_FIRST: &str = "created_at, id";

const USE_COLUMNS: &str = "seq, seal, at, actor, document, page, purpose";

fn ca_from_row(r: &Row<'_>) -> rusqlite::Result<SealCaRecord> {
    Ok(SealCaRecord {
        alg: r.get(0)?,
        encrypted_pem: r.get(1)?,
        certificate: r.get(2)?,
        created_at: r.get(3)?,
    })
}

/// A seal row; `users` that is not a JSON array of strings is a conversion failure
/// (`Corrupt`).
fn from_row(r: &Row<'_>) -> rusqlite::Result<SealRecord> {
    let users: String = r.get(16)?;
    let users = serde_json::from_str(&users).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(16, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(SealRecord {
        id: r.get(0)?,
        owner: r.get(1)?,
        owner_name: r.get(2)?,
        kind: r.get(3)?,
        name: r.get(4)?,
        alg: r.get(5)?,
        encrypted_pem: r.get(6)?,
        certificate: r.get(7)?,
        serial: r.get(8)?,
        seal: r.get(9)?,
        picture: r.get(10)?,
        valid_from: r.get(11)?,
        valid_to: r.get(12)?,
        status: r.get(13)?,
        status_at: r.get(14)?,
        license: r.get(15)?,
        users,
        created_at: r.get(17)?,
        created_by: r.get(18)?,
    })
}

fn use_from_row(r: &Row<'_>) -> rusqlite::Result<SealUseRecord> {
    Ok(SealUseRecord {
        seq: r.get(0)?,
        seal: r.get(1)?,
        at: r.get(2)?,
        actor: r.get(3)?,
        document: r.get(4)?,
        page: r.get(5)?,
        purpose: r.get(6)?,
    })
}

const KEY_CERT_COLUMNS: &str =
    "kid, chain, subject, issuer, serial, not_after, attached_at, attached_by";

/// A chain as one blob: each DER certificate prefixed by its length (4 bytes, big-endian).
fn chain_blob(chain: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chain {
        out.extend_from_slice(&(c.len() as u32).to_be_bytes());
        out.extend_from_slice(c);
    }
    out
}

fn chain_of(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut rest = blob;
    while !rest.is_empty() {
        let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        out.push(rest.get(4..4 + n)?.to_vec());
        rest = &rest[4 + n..];
    }
    Some(out)
}

fn key_cert_from_row(r: &Row<'_>) -> rusqlite::Result<KeyCertificateRecord> {
    let blob: Vec<u8> = r.get(1)?;
    let chain = chain_of(&blob).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Blob,
            "a certificate chain cut short".into(),
        )
    })?;
    Ok(KeyCertificateRecord {
        kid: r.get(0)?,
        chain,
        subject: r.get(2)?,
        issuer: r.get(3)?,
        serial: r.get(4)?,
        not_after: r.get(5)?,
        attached_at: r.get(6)?,
        attached_by: r.get(7)?,
    })
}

fn users_json(users: &[String]) -> String {
    serde_json::to_string(users).expect("strings always serialise")
}

/// The seals a `WHERE` clause (with `?1` as its one parameter) selects, in `order`.
fn seals_where(
    conn: &Connection,
    condition: &str,
    order: &str,
    arg: &str,
) -> Result<Vec<SealRecord>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM seals WHERE {condition} ORDER BY {order}"
    ))?;
    let rows = st.query_map(params![arg], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[async_trait]
impl SealStore for SqliteStore {
    async fn put_seal_ca(&self, ca: SealCaRecord) -> Result<SealCaRecord> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO seal_cas ({CA_COLUMNS}) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (alg) DO NOTHING"
            ))?
            .execute(params![
                ca.alg,
                ca.encrypted_pem,
                ca.certificate,
                ca.created_at
            ])?;
            Ok(conn
                .prepare_cached(&format!("SELECT {CA_COLUMNS} FROM seal_cas WHERE alg = ?1"))?
                .query_row(params![ca.alg], ca_from_row)?)
        })
        .await
    }

    async fn seal_ca(&self, alg: &str) -> Result<Option<SealCaRecord>> {
        let alg = alg.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {CA_COLUMNS} FROM seal_cas WHERE alg = ?1"))?
                .query_row(params![alg], ca_from_row)
                .optional()?)
        })
        .await
    }

    async fn put_seal(&self, s: SealRecord) -> Result<()> {
        let users = users_json(&s.users);
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO seals ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, \
                 ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
            ))?
            .execute(params![
                s.id,
                s.owner,
                s.owner_name,
                s.kind,
                s.name,
                s.alg,
                s.encrypted_pem,
                s.certificate,
                s.serial,
                s.seal,
                s.picture,
                s.valid_from,
                s.valid_to,
                s.status,
                s.status_at,
                s.license,
                users,
                s.created_at,
                s.created_by
            ])
            .map_err(|e| match StoreError::from(e) {
                StoreError::Duplicate(_) => StoreError::Duplicate(format!(
                    "seal {} (or serial {} of {})",
                    s.id, s.serial, s.alg
                )),
                other => other,
            })?;
            Ok(())
        })
        .await
    }

    async fn seal(&self, id: &str) -> Result<Option<SealRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM seals WHERE id = ?1"))?
                .query_row(params![id], from_row)
                .optional()?)
        })
        .await
    }

    async fn seals_of(&self, owner: &str) -> Result<Vec<SealRecord>> {
        let owner = owner.to_owned();
        self.read(move |conn| seals_where(conn, "owner = ?1", OLDEST_FIRST, &owner))
            .await
    }

    async fn seals_of_license(&self, lineage: &str) -> Result<Vec<SealRecord>> {
        let lineage = lineage.to_owned();
        self.read(move |conn| seals_where(conn, "license = ?1", OLDEST_FIRST, &lineage))
            .await
    }

    async fn seals_of_user(&self, username: &str) -> Result<Vec<SealRecord>> {
        let username = username.to_owned();
        // `users` is a JSON array: a seal lists the user when one element equals the name.
        self.read(move |conn| {
            seals_where(
                conn,
                "EXISTS (SELECT 1 FROM json_each(seals.users) WHERE json_each.value = ?1)",
                OLDEST_FIRST,
                &username,
            )
        })
        .await
    }

    async fn set_seal_status(&self, id: &str, status: &str, at: i64) -> Result<bool> {
        let (id, status) = (id.to_owned(), status.to_owned());
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("UPDATE seals SET status = ?2, status_at = ?3 WHERE id = ?1")?
                .execute(params![id, status, at])?
                == 1)
        })
        .await
    }

    async fn set_seal_users(&self, id: &str, users: Vec<String>) -> Result<bool> {
        let (id, users) = (id.to_owned(), users_json(&users));
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("UPDATE seals SET users = ?2 WHERE id = ?1")?
                .execute(params![id, users])?
                == 1)
        })
        .await
    }

    async fn inactive_seals(&self, alg: &str) -> Result<Vec<SealRecord>> {
        let alg = alg.to_owned();
        self.read(move |conn| {
            seals_where(
                conn,
                "alg = ?1 AND status <> 'active'",
                "status_at, id",
                &alg,
            )
        })
        .await
    }

    async fn record_seal_uses(&self, uses: Vec<SealUseRecord>) -> Result<Vec<SealUseRecord>> {
        if uses.is_empty() {
            return Ok(uses);
        }
        self.write(move |conn| {
            // Every seal is checked before anything is written: an unknown one is `NotFound`
            // (the foreign key alone would say `Duplicate`, as every constraint does here).
            {
                let mut known = conn.prepare_cached("SELECT 1 FROM seals WHERE id = ?1")?;
                for u in &uses {
                    if !known.exists(params![u.seal])? {
                        return Err(StoreError::NotFound(format!("seal {}", u.seal)));
                    }
                }
            }
            let mut insert = conn.prepare_cached(
                "INSERT INTO seal_uses (seal, at, actor, document, page, purpose) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut stored = Vec::with_capacity(uses.len());
            for u in uses {
                insert.execute(params![
                    u.seal, u.at, u.actor, u.document, u.page, u.purpose
                ])?;
                stored.push(SealUseRecord {
                    seq: conn.last_insert_rowid(),
                    ..u
                });
            }
            Ok(stored)
        })
        .await
    }

    async fn seal_uses(&self, id: &str, limit: u32) -> Result<Vec<SealUseRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {USE_COLUMNS} FROM seal_uses WHERE seal = ?1 ORDER BY seq DESC LIMIT ?2"
            ))?;
            let rows = st.query_map(params![id, limit], use_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn put_key_certificate(&self, c: KeyCertificateRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT OR REPLACE INTO key_certificates ({KEY_CERT_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?
            .execute(params![
                c.kid,
                chain_blob(&c.chain),
                c.subject,
                c.issuer,
                c.serial,
                c.not_after,
                c.attached_at,
                c.attached_by
            ])?;
            Ok(())
        })
        .await
    }

    async fn key_certificate(&self, kid: &str) -> Result<Option<KeyCertificateRecord>> {
        let kid = kid.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {KEY_CERT_COLUMNS} FROM key_certificates WHERE kid = ?1"
                ))?
                .query_row(params![kid], key_cert_from_row)
                .optional()?)
        })
        .await
    }
}
