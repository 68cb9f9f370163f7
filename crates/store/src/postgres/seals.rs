//! Electronic seals on PostgreSQL (the `SEALS` migration, see `crate::seals`).
//!
//! Two processes making the CA at once: `INSERT .. ON CONFLICT DO NOTHING` waits for the other
//! insert of the same `alg` to commit and then does nothing; the following `SELECT` (a new
//! snapshot under READ COMMITTED) reads the row that won, so both return the first CA. A batch
//! of uses is one transaction that checks its seals exist before it inserts any use.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::rows::{self, get};
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::seals::{KeyCertificateRecord, SealCaRecord, SealRecord, SealStore, SealUseRecord};

const CA_COLUMNS: &str = "alg, encrypted_pem, certificate, created_at";

const COLUMNS: &str = "id, owner, owner_name, kind, name, alg, encrypted_pem, certificate, \
    serial, seal, picture, valid_from, valid_to, status, status_at, license, users, \
    created_at, created_by";

/// Oldest first; seals made in the same second by id, so both back-ends agree.
const OLDEST_FIRST: &str = "created_at, id";

const USE_COLUMNS: &str = "seq, seal, at, actor, document, page, purpose";

const KEY_CERT_COLUMNS: &str =
    "kid, chain, subject, issuer, serial, not_after, attached_at, attached_by";

fn key_cert_from_row(r: &Row) -> Result<KeyCertificateRecord> {
    Ok(KeyCertificateRecord {
        kid: get(r, 0)?,
        chain: get(r, 1)?,
        subject: get(r, 2)?,
        issuer: get(r, 3)?,
        serial: get(r, 4)?,
        not_after: get(r, 5)?,
        attached_at: get(r, 6)?,
        attached_by: get(r, 7)?,
    })
}

fn ca_from_row(r: &Row) -> Result<SealCaRecord> {
    Ok(SealCaRecord {
        alg: get(r, 0)?,
        encrypted_pem: get(r, 1)?,
        certificate: get(r, 2)?,
        created_at: get(r, 3)?,
    })
}

fn from_row(r: &Row) -> Result<SealRecord> {
    Ok(SealRecord {
        id: get(r, 0)?,
        owner: get(r, 1)?,
        owner_name: get(r, 2)?,
        kind: get(r, 3)?,
        name: get(r, 4)?,
        alg: get(r, 5)?,
        encrypted_pem: get(r, 6)?,
        certificate: get(r, 7)?,
        serial: get(r, 8)?,
        seal: get(r, 9)?,
        picture: get(r, 10)?,
        valid_from: get(r, 11)?,
        valid_to: get(r, 12)?,
        status: get(r, 13)?,
        status_at: get(r, 14)?,
        license: get(r, 15)?,
        users: get(r, 16)?,
        created_at: get(r, 17)?,
        created_by: get(r, 18)?,
    })
}

fn use_from_row(r: &Row) -> Result<SealUseRecord> {
    Ok(SealUseRecord {
        seq: get(r, 0)?,
        seal: get(r, 1)?,
        at: get(r, 2)?,
        actor: get(r, 3)?,
        document: get(r, 4)?,
        page: rows::get_u32(r, 5)?,
        purpose: get(r, 6)?,
    })
}

impl PgStore {
    /// The seals a `WHERE` clause (with `$1` as its one parameter) selects, in `order`.
    async fn seals_where(
        &self,
        condition: &str,
        order: &str,
        arg: &str,
    ) -> Result<Vec<SealRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM seals WHERE {condition} ORDER BY {order}"
            ))
            .await?;
        rows::all(&client.query(&st, &[&arg]).await?, from_row)
    }
}

