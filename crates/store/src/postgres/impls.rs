//! The small storage traits on PostgreSQL: catalogue, issuers and keys, API keys, status
//! lists and the import journal. Licenses are in `licenses`.

use async_trait::async_trait;

use super::licenses::insert_import_row;
use super::rows::{self, get, KEY_COLUMNS};
use super::{PgStore, LOCK_CATALOGUE, LOCK_EVENT_ORDER};
use crate::error::Result;
use crate::records::*;
use crate::traits::*;

#[async_trait]
impl CatalogueStore for PgStore {
    async fn put_type(&self, code: &str, definition: &str, at: i64) -> Result<u32> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // One writer per type code, so two changes cannot both claim version + 1.
        let st = tx
            .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .await?;
        tx.execute(&st, &[&LOCK_CATALOGUE, &self.lock_key(code)])
            .await?;
        let st = tx
            .prepare_cached(
                "SELECT version, definition FROM catalogue WHERE code = $1 \
                 ORDER BY version DESC LIMIT 1",
            )
            .await?;
        let latest = match tx.query_opt(&st, &[&code]).await? {
            Some(r) => Some((rows::get_u32(&r, 0)?, get::<String>(&r, 1)?)),
            None => None,
        };
        let version = match latest {
            Some((v, d)) if d == definition => return Ok(v),
            other => other.map_or(1, |(v, _)| v + 1),
        };
        let st = tx
            .prepare_cached(
                "INSERT INTO catalogue (code, version, definition, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .await?;
        tx.execute(&st, &[&code, &i64::from(version), &definition, &at])
            .await?;
        tx.commit().await?;
        Ok(version)
    }

    async fn types(&self) -> Result<Vec<CatalogueEntry>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT DISTINCT ON (code) code, version, definition, created_at FROM catalogue \
                 ORDER BY code, version DESC",
            )
            .await?;
        rows::all(&client.query(&st, &[]).await?, rows::catalogue)
    }

    async fn type_version(
        &self,
        code: &str,
        version: Option<u32>,
    ) -> Result<Option<CatalogueEntry>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT code, version, definition, created_at FROM catalogue \
                 WHERE code = $1 AND ($2::bigint IS NULL OR version = $2::bigint) \
                 ORDER BY version DESC LIMIT 1",
            )
            .await?;
        let version = version.map(i64::from);
        client
            .query_opt(&st, &[&code, &version])
            .await?
            .map(|r| rows::catalogue(&r))
            .transpose()
    }
}

#[async_trait]
impl IssuerStore for PgStore {
    async fn put_issuer(&self, i: IssuerRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO issuers (code, name, area) VALUES ($1, $2, $3) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, area = excluded.area",
            )
            .await?;
        client.execute(&st, &[&i.code, &i.name, &i.area]).await?;
        Ok(())
    }

    async fn issuers(&self) -> Result<Vec<IssuerRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT code, name, area, successor, ended_at FROM issuers ORDER BY code",
            )
            .await?;
        rows::all(&client.query(&st, &[]).await?, rows::issuer)
    }

    async fn issuer(&self, code: &str) -> Result<Option<IssuerRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT code, name, area, successor, ended_at FROM issuers WHERE code = $1",
            )
            .await?;
        client
            .query_opt(&st, &[&code])
            .await?
            .map(|r| rows::issuer(&r))
            .transpose()
    }

    async fn put_key(&self, k: KeyRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO issuer_keys ({KEY_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
            ))
            .await?;
        client
            .execute(
                &st,
                &[
                    &k.kid,
                    &k.issuer,
                    &k.alg,
                    &k.public_jwk,
                    &k.encrypted_pem,
                    &k.sm2_signer_id,
                    &k.not_before,
                    &k.not_after,
                    &k.revoked_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn keys(&self, issuer: &str) -> Result<Vec<KeyRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM issuer_keys WHERE issuer = $1 ORDER BY not_before, ord"
            ))
            .await?;
        rows::all(&client.query(&st, &[&issuer]).await?, rows::key)
    }

    async fn all_keys(&self) -> Result<Vec<KeyRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM issuer_keys ORDER BY not_before, ord"
            ))
            .await?;
        rows::all(&client.query(&st, &[]).await?, rows::key)
    }
}

#[async_trait]
impl ApiKeyStore for PgStore {
    async fn put_api_key(&self, k: ApiKeyRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO api_keys (id, hash, issuer, label, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?;
        client
            .execute(
                &st,
                &[
                    &k.id,
                    &k.hash,
                    &k.issuer,
                    &k.label,
                    &k.created_at,
                    &k.revoked_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT id, hash, issuer, label, created_at, revoked_at FROM api_keys \
                 WHERE id = $1",
            )
            .await?;
        client
            .query_opt(&st, &[&id])
            .await?
            .map(|r| rows::api_key(&r))
            .transpose()
    }
}

#[async_trait]
impl StatusListStore for PgStore {
    async fn lists(&self) -> Result<Vec<StatusListRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT id, issuer, len, alg FROM status_lists ORDER BY id")
            .await?;
        rows::all(&client.query(&st, &[]).await?, rows::list)
    }

    async fn list(&self, id: u32) -> Result<Option<StatusListRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT id, issuer, len, alg FROM status_lists WHERE id = $1")
            .await?;
        client
            .query_opt(&st, &[&i64::from(id)])
            .await?
            .map(|r| rows::list(&r))
            .transpose()
    }

    async fn non_valid(&self, list: u32) -> Result<Vec<StatusEntry>> {
        let client = self.client().await?;
        let st = client.prepare_cached(super::queries::NON_VALID).await?;
        rows::all(
            &client.query(&st, &[&i64::from(list)]).await?,
            rows::status_entry,
        )
    }

    async fn status_epoch(&self) -> Result<i64> {
        let mut client = self.client().await?;
        let st = client.prepare_cached(super::queries::STATUS_EPOCH).await?;
        let epoch: i64 = get(&client.query_one(&st, &[]).await?, 0)?;
        // Wait for writers that drew an event number but have not committed yet: one of them
        // may hold a number below `epoch` (see the module doc of `postgres`).
        let tx = client.transaction().await?;
        let st = tx
            .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .await?;
        tx.execute(&st, &[&LOCK_EVENT_ORDER, &self.lock_key("")])
            .await?;
        tx.commit().await?;
        Ok(epoch)
    }
}

#[async_trait]
impl ImportJournal for PgStore {
    async fn begin_job(&self, job: &str, source: &str, at: i64) -> Result<Vec<ImportRowRecord>> {
        {
            let client = self.client().await?;
            let st = client
                .prepare_cached(
                    "INSERT INTO import_jobs (job, source, started_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .await?;
            client.execute(&st, &[&job, &source, &at]).await?;
        }
        self.job_rows(job).await
    }

    async fn record_failure(&self, row: ImportRowRecord) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        insert_import_row(&tx, &row).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn job_rows(&self, job: &str) -> Result<Vec<ImportRowRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT job, row, identifier, error_code, error_message FROM import_rows \
                 WHERE job = $1 ORDER BY row",
            )
            .await?;
        rows::all(&client.query(&st, &[&job]).await?, rows::import_row)
    }
}
