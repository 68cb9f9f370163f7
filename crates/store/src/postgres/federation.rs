//! The federation's tables on PostgreSQL (migration 13 and the `hub_*` tables of migration 3).
//! A received batch is one transaction; its directory rows are written with multi-row
//! `VALUES` statements (one round trip per table and 4,000 rows), which Citus splits by shard
//! over the distributed `hub_*` tables.

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::rows::{get, get_u64, param_u64};
use super::PgStore;
use crate::error::Result;
use crate::federation::*;
use crate::log::{decode_frontier, encode_peaks};

fn node(r: &Row) -> Result<FedNodeRecord> {
    Ok(FedNodeRecord {
        url: get(r, 0)?,
        area: get(r, 1)?,
        level: get(r, 2)?,
        parent: get(r, 3)?,
        document: get(r, 4)?,
        via: get(r, 5)?,
        updated_at: get(r, 6)?,
    })
}

/// An entry from a row `origin, index, identifier, lineage, version, type_code, issuer, kind,
/// status, at, holder_key` (the outbox's and the directory's queries).
fn entry(r: &Row) -> Result<DirectoryEntry> {
    Ok(DirectoryEntry {
        origin: get(r, 0)?,
        index: get_u64(r, 1)?,
        identifier: get(r, 2)?,
        lineage: get(r, 3)?,
        version: get(r, 4)?,
        type_code: get(r, 5)?,
        issuer: get(r, 6)?,
        kind: get(r, 7)?,
        status: status_from_number(get(r, 8)?)?,
        at: get(r, 9)?,
        holder_key: get(r, 10)?,
    })
}

async fn child_state(tx: &Transaction<'_>, child: &str, lock: bool) -> Result<ChildState> {
    let sql = format!(
        "SELECT size, peaks, forwarded_next, checkpoint FROM fed_children WHERE child = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let st = tx.prepare_cached(&sql).await?;
    match tx.query_opt(&st, &[&child]).await? {
        None => Ok(ChildState::default()),
        Some(r) => {
            let peaks: Vec<u8> = get(&r, 1)?;
            Ok(ChildState {
                frontier: decode_frontier(get(&r, 0)?, &peaks)?,
                forwarded_next: get(&r, 2)?,
                checkpoint: get(&r, 3)?,
            })
        }
    }
}

/// The columns of `entries` as arrays, in the order of [`entry`] (status as its number).
struct Columns {
    origin: Vec<String>,
    index: Vec<i64>,
    identifier: Vec<String>,
    lineage: Vec<String>,
    version: Vec<i32>,
    type_code: Vec<String>,
    issuer: Vec<String>,
    kind: Vec<String>,
    status: Vec<i16>,
    at: Vec<i64>,
    holder_key: Vec<Vec<u8>>,
}

impl Columns {
    fn of(entries: &[DirectoryEntry]) -> Result<Columns> {
        let mut c = Columns {
            origin: vec![],
            index: vec![],
            identifier: vec![],
            lineage: vec![],
            version: vec![],
            type_code: vec![],
            issuer: vec![],
            kind: vec![],
            status: vec![],
            at: vec![],
            holder_key: vec![],
        };
        for e in entries {
            c.origin.push(e.origin.clone());
            c.index.push(param_u64(e.index, "log index")?);
            c.identifier.push(e.identifier.clone());
            c.lineage.push(e.lineage.clone());
            c.version.push(e.version);
            c.type_code.push(e.type_code.clone());
            c.issuer.push(e.issuer.clone());
            c.kind.push(e.kind.clone());
            c.status.push(status_number(e.status));
            c.at.push(e.at);
            c.holder_key.push(e.holder_key.clone());
        }
        Ok(c)
    }
}

/// `n` rows of placeholders with casts, `($1::text, $2::bigint), ($3::text, $4::bigint)`.
pub(super) fn values(n: usize, casts: &[&str]) -> String {
    let mut out = String::with_capacity(n * casts.len() * 12);
    for r in 0..n {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for (c, cast) in casts.iter().enumerate() {
            if c > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}::{cast}", r * casts.len() + c + 1));
        }
        out.push(')');
    }
    out
}

/// Rows per directory statement: PostgreSQL takes at most 65,535 parameters.
const ROWS_PER_STATEMENT: usize = 4_000;

