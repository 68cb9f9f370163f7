//! Witnessing on SQLite (tables of migration 11, see `schema`). A witnessed log's head is one
//! row; `witness_advance` is one conditional UPDATE on the writer thread, so the check of the
//! old size and the write of the new head are one atomic step (C2SP tlog-witness requires it).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::records::*;
use crate::traits::WitnessStore;

const LOG_COLUMNS: &str = "origin, vkeys, url, size, root, checkpoint, admitted_at, updated_at";
const FORK_COLUMNS: &str = "id, origin, kind, cosigned_size, cosigned_root, checkpoint, at";

/// Key strings are stored one per line (a key string has no newline).
pub(crate) fn join_vkeys(vkeys: &[String]) -> Result<String> {
    if vkeys.is_empty() || vkeys.iter().any(|k| k.is_empty() || k.contains('\n')) {
        return Err(StoreError::Invalid(
            "a witnessed log needs one or more single-line keys".into(),
        ));
    }
    Ok(vkeys.join("\n"))
}

pub(crate) fn split_vkeys(s: &str) -> Vec<String> {
    s.split('\n').map(str::to_owned).collect()
}

pub(crate) fn size_of(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative tree size {v}")))
}

pub(crate) fn db_size(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid(format!("tree size {v} too large")))
}

fn log_row(r: &Row<'_>) -> rusqlite::Result<(WitnessedLogRecord, i64)> {
    let size: i64 = r.get(3)?;
    Ok((
        WitnessedLogRecord {
            origin: r.get(0)?,
            vkeys: split_vkeys(&r.get::<_, String>(1)?),
            url: r.get(2)?,
            size: 0,
            root: r.get(4)?,
            checkpoint: r.get(5)?,
            admitted_at: r.get(6)?,
            updated_at: r.get(7)?,
        },
        size,
    ))
}

fn with_size((mut rec, size): (WitnessedLogRecord, i64)) -> Result<WitnessedLogRecord> {
    rec.size = size_of(size)?;
    Ok(rec)
}

fn fork_row(r: &Row<'_>) -> rusqlite::Result<(ForkReportRecord, i64)> {
    Ok((
        ForkReportRecord {
            id: r.get(0)?,
            origin: r.get(1)?,
            kind: r.get(2)?,
            cosigned_size: 0,
            cosigned_root: r.get(4)?,
            checkpoint: r.get(5)?,
            at: r.get(6)?,
        },
        r.get(3)?,
    ))
}

#[async_trait]
impl WitnessStore for SqliteStore {
    async fn witness_admit(
        &self,
        origin: &str,
        vkeys: Vec<String>,
        url: &str,
        at: i64,
    ) -> Result<()> {
        let (origin, url, vkeys) = (origin.to_owned(), url.to_owned(), join_vkeys(&vkeys)?);
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO witness_logs (origin, vkeys, url, admitted_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (origin) DO UPDATE \
                 SET vkeys = excluded.vkeys, url = excluded.url, updated_at = excluded.updated_at",
            )?
            .execute(params![origin, vkeys, url, at])?;
            Ok(())
        })
        .await
    }

    async fn witnessed_log(&self, origin: &str) -> Result<Option<WitnessedLogRecord>> {
        let origin = origin.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {LOG_COLUMNS} FROM witness_logs WHERE origin = ?1"
            ))?
            .query_row(params![origin], log_row)
            .optional()?
            .map(with_size)
            .transpose()
        })
        .await
    }

    async fn witnessed_logs(&self) -> Result<Vec<WitnessedLogRecord>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {LOG_COLUMNS} FROM witness_logs ORDER BY origin"
            ))?;
            let rows = st.query_map([], log_row)?;
            rows.map(|r| with_size(r?)).collect()
        })
        .await
    }

    async fn witness_advance(&self, a: WitnessAdvance) -> Result<WitnessSwap> {
        if a.new_size < a.old_size {
            return Err(StoreError::Invalid(format!(
                "a witnessed head never shrinks ({} to {})",
                a.old_size, a.new_size
            )));
        }
        let (old, new) = (db_size(a.old_size)?, db_size(a.new_size)?);
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE witness_logs SET size = ?3, root = ?4, checkpoint = ?5, \
                     updated_at = ?6 WHERE origin = ?1 AND size = ?2",
                )?
                .execute(params![a.origin, old, new, a.new_root, a.checkpoint, a.at])?;
            if n == 1 {
                return Ok(WitnessSwap::Advanced);
            }
            let size: Option<i64> = conn
                .prepare_cached("SELECT size FROM witness_logs WHERE origin = ?1")?
                .query_row(params![a.origin], |r| r.get(0))
                .optional()?;
            match size {
                Some(size) => Ok(WitnessSwap::Moved {
                    size: size_of(size)?,
                }),
                None => Err(StoreError::NotFound(format!("witnessed log {}", a.origin))),
            }
        })
        .await
    }

    async fn put_fork_report(&self, f: ForkReportRecord) -> Result<i64> {
        let size = db_size(f.cosigned_size)?;
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO witness_forks \
                 (origin, kind, cosigned_size, cosigned_root, checkpoint, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                f.origin,
                f.kind,
                size,
                f.cosigned_root,
                f.checkpoint,
                f.at
            ])?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn fork_reports(&self, after: i64, limit: u32) -> Result<Vec<ForkReportRecord>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {FORK_COLUMNS} FROM witness_forks WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?;
            let rows = st.query_map(params![after, limit], fork_row)?;
            rows.map(|r| -> Result<ForkReportRecord> {
                let (mut f, size) = r?;
                f.cosigned_size = size_of(size)?;
                Ok(f)
            })
            .collect()
        })
        .await
    }

    async fn put_cosigned_checkpoint(&self, c: CosignedCheckpointRecord) -> Result<()> {
        let size = db_size(c.size)?;
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO cosigned_checkpoints (size, note, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (size) DO UPDATE SET note = excluded.note, \
                 created_at = excluded.created_at",
            )?
            .execute(params![size, c.note, c.created_at])?;
            Ok(())
        })
        .await
    }

    async fn cosigned_checkpoint(&self, size: u64) -> Result<Option<CosignedCheckpointRecord>> {
        let size = db_size(size)?;
        self.read(move |conn| {
            cosigned(
                conn,
                "SELECT size, note, created_at FROM cosigned_checkpoints WHERE size = ?1",
                Some(size),
            )
        })
        .await
    }

    async fn latest_cosigned_checkpoint(&self) -> Result<Option<CosignedCheckpointRecord>> {
        self.read(move |conn| {
            cosigned(
                conn,
                "SELECT size, note, created_at FROM cosigned_checkpoints \
                 ORDER BY size DESC LIMIT 1",
                None,
            )
        })
        .await
    }
}

fn cosigned(
    conn: &rusqlite::Connection,
    sql: &str,
    size: Option<i64>,
) -> Result<Option<CosignedCheckpointRecord>> {
    let mut st = conn.prepare_cached(sql)?;
    let row = |r: &Row<'_>| -> rusqlite::Result<(i64, String, i64)> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    };
    let found = match size {
        Some(s) => st.query_row(params![s], row).optional()?,
        None => st.query_row([], row).optional()?,
    };
    found
        .map(|(size, note, created_at)| {
            Ok(CosignedCheckpointRecord {
                size: size_of(size)?,
                note,
                created_at,
            })
        })
        .transpose()
}
