//! The event log on SQLite: `log_entries`, `log_nodes`, `log_state` (one row: size and
//! peaks), `log_openings` (the openings of uses' commitments), `log_checkpoints`. Appends run
//! on the writer thread inside the transaction (savepoint) of the event they log, so they
//! commit or roll back with it, opening included.

use async_trait::async_trait;
use elicense_log::{leaf_hash, Frontier, Hash, NodeId};
use rusqlite::{params, Connection, OptionalExtension};

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::log::*;
use crate::records::{EventRecord, OperatorEventRecord};

fn frontier(conn: &Connection) -> Result<Frontier> {
    let (size, peaks): (i64, Vec<u8>) = conn
        .prepare_cached("SELECT size, peaks FROM log_state WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    decode_frontier(size, &peaks)
}

/// Appends the leaf of the lifecycle event `event` (already inserted, with its seq); returns
/// its leaf index. Must run inside the event's transaction.
pub(super) fn append_lifecycle(
    conn: &Connection,
    event: &EventRecord,
    state: LeafState<'_>,
) -> Result<u64> {
    append_leaf(
        conn,
        event.seq,
        &LogEntry::lifecycle(event, state)?.to_bytes(),
    )
}

/// Appends the commitment leaf of the use `event` (already inserted, with its seq) and keeps
/// its opening; returns its leaf index. Must run inside the event's transaction.
pub(super) fn append_use(
    conn: &Connection,
    event: &EventRecord,
    state: LeafState<'_>,
) -> Result<u64> {
    let (leaf, opening) = LogEntry::commit_use(event, state, opening::fresh_salt())?;
    conn.prepare_cached("INSERT INTO log_openings (seq, salt, event) VALUES (?1, ?2, ?3)")?
        .execute(params![opening.seq, opening.salt, opening.event])?;
    append_leaf(conn, event.seq, &leaf.to_bytes())
}

/// Appends the leaf of the operator event `event` (already inserted, with its number) under
/// the log row key `-seq`, and keeps its opening when it is committed; returns its leaf index.
/// Must run inside the event's transaction.
pub(super) fn append_operator(conn: &Connection, event: &OperatorEventRecord) -> Result<u64> {
    let (leaf, opening) = LogEntry::operator(event, opening::fresh_salt())?;
    if let Some(o) = opening {
        conn.prepare_cached(
            "INSERT INTO operator_openings (seq, salt, event) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![o.seq, o.salt, o.event])?;
    }
    append_leaf(conn, leaf.row_key(), &leaf.to_bytes())
}

fn append_leaf(conn: &Connection, seq: i64, data: &[u8]) -> Result<u64> {
    let mut f = frontier(conn)?;
    let index = f.size();
    let mut nodes = Vec::with_capacity(2);
    f.append_with(leaf_hash(data), |n, h| nodes.push((n, h)));
    let mut st =
        conn.prepare_cached("INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?;
    for (n, h) in nodes {
        st.execute(params![n.level, to_i64(n.index, "node")?, &h.0[..]])?;
    }
    conn.prepare_cached("INSERT INTO log_entries (idx, seq, data) VALUES (?1, ?2, ?3)")?
        .execute(params![to_i64(index, "leaf")?, seq, data])?;
    conn.prepare_cached("UPDATE log_state SET size = ?1, peaks = ?2 WHERE id = 1")?
        .execute(params![to_i64(f.size(), "size")?, encode_peaks(&f)])?;
    Ok(index)
}

/// The openings (`seq`, `salt`, `event`) of `table` (`log_openings` or `operator_openings`)
/// with these sequence numbers, those that exist, in the order asked; `make` builds each.
pub(super) fn openings_by_seq<T>(
    conn: &Connection,
    table: &'static str,
    seqs: Vec<i64>,
    make: impl Fn(i64, Vec<u8>, Vec<u8>) -> T,
) -> Result<Vec<T>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT seq, salt, event FROM {table} WHERE seq = ?1"
    ))?;
    let mut out = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let row = st
            .query_row(params![seq], |r| Ok(make(r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        out.extend(row);
    }
    Ok(out)
}

#[async_trait]
impl EventLogStore for SqliteStore {
    async fn log_frontier(&self) -> Result<Frontier> {
        self.read(frontier).await
    }

    async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<LogEntryRecord>> {
        let (start, end) = (to_i64(start, "leaf")?, to_i64(end, "leaf")?);
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT idx, seq, data FROM log_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )?;
            let rows = st.query_map(params![start, end], |r| {
                Ok(LogEntryRecord {
                    index: r.get::<_, i64>(0)? as u64,
                    seq: r.get(1)?,
                    data: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn log_hashes(&self, nodes: Vec<NodeId>) -> Result<Vec<Hash>> {
        self.read(move |conn| {
            let mut st =
                conn.prepare_cached("SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2")?;
            nodes
                .iter()
                .map(|n| {
                    let b: Option<Vec<u8>> = st
                        .query_row(params![n.level, to_i64(n.index, "node")?], |r| r.get(0))
                        .optional()?;
                    let b = b.ok_or_else(|| {
                        StoreError::NotFound(format!("log node ({}, {})", n.level, n.index))
                    })?;
                    hash_from(&b)
                })
                .collect()
        })
        .await
    }

    async fn log_level(&self, level: u8, start: u64, end: u64) -> Result<Vec<Hash>> {
        let (start, end) = (to_i64(start, "node")?, to_i64(end, "node")?);
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT hash FROM log_nodes WHERE level = ?1 AND idx >= ?2 AND idx < ?3 \
                 ORDER BY idx",
            )?;
            let rows = st.query_map(params![level, start, end], |r| r.get::<_, Vec<u8>>(0))?;
            rows.map(|b| hash_from(&b?)).collect()
        })
        .await
    }

    async fn log_index(&self, seq: i64) -> Result<Option<u64>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT idx FROM log_entries WHERE seq = ?1")?
                .query_row(params![seq], |r| r.get::<_, i64>(0))
                .optional()?
                .map(|i| i as u64))
        })
        .await
    }

    async fn log_openings(&self, seqs: Vec<i64>) -> Result<Vec<OpeningRecord>> {
        self.read(move |conn| {
            openings_by_seq(conn, "log_openings", seqs, |seq, salt, event| {
                OpeningRecord { seq, salt, event }
            })
        })
        .await
    }

    async fn put_checkpoint(&self, cp: CheckpointRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO log_checkpoints (size, note, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![to_i64(cp.size, "size")?, cp.note, cp.created_at])?;
            Ok(())
        })
        .await
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT size, note, created_at FROM log_checkpoints ORDER BY size DESC LIMIT 1",
                )?
                .query_row([], |r| {
                    Ok(CheckpointRecord {
                        size: r.get::<_, i64>(0)? as u64,
                        note: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                })
                .optional()?)
        })
        .await
    }
}
