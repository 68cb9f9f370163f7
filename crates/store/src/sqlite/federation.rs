//! The federation's tables on SQLite (migration 10, see `schema`): a received batch is one
//! job on the writer thread (one savepoint), so it is applied entirely or not at all.

use async_trait::async_trait;
use elicense_core::lifecycle::Status;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::federation::*;
use crate::log::{decode_frontier, encode_peaks, to_i64};

fn node_from_row(r: &Row<'_>) -> rusqlite::Result<FedNodeRecord> {
    Ok(FedNodeRecord {
        url: r.get(0)?,
        area: r.get(1)?,
        level: r.get(2)?,
        parent: r.get(3)?,
        document: r.get(4)?,
        via: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn status_of(code: &str) -> Result<Status> {
    Status::parse(code).ok_or_else(|| StoreError::Corrupt(format!("status {code:?}")))
}

/// An entry from a row whose columns 2..=10 are `identifier, lineage, version, type_code,
/// issuer, kind, status, at, holder_key` (the outbox's and the directory's queries).
fn entry_from_row(r: &Row<'_>, origin: String, index: i64) -> Result<DirectoryEntry> {
    let status: String = r.get(8)?;
    Ok(DirectoryEntry {
        origin,
        index: u64::try_from(index).map_err(|_| StoreError::Corrupt("log index".into()))?,
        identifier: r.get(2)?,
        lineage: r.get(3)?,
        version: r.get(4)?,
        type_code: r.get(5)?,
        issuer: r.get(6)?,
        kind: r.get(7)?,
        status: status_of(&status)?,
        at: r.get(9)?,
        holder_key: r.get(10)?,
    })
}

/// The stored state of `child` (default when none).
fn child_state(conn: &Connection, child: &str) -> Result<ChildState> {
    let row = conn
        .prepare_cached(
            "SELECT size, peaks, forwarded_next, checkpoint FROM fed_children WHERE child = ?1",
        )?
        .query_row(params![child], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .optional()?;
    match row {
        None => Ok(ChildState::default()),
        Some((size, peaks, forwarded_next, checkpoint)) => Ok(ChildState {
            frontier: decode_frontier(size, &peaks)?,
            forwarded_next,
            checkpoint,
        }),
    }
}

/// Writes one directory entry (an upsert that never goes back to an older event).
fn apply_entry(conn: &Connection, e: &DirectoryEntry) -> Result<()> {
    let index = to_i64(e.index, "log index")?;
    conn.prepare_cached(
        "INSERT INTO hub_licenses (lineage, version, identifier, type_code, issuer, status, node, \
         holder_key, updated_at, log_index, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
         ON CONFLICT (lineage, version) DO UPDATE SET status = excluded.status, \
         node = excluded.node, updated_at = excluded.updated_at, log_index = excluded.log_index, \
         kind = excluded.kind \
         WHERE hub_licenses.log_index < excluded.log_index",
    )?
    .execute(params![
        e.lineage,
        e.version,
        e.identifier,
        e.type_code,
        e.issuer,
        e.status.code(),
        e.origin,
        e.holder_key,
        e.at,
        index,
        e.kind
    ])?;
    conn.prepare_cached("INSERT OR IGNORE INTO hub_holders (holder_key, lineage) VALUES (?1, ?2)")?
        .execute(params![e.holder_key, e.lineage])?;
    if e.kind != "issue" {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO hub_status_changes (lineage, version, seq, status, at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![e.lineage, e.version, index, e.status.code(), e.at])?;
    }
    Ok(())
}

fn put_node(conn: &Connection, n: &FedNodeRecord) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO fed_nodes (url, area, level, parent, document, via, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (url) DO UPDATE SET area = excluded.area, \
         level = excluded.level, parent = excluded.parent, document = excluded.document, \
         via = excluded.via, updated_at = excluded.updated_at",
    )?
    .execute(params![
        n.url,
        n.area,
        n.level,
        n.parent,
        n.document,
        n.via,
        n.updated_at
    ])?;
    Ok(())
}

const HUB_COLUMNS: &str =
    "node, log_index, identifier, lineage, version, type_code, issuer, kind, status, updated_at, holder_key";

fn hub_from_row(r: &Row<'_>) -> Result<DirectoryEntry> {
    entry_from_row(r, r.get(0)?, r.get(1)?)
}

#[async_trait]
impl FederationStore for SqliteStore {
    async fn fed_put_node(&self, node: FedNodeRecord) -> Result<()> {
        self.write(move |conn| put_node(conn, &node)).await
    }

    async fn fed_nodes(&self) -> Result<Vec<FedNodeRecord>> {
        self.read(|conn| {
            let mut st = conn.prepare_cached(
                "SELECT url, area, level, parent, document, via, updated_at FROM fed_nodes ORDER BY url",
            )?;
            let rows = st.query_map([], node_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn fed_child_state(&self, child: &str) -> Result<ChildState> {
        let child = child.to_owned();
        self.read(move |conn| child_state(conn, &child)).await
    }

    async fn fed_receive(&self, batch: ReceivedBatch) -> Result<()> {
        self.write(move |conn| {
            batch.check_base(&child_state(conn, &batch.child)?)?;
            for e in &batch.entries {
                apply_entry(conn, e)?;
                if batch.forward {
                    conn.prepare_cached(
                        "INSERT OR IGNORE INTO fed_outbox (origin, idx, identifier, lineage, \
                         version, type_code, issuer, kind, status, at, holder_key) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )?
                    .execute(params![
                        e.origin,
                        to_i64(e.index, "log index")?,
                        e.identifier,
                        e.lineage,
                        e.version,
                        e.type_code,
                        e.issuer,
                        e.kind,
                        e.status.code(),
                        e.at,
                        e.holder_key
                    ])?;
                }
            }
            for n in &batch.nodes {
                put_node(conn, n)?;
            }
            for (code, node, doc) in &batch.issuers {
                conn.prepare_cached(
                    "INSERT INTO fed_issuers (code, node, document) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (code) DO UPDATE SET node = excluded.node, document = excluded.document",
                )?
                .execute(params![code, node, doc])?;
            }
            let f = &batch.next.frontier;
            conn.prepare_cached(
                "INSERT INTO fed_children (child, size, peaks, forwarded_next, checkpoint) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (child) DO UPDATE SET size = excluded.size, \
                 peaks = excluded.peaks, forwarded_next = excluded.forwarded_next, \
                 checkpoint = excluded.checkpoint",
            )?
            .execute(params![
                batch.child,
                to_i64(f.size(), "log size")?,
                encode_peaks(f),
                batch.next.forwarded_next,
                batch.next.checkpoint
            ])?;
            Ok(())
        })
        .await
    }

    async fn fed_outbox(&self, from: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT seq, origin, identifier, lineage, version, type_code, issuer, kind, status, \
                 at, holder_key, idx FROM fed_outbox WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
            )?;
            let mut rows = st.query(params![from, limit])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let seq: i64 = r.get(0)?;
                let entry = entry_from_row(r, r.get(1)?, r.get(11)?)?;
                out.push(OutboxEntry { seq, entry });
            }
            Ok(out)
        })
        .await
    }

    async fn fed_issuers(&self) -> Result<Vec<(String, String, String)>> {
        self.read(|conn| {
            let mut st =
                conn.prepare_cached("SELECT code, node, document FROM fed_issuers ORDER BY code")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn fed_push_state(&self) -> Result<PushState> {
        self.read(|conn| {
            let row = conn
                .prepare_cached("SELECT log_size, forwarded_next FROM fed_push WHERE id = 1")?
                .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .optional()?;
            Ok(match row {
                None => PushState::default(),
                Some((size, forwarded_next)) => PushState {
                    log_size: u64::try_from(size)
                        .map_err(|_| StoreError::Corrupt("pushed log size".into()))?,
                    forwarded_next,
                },
            })
        })
        .await
    }

    async fn fed_set_push_state(&self, state: PushState) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO fed_push (id, log_size, forwarded_next) VALUES (1, ?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET log_size = excluded.log_size, \
                 forwarded_next = excluded.forwarded_next",
            )?
            .execute(params![
                to_i64(state.log_size, "log size")?,
                state.forwarded_next
            ])?;
            Ok(())
        })
        .await
    }

    async fn hub_license(&self, lineage: &str, version: i32) -> Result<Option<DirectoryEntry>> {
        let lineage = lineage.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {HUB_COLUMNS} FROM hub_licenses WHERE lineage = ?1 AND version = ?2"
            ))?;
            let mut rows = st.query(params![lineage, version])?;
            match rows.next()? {
                Some(r) => Ok(Some(hub_from_row(r)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn hub_holder_licenses(&self, holder_key: &[u8]) -> Result<Vec<DirectoryEntry>> {
        let key = holder_key.to_vec();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {} FROM hub_holders h JOIN hub_licenses l ON l.lineage = h.lineage \
                 WHERE h.holder_key = ?1 AND l.holder_key = ?1 ORDER BY l.lineage, l.version",
                HUB_COLUMNS
                    .split(", ")
                    .map(|c| format!("l.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?;
            let mut rows = st.query(params![key])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(hub_from_row(r)?);
            }
            Ok(out)
        })
        .await
    }
}