/// The directory rows of `entries`: within one batch a version may appear more than once, so
/// only its last entry (the highest index) goes into the upsert.
///
/// Written as multi-row `INSERT … VALUES`, not `INSERT … SELECT unnest(…)`: Citus executes the
/// former per shard over its pooled connections (one per worker in a transaction), while the
/// latter goes through the coordinator and opens a connection per shard, more than a worker
/// accepts when a batch spans its 256 shards.
async fn apply_entries(tx: &Transaction<'_>, entries: &[DirectoryEntry]) -> Result<()> {
    use tokio_postgres::types::ToSql;
    if entries.is_empty() {
        return Ok(());
    }
    let mut last: std::collections::BTreeMap<(&str, i32), &DirectoryEntry> = Default::default();
    for e in entries {
        let k = (e.lineage.as_str(), e.version);
        if last.get(&k).is_none_or(|p| p.index < e.index) {
            last.insert(k, e);
        }
    }
    let latest: Vec<&DirectoryEntry> = last.into_values().collect();
    for chunk in latest.chunks(ROWS_PER_STATEMENT) {
        let cols: Vec<(i64, i16)> = chunk
            .iter()
            .map(|e| Ok((param_u64(e.index, "log index")?, status_number(e.status))))
            .collect::<Result<_>>()?;
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * 11);
        for (e, (index, status)) in chunk.iter().zip(&cols) {
            params.extend_from_slice(&[
                &e.origin,
                index,
                &e.identifier,
                &e.lineage,
                &e.version,
                &e.type_code,
                &e.issuer,
                &e.kind,
                status,
                &e.at,
                &e.holder_key,
            ]);
        }
        let sql = format!(
            "INSERT INTO hub_licenses (node, log_index, identifier, lineage, version, type_code, \
             issuer, kind, status, updated_at, holder_key) VALUES {} \
             ON CONFLICT (lineage, version) DO UPDATE SET status = EXCLUDED.status, \
             node = EXCLUDED.node, updated_at = EXCLUDED.updated_at, \
             log_index = EXCLUDED.log_index, kind = EXCLUDED.kind \
             WHERE hub_licenses.log_index < EXCLUDED.log_index",
            values(
                chunk.len(),
                &[
                    "text", "bigint", "text", "text", "int", "text", "text", "text", "smallint",
                    "bigint", "bytea"
                ]
            )
        );
        tx.execute(sql.as_str(), &params).await?;
    }
    let mut holders: Vec<(&[u8], &str)> = entries
        .iter()
        .map(|e| (e.holder_key.as_slice(), e.lineage.as_str()))
        .collect();
    holders.sort_unstable();
    holders.dedup();
    for chunk in holders.chunks(ROWS_PER_STATEMENT) {
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * 2);
        for (k, l) in chunk {
            params.push(k);
            params.push(l);
        }
        let sql = format!(
            "INSERT INTO hub_holders (holder_key, lineage) VALUES {} ON CONFLICT DO NOTHING",
            values(chunk.len(), &["bytea", "text"])
        );
        tx.execute(sql.as_str(), &params).await?;
    }
    let changes: Vec<(&DirectoryEntry, i64, i16)> = entries
        .iter()
        .filter(|e| e.kind != "issue")
        .map(|e| Ok((e, param_u64(e.index, "log index")?, status_number(e.status))))
        .collect::<Result<_>>()?;
    for chunk in changes.chunks(ROWS_PER_STATEMENT) {
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * 5);
        for (e, index, status) in chunk {
            params.extend_from_slice(&[&e.lineage, &e.version, index, status, &e.at]);
        }
        let sql = format!(
            "INSERT INTO hub_status_changes (lineage, version, seq, status, at) VALUES {} \
             ON CONFLICT DO NOTHING",
            values(
                chunk.len(),
                &["text", "int", "bigint", "smallint", "bigint"]
            )
        );
        tx.execute(sql.as_str(), &params).await?;
    }
    Ok(())
}

async fn put_node(tx: &Transaction<'_>, n: &FedNodeRecord) -> Result<()> {
    let st = tx
        .prepare_cached(
            "INSERT INTO fed_nodes (url, area, level, parent, document, via, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (url) DO UPDATE SET \
             area = EXCLUDED.area, level = EXCLUDED.level, parent = EXCLUDED.parent, \
             document = EXCLUDED.document, via = EXCLUDED.via, updated_at = EXCLUDED.updated_at",
        )
        .await?;
    tx.execute(
        &st,
        &[
            &n.url,
            &n.area,
            &n.level,
            &n.parent,
            &n.document,
            &n.via,
            &n.updated_at,
        ],
    )
    .await?;
    Ok(())
}

const HUB_COLUMNS: &str = "l.node, l.log_index, l.identifier, l.lineage, l.version, l.type_code, \
     l.issuer, l.kind, l.status, l.updated_at, l.holder_key";