#[async_trait]
impl SealStore for PgStore {
    async fn put_seal_ca(&self, ca: SealCaRecord) -> Result<SealCaRecord> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO seal_cas ({CA_COLUMNS}) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (alg) DO NOTHING"
            ))
            .await?;
        client
            .execute(
                &st,
                &[&ca.alg, &ca.encrypted_pem, &ca.certificate, &ca.created_at],
            )
            .await?;
        self.seal_ca(&ca.alg)
            .await?
            .ok_or_else(|| StoreError::Unavailable(format!("the seal CA for {} vanished", ca.alg)))
    }

    async fn seal_ca(&self, alg: &str) -> Result<Option<SealCaRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!("SELECT {CA_COLUMNS} FROM seal_cas WHERE alg = $1"))
            .await?;
        client
            .query_opt(&st, &[&alg])
            .await?
            .map(|r| ca_from_row(&r))
            .transpose()
    }

    async fn put_seal(&self, s: SealRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO seals ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 $11, $12, $13, $14, $15, $16, $17, $18, $19)"
            ))
            .await?;
        client
            .execute(
                &st,
                &[
                    &s.id,
                    &s.owner,
                    &s.owner_name,
                    &s.kind,
                    &s.name,
                    &s.alg,
                    &s.encrypted_pem,
                    &s.certificate,
                    &s.serial,
                    &s.seal,
                    &s.picture,
                    &s.valid_from,
                    &s.valid_to,
                    &s.status,
                    &s.status_at,
                    &s.license,
                    &s.users,
                    &s.created_at,
                    &s.created_by,
                ],
            )
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Duplicate(_) => StoreError::Duplicate(format!(
                    "seal {} (or serial {} of {})",
                    s.id, s.serial, s.alg
                )),
                other => other,
            })?;
        Ok(())
    }

    async fn seal(&self, id: &str) -> Result<Option<SealRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!("SELECT {COLUMNS} FROM seals WHERE id = $1"))
            .await?;
        client
            .query_opt(&st, &[&id])
            .await?
            .map(|r| from_row(&r))
            .transpose()
    }

    async fn seals_of(&self, owner: &str) -> Result<Vec<SealRecord>> {
        self.seals_where("owner = $1", OLDEST_FIRST, owner).await
    }

    async fn seals_of_license(&self, lineage: &str) -> Result<Vec<SealRecord>> {
        self.seals_where("license = $1", OLDEST_FIRST, lineage)
            .await
    }

    async fn seals_of_user(&self, username: &str) -> Result<Vec<SealRecord>> {
        self.seals_where("$1 = ANY(users)", OLDEST_FIRST, username)
            .await
    }

    async fn set_seal_status(&self, id: &str, status: &str, at: i64) -> Result<bool> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("UPDATE seals SET status = $2, status_at = $3 WHERE id = $1")
            .await?;
        Ok(client.execute(&st, &[&id, &status, &at]).await? == 1)
    }

    async fn set_seal_users(&self, id: &str, users: Vec<String>) -> Result<bool> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("UPDATE seals SET users = $2 WHERE id = $1")
            .await?;
        Ok(client.execute(&st, &[&id, &users]).await? == 1)
    }

    async fn inactive_seals(&self, alg: &str) -> Result<Vec<SealRecord>> {
        self.seals_where("alg = $1 AND status <> 'active'", "status_at, id", alg)
            .await
    }

    async fn record_seal_uses(&self, uses: Vec<SealUseRecord>) -> Result<Vec<SealUseRecord>> {
        if uses.is_empty() {
            return Ok(uses);
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Every seal is checked before anything is written: an unknown one is `NotFound` (the
        // foreign key alone would say `Duplicate`, as every integrity error does). Seals are
        // never deleted, so one that exists now still does at commit.
        let mut named: Vec<&str> = uses.iter().map(|u| u.seal.as_str()).collect();
        named.sort_unstable();
        named.dedup();
        let st = tx
            .prepare_cached("SELECT id FROM seals WHERE id = ANY($1)")
            .await?;
        let known: Vec<String> = tx
            .query(&st, &[&named])
            .await?
            .iter()
            .map(|r| get(r, 0))
            .collect::<Result<_>>()?;
        if let Some(unknown) = named.iter().find(|n| !known.iter().any(|k| k == *n)) {
            return Err(StoreError::NotFound(format!("seal {unknown}")));
        }
        let st = tx
            .prepare_cached(
                "INSERT INTO seal_uses (seal, at, actor, document, page, purpose) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
            )
            .await?;
        let mut stored = Vec::with_capacity(uses.len());
        for u in uses {
            let row = tx
                .query_one(
                    &st,
                    &[
                        &u.seal,
                        &u.at,
                        &u.actor,
                        &u.document,
                        &i64::from(u.page),
                        &u.purpose,
                    ],
                )
                .await?;
            stored.push(SealUseRecord {
                seq: get(&row, 0)?,
                ..u
            });
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn seal_uses(&self, id: &str, limit: u32) -> Result<Vec<SealUseRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {USE_COLUMNS} FROM seal_uses WHERE seal = $1 ORDER BY seq DESC LIMIT $2"
            ))
            .await?;
        rows::all(
            &client.query(&st, &[&id, &i64::from(limit)]).await?,
            use_from_row,
        )
    }

    async fn put_key_certificate(&self, c: KeyCertificateRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO key_certificates ({KEY_CERT_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (kid) DO UPDATE SET chain = EXCLUDED.chain, \
                 subject = EXCLUDED.subject, issuer = EXCLUDED.issuer, \
                 serial = EXCLUDED.serial, not_after = EXCLUDED.not_after, \
                 attached_at = EXCLUDED.attached_at, attached_by = EXCLUDED.attached_by"
            ))
            .await?;
        client
            .execute(
                &st,
                &[
                    &c.kid,
                    &c.chain,
                    &c.subject,
                    &c.issuer,
                    &c.serial,
                    &c.not_after,
                    &c.attached_at,
                    &c.attached_by,
                ],
            )
            .await?;
        Ok(())
    }

    async fn key_certificate(&self, kid: &str) -> Result<Option<KeyCertificateRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {KEY_CERT_COLUMNS} FROM key_certificates WHERE kid = $1"
            ))
            .await?;
        client
            .query_opt(&st, &[&kid])
            .await?
            .map(|r| key_cert_from_row(&r))
            .transpose()
    }
}
