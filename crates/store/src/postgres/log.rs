//! The event log on PostgreSQL: the same tables as SQLite (`log_entries`, `log_nodes`,
//! `log_state`, `log_openings`, `log_checkpoints`), plain (not partitioned) tables. An append locks the one
//! `log_state` row (`FOR UPDATE`) inside the event's transaction, so appends are serialised
//! in commit order and a rolled-back write leaves neither a gap nor an entry. A group commit
//! appends its whole batch with one frontier read and write ([`append_events`]).

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use elicense_log::{leaf_hash, Frontier, Hash, NodeId};

use super::rows::get;
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::log::*;
use crate::records::{EventRecord, OperatorEventRecord};

/// Appends the leaf of the lifecycle event `event` (already inserted, with its seq) inside its
/// transaction; returns the leaf index.
pub(super) async fn append_lifecycle(
    tx: &Transaction<'_>,
    event: &EventRecord,
    state: LeafState<'_>,
) -> Result<u64> {
    append_events(tx, &[LogEntry::lifecycle(event, state)?]).await
}

/// Appends the commitment leaf of the use `event` (already inserted, with its seq) and keeps
/// its opening, inside its transaction; returns the leaf index.
pub(super) async fn append_use(
    tx: &Transaction<'_>,
    event: &EventRecord,
    state: LeafState<'_>,
) -> Result<u64> {
    let (leaf, opening) = LogEntry::commit_use(event, state, opening::fresh_salt())?;
    let st = tx
        .prepare_cached("INSERT INTO log_openings (seq, salt, event) VALUES ($1, $2, $3)")
        .await?;
    tx.execute(&st, &[&opening.seq, &opening.salt, &opening.event])
        .await?;
    append_events(tx, &[leaf]).await
}

/// Appends the leaf of the operator event `event` (already inserted, with its number) under
/// the log row key `-seq`, and keeps its opening when it is committed, inside its transaction;
/// returns the leaf index.
pub(super) async fn append_operator(
    tx: &Transaction<'_>,
    event: &OperatorEventRecord,
) -> Result<u64> {
    let (leaf, opening) = LogEntry::operator(event, opening::fresh_salt())?;
    if let Some(o) = opening {
        let st = tx
            .prepare_cached("INSERT INTO operator_openings (seq, salt, event) VALUES ($1, $2, $3)")
            .await?;
        tx.execute(&st, &[&o.seq, &o.salt, &o.event]).await?;
    }
    append_events(tx, &[leaf]).await
}

/// Appends `entries` (their events already inserted, in sequence order) inside their
/// transaction with one frontier read and write and one multi-row insert per table, however
/// many there are; returns the leaf index of the first.
pub(super) async fn append_events(tx: &Transaction<'_>, entries: &[LogEntry]) -> Result<u64> {
    let st = tx
        .prepare_cached("SELECT size, peaks FROM log_state WHERE id = 1 FOR UPDATE")
        .await?;
    let row = tx.query_one(&st, &[]).await?;
    let mut f = decode_frontier(get(&row, 0)?, get::<&[u8]>(&row, 1)?)?;
    let first = f.size();
    let n = entries.len();
    let mut levels: Vec<i16> = Vec::with_capacity(2 * n);
    let mut idxs: Vec<i64> = Vec::with_capacity(2 * n);
    let mut hashes: Vec<Vec<u8>> = Vec::with_capacity(2 * n);
    let mut leaves: Vec<i64> = Vec::with_capacity(n);
    let mut seqs: Vec<i64> = Vec::with_capacity(n);
    let mut datas: Vec<Vec<u8>> = Vec::with_capacity(n);
    let mut bad = false;
    for e in entries {
        let data = e.to_bytes();
        leaves.push(to_i64(f.size(), "leaf")?);
        f.append_with(leaf_hash(&data), |node, h| {
            levels.push(i16::from(node.level));
            idxs.push(i64::try_from(node.index).unwrap_or_else(|_| {
                bad = true;
                0
            }));
            hashes.push(h.0.to_vec());
        });
        seqs.push(e.row_key());
        datas.push(data);
    }
    if bad {
        return Err(StoreError::Unavailable("log is full".into()));
    }
    let st = tx
        .prepare_cached(
            "INSERT INTO log_nodes (level, idx, hash) \
             SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])",
        )
        .await?;
    tx.execute(&st, &[&levels, &idxs, &hashes]).await?;
    let st = tx
        .prepare_cached(
            "INSERT INTO log_entries (idx, seq, data) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])",
        )
        .await?;
    tx.execute(&st, &[&leaves, &seqs, &datas]).await?;
    let st = tx
        .prepare_cached("UPDATE log_state SET size = $1, peaks = $2 WHERE id = 1")
        .await?;
    tx.execute(&st, &[&to_i64(f.size(), "size")?, &encode_peaks(&f)])
        .await?;
    Ok(first)
}