#[async_trait]
impl FederationStore for PgStore {
    async fn fed_put_node(&self, n: FedNodeRecord) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        put_node(&tx, &n).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn fed_nodes(&self) -> Result<Vec<FedNodeRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT url, area, level, parent, document, via, updated_at FROM fed_nodes ORDER BY url",
            )
            .await?;
        client.query(&st, &[]).await?.iter().map(node).collect()
    }

    async fn fed_child_state(&self, child: &str) -> Result<ChildState> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        child_state(&tx, child, false).await
    }

    async fn fed_receive(&self, batch: ReceivedBatch) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Serializes the batches of one child (a first batch has no row to lock yet: the
        // primary key then refuses the second of two racing inserts).
        batch.check_base(&child_state(&tx, &batch.child, true).await?)?;
        apply_entries(&tx, &batch.entries).await?;
        if batch.forward && !batch.entries.is_empty() {
            let c = Columns::of(&batch.entries)?;
            let st = tx
                .prepare_cached(
                    "INSERT INTO fed_outbox (origin, idx, identifier, lineage, version, type_code, \
                     issuer, kind, status, at, holder_key) \
                     SELECT o, i, id, li, v, t, iss, k, s, a, h FROM unnest($1::text[], \
                     $2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], \
                     $8::text[], $9::smallint[], $10::bigint[], $11::bytea[]) WITH ORDINALITY \
                     AS u(o, i, id, li, v, t, iss, k, s, a, h, n) ORDER BY n \
                     ON CONFLICT (origin, idx) DO NOTHING",
                )
                .await?;
            tx.execute(
                &st,
                &[
                    &c.origin,
                    &c.index,
                    &c.identifier,
                    &c.lineage,
                    &c.version,
                    &c.type_code,
                    &c.issuer,
                    &c.kind,
                    &c.status,
                    &c.at,
                    &c.holder_key,
                ],
            )
            .await?;
        }
        for n in &batch.nodes {
            put_node(&tx, n).await?;
        }
        for (code, node, doc) in &batch.issuers {
            let st = tx
                .prepare_cached(
                    "INSERT INTO fed_issuers (code, node, document) VALUES ($1, $2, $3) \
                     ON CONFLICT (code) DO UPDATE SET node = EXCLUDED.node, \
                     document = EXCLUDED.document",
                )
                .await?;
            tx.execute(&st, &[code, node, doc]).await?;
        }
        let f = &batch.next.frontier;
        let st = tx
            .prepare_cached(
                "INSERT INTO fed_children (child, size, peaks, forwarded_next, checkpoint) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (child) DO UPDATE SET \
                 size = EXCLUDED.size, peaks = EXCLUDED.peaks, \
                 forwarded_next = EXCLUDED.forwarded_next, checkpoint = EXCLUDED.checkpoint",
            )
            .await?;
        tx.execute(
            &st,
            &[
                &batch.child,
                &param_u64(f.size(), "log size")?,
                &encode_peaks(f),
                &batch.next.forwarded_next,
                &batch.next.checkpoint,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn fed_outbox(&self, from: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT origin, idx, identifier, lineage, version, type_code, issuer, kind, status, \
                 at, holder_key, seq FROM fed_outbox WHERE seq >= $1 ORDER BY seq LIMIT $2",
            )
            .await?;
        client
            .query(&st, &[&from, &i64::from(limit)])
            .await?
            .iter()
            .map(|r| {
                Ok(OutboxEntry {
                    seq: get(r, 11)?,
                    entry: entry(r)?,
                })
            })
            .collect()
    }

    async fn fed_issuers(&self) -> Result<Vec<(String, String, String)>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT code, node, document FROM fed_issuers ORDER BY code")
            .await?;
        client
            .query(&st, &[])
            .await?
            .iter()
            .map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?)))
            .collect()
    }

    async fn fed_push_state(&self) -> Result<PushState> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT log_size, forwarded_next FROM fed_push WHERE id = 1")
            .await?;
        match client.query_opt(&st, &[]).await? {
            None => Ok(PushState::default()),
            Some(r) => Ok(PushState {
                log_size: get_u64(&r, 0)?,
                forwarded_next: get(&r, 1)?,
            }),
        }
    }

    async fn fed_set_push_state(&self, s: PushState) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO fed_push (id, log_size, forwarded_next) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET log_size = EXCLUDED.log_size, \
                 forwarded_next = EXCLUDED.forwarded_next",
            )
            .await?;
        client
            .execute(
                &st,
                &[&param_u64(s.log_size, "log size")?, &s.forwarded_next],
            )
            .await?;
        Ok(())
    }

    async fn hub_license(&self, lineage: &str, version: i32) -> Result<Option<DirectoryEntry>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {HUB_COLUMNS} FROM hub_licenses l WHERE l.lineage = $1 AND l.version = $2"
            ))
            .await?;
        client
            .query_opt(&st, &[&lineage, &version])
            .await?
            .map(|r| entry(&r))
            .transpose()
    }

    async fn hub_holder_licenses(&self, holder_key: &[u8]) -> Result<Vec<DirectoryEntry>> {
        let client = self.client().await?;
        // Two single-shard steps: the holder's lineages (by `holder_key`), then each lineage's
        // rows (by `lineage`), never a join across differently distributed tables.
        let st = client
            .prepare_cached("SELECT lineage FROM hub_holders WHERE holder_key = $1")
            .await?;
        let lineages: Vec<String> = client
            .query(&st, &[&holder_key])
            .await?
            .iter()
            .map(|r| get(r, 0))
            .collect::<Result<_>>()?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {HUB_COLUMNS} FROM hub_licenses l WHERE l.lineage = $1 AND l.holder_key = $2 \
                 ORDER BY l.version"
            ))
            .await?;
        let mut out = Vec::new();
        for lineage in &lineages {
            for r in client.query(&st, &[lineage, &holder_key]).await? {
                out.push(entry(&r)?);
            }
        }
        out.sort_by(|a, b| (&a.lineage, a.version).cmp(&(&b.lineage, b.version)));
        Ok(out)
    }
}
