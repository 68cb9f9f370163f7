//! Witnessing on PostgreSQL (tables of the `WITNESS` migration). A witnessed log's head is one
//! row; `witness_advance` is one conditional UPDATE (a single statement: the check of the old
//! size and the write of the new head are atomic under concurrent requests).

use async_trait::async_trait;
use tokio_postgres::Row;

use super::rows::{self, get, get_u64};
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::records::*;
use crate::sqlite::witness::{db_size, join_vkeys, split_vkeys};
use crate::traits::WitnessStore;

const LOG_COLUMNS: &str = "origin, vkeys, url, size, root, checkpoint, admitted_at, updated_at";
const FORK_COLUMNS: &str = "id, origin, kind, cosigned_size, cosigned_root, checkpoint, at";

fn log(r: &Row) -> Result<WitnessedLogRecord> {
    Ok(WitnessedLogRecord {
        origin: get(r, 0)?,
        vkeys: split_vkeys(&get::<String>(r, 1)?),
        url: get(r, 2)?,
        size: get_u64(r, 3)?,
        root: get(r, 4)?,
        checkpoint: get(r, 5)?,
        admitted_at: get(r, 6)?,
        updated_at: get(r, 7)?,
    })
}

fn fork(r: &Row) -> Result<ForkReportRecord> {
    Ok(ForkReportRecord {
        id: get(r, 0)?,
        origin: get(r, 1)?,
        kind: get(r, 2)?,
        cosigned_size: get_u64(r, 3)?,
        cosigned_root: get(r, 4)?,
        checkpoint: get(r, 5)?,
        at: get(r, 6)?,
    })
}

fn cosigned(r: &Row) -> Result<CosignedCheckpointRecord> {
    Ok(CosignedCheckpointRecord {
        size: get_u64(r, 0)?,
        note: get(r, 1)?,
        created_at: get(r, 2)?,
    })
}

#[async_trait]
impl WitnessStore for PgStore {
    async fn witness_admit(
        &self,
        origin: &str,
        vkeys: Vec<String>,
        url: &str,
        at: i64,
    ) -> Result<()> {
        let vkeys = join_vkeys(&vkeys)?;
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO witness_logs (origin, vkeys, url, admitted_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT (origin) DO UPDATE \
                 SET vkeys = excluded.vkeys, url = excluded.url, updated_at = excluded.updated_at",
            )
            .await?;
        client.execute(&st, &[&origin, &vkeys, &url, &at]).await?;
        Ok(())
    }

    async fn witnessed_log(&self, origin: &str) -> Result<Option<WitnessedLogRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {LOG_COLUMNS} FROM witness_logs WHERE origin = $1"
            ))
            .await?;
        client
            .query_opt(&st, &[&origin])
            .await?
            .map(|r| log(&r))
            .transpose()
    }

    async fn witnessed_logs(&self) -> Result<Vec<WitnessedLogRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {LOG_COLUMNS} FROM witness_logs ORDER BY origin"
            ))
            .await?;
        rows::all(&client.query(&st, &[]).await?, log)
    }

    async fn witness_advance(&self, a: WitnessAdvance) -> Result<WitnessSwap> {
        if a.new_size < a.old_size {
            return Err(StoreError::Invalid(format!(
                "a witnessed head never shrinks ({} to {})",
                a.old_size, a.new_size
            )));
        }
        let (old, new) = (db_size(a.old_size)?, db_size(a.new_size)?);
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "UPDATE witness_logs SET size = $3, root = $4, checkpoint = $5, updated_at = $6 \
                 WHERE origin = $1 AND size = $2",
            )
            .await?;
        let n = client
            .execute(
                &st,
                &[&a.origin, &old, &new, &a.new_root, &a.checkpoint, &a.at],
            )
            .await?;
        if n == 1 {
            return Ok(WitnessSwap::Advanced);
        }
        let st = client
            .prepare_cached("SELECT size FROM witness_logs WHERE origin = $1")
            .await?;
        match client.query_opt(&st, &[&a.origin]).await? {
            Some(r) => Ok(WitnessSwap::Moved {
                size: get_u64(&r, 0)?,
            }),
            None => Err(StoreError::NotFound(format!("witnessed log {}", a.origin))),
        }
    }

    async fn put_fork_report(&self, f: ForkReportRecord) -> Result<i64> {
        let size = db_size(f.cosigned_size)?;
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO witness_forks \
                 (origin, kind, cosigned_size, cosigned_root, checkpoint, at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .await?;
        let row = client
            .query_one(
                &st,
                &[
                    &f.origin,
                    &f.kind,
                    &size,
                    &f.cosigned_root,
                    &f.checkpoint,
                    &f.at,
                ],
            )
            .await?;
        get(&row, 0)
    }

    async fn fork_reports(&self, after: i64, limit: u32) -> Result<Vec<ForkReportRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {FORK_COLUMNS} FROM witness_forks WHERE id > $1 ORDER BY id LIMIT $2"
            ))
            .await?;
        rows::all(
            &client.query(&st, &[&after, &i64::from(limit)]).await?,
            fork,
        )
    }

    async fn put_cosigned_checkpoint(&self, c: CosignedCheckpointRecord) -> Result<()> {
        let size = db_size(c.size)?;
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO cosigned_checkpoints (size, note, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (size) DO UPDATE SET note = excluded.note, \
                 created_at = excluded.created_at",
            )
            .await?;
        client
            .execute(&st, &[&size, &c.note, &c.created_at])
            .await?;
        Ok(())
    }

    async fn cosigned_checkpoint(&self, size: u64) -> Result<Option<CosignedCheckpointRecord>> {
        let size = db_size(size)?;
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT size, note, created_at FROM cosigned_checkpoints WHERE size = $1",
            )
            .await?;
        client
            .query_opt(&st, &[&size])
            .await?
            .map(|r| cosigned(&r))
            .transpose()
    }

    async fn latest_cosigned_checkpoint(&self) -> Result<Option<CosignedCheckpointRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT size, note, created_at FROM cosigned_checkpoints \
                 ORDER BY size DESC LIMIT 1",
            )
            .await?;
        client
            .query_opt(&st, &[])
            .await?
            .map(|r| cosigned(&r))
            .transpose()
    }
}