#[async_trait]
impl EventLogStore for PgStore {
    async fn log_frontier(&self) -> Result<Frontier> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT size, peaks FROM log_state WHERE id = 1")
            .await?;
        let row = client.query_one(&st, &[]).await?;
        decode_frontier(get(&row, 0)?, get::<&[u8]>(&row, 1)?)
    }

    async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<LogEntryRecord>> {
        let (start, end) = (to_i64(start, "leaf")?, to_i64(end, "leaf")?);
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT idx, seq, data FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            )
            .await?;
        client
            .query(&st, &[&start, &end])
            .await?
            .iter()
            .map(|r| {
                Ok(LogEntryRecord {
                    index: get::<i64>(r, 0)? as u64,
                    seq: get(r, 1)?,
                    data: get(r, 2)?,
                })
            })
            .collect()
    }

    async fn log_hashes(&self, nodes: Vec<NodeId>) -> Result<Vec<Hash>> {
        let levels: Vec<i16> = nodes.iter().map(|n| i16::from(n.level)).collect();
        let idxs = nodes
            .iter()
            .map(|n| to_i64(n.index, "node"))
            .collect::<Result<Vec<i64>>>()?;
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT n.ord, l.hash FROM unnest($1::smallint[], $2::bigint[]) \
                 WITH ORDINALITY AS n(level, idx, ord) \
                 JOIN log_nodes l ON l.level = n.level AND l.idx = n.idx",
            )
            .await?;
        let rows = client.query(&st, &[&levels, &idxs]).await?;
        let mut out: Vec<Option<Hash>> = vec![None; nodes.len()];
        for r in &rows {
            let ord: i64 = get(r, 0)?;
            let slot = out
                .get_mut((ord - 1) as usize)
                .ok_or_else(|| StoreError::Corrupt("log node ordinality".into()))?;
            *slot = Some(hash_from(get::<&[u8]>(r, 1)?)?);
        }
        out.into_iter()
            .zip(&nodes)
            .map(|(h, n)| {
                h.ok_or_else(|| {
                    StoreError::NotFound(format!("log node ({}, {})", n.level, n.index))
                })
            })
            .collect()
    }

    async fn log_level(&self, level: u8, start: u64, end: u64) -> Result<Vec<Hash>> {
        let (start, end) = (to_i64(start, "node")?, to_i64(end, "node")?);
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT hash FROM log_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 \
                 ORDER BY idx",
            )
            .await?;
        client
            .query(&st, &[&i16::from(level), &start, &end])
            .await?
            .iter()
            .map(|r| hash_from(get::<&[u8]>(r, 0)?))
            .collect()
    }

    async fn log_index(&self, seq: i64) -> Result<Option<u64>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT idx FROM log_entries WHERE seq = $1")
            .await?;
        Ok(client
            .query_opt(&st, &[&seq])
            .await?
            .map(|r| get::<i64>(&r, 0))
            .transpose()?
            .map(|i| i as u64))
    }

    async fn log_openings(&self, seqs: Vec<i64>) -> Result<Vec<OpeningRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT o.seq, o.salt, o.event FROM unnest($1::bigint[]) WITH ORDINALITY \
                 AS q(seq, ord) JOIN log_openings o ON o.seq = q.seq ORDER BY q.ord",
            )
            .await?;
        client
            .query(&st, &[&seqs])
            .await?
            .iter()
            .map(|r| {
                Ok(OpeningRecord {
                    seq: get(r, 0)?,
                    salt: get(r, 1)?,
                    event: get(r, 2)?,
                })
            })
            .collect()
    }

    async fn put_checkpoint(&self, cp: CheckpointRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO log_checkpoints (size, note, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        client
            .execute(&st, &[&to_i64(cp.size, "size")?, &cp.note, &cp.created_at])
            .await?;
        Ok(())
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT size, note, created_at FROM log_checkpoints ORDER BY size DESC LIMIT 1",
            )
            .await?;
        client
            .query_opt(&st, &[])
            .await?
            .map(|r| {
                Ok(CheckpointRecord {
                    size: get::<i64>(&r, 0)? as u64,
                    note: get(&r, 1)?,
                    created_at: get(&r, 2)?,
                })
            })
            .transpose()
    }
}
