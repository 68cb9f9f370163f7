//! Group commit of new licenses on PostgreSQL: `LicenseStore::insert` queues the license and
//! waits; one flush task at a time takes every queued license (up to [`MAX_BATCH`]) and writes
//! them in one transaction with multi-row `INSERT .. SELECT * FROM unnest(..)` statements (one
//! statement per table, not one per row), then answers each caller. Under load (bulk import,
//! many HTTP clients) a batch grows to what arrived during the previous commit, so the round
//! trips, the commit flush, the event-log lock and the log append (one frontier read and write)
//! are paid once per batch, not once per row. On a Citus cluster the statements are multi-row
//! `VALUES` lists instead (`insert_values`; see `distributed`).
//!
//! Atomicity is unchanged: each license's identifier and slot claims, its version row, its
//! event, its log entry and its import-journal row are in the same transaction; a batch may
//! commit many licenses at once, and `Ok` is answered only after that commit. A batch that
//! fails on a row's data (a duplicate identifier or slot, a missing license) is rolled back
//! and every license in it is retried alone, so the failing one fails alone with the error it
//! would have had on its own (the same semantics as the SQLite writer's SAVEPOINTs). A batch
//! that fails because the server is unavailable answers `Unavailable` to all of its callers:
//! none of them was acknowledged.
//!
//! The flush task is spawned per burst (never a task that outlives its work), so a caller
//! that gives up waiting (a dropped HTTP request) cannot strand the others.

use std::sync::Mutex;

use tokio::sync::oneshot;

use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::distributed::Layout;
use super::licenses::{hold_event_order, insert_new};
use super::rows::{self, get};
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::log::{LeafState, LogEntry};
use crate::records::{EventRecord, NewLicense};

/// Most licenses in one transaction (bounds its size and the time a lock is held).
pub const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<EventRecord>>;

/// Licenses waiting for the flush task, and whether one is running.
#[derive(Default)]
pub(super) struct Group {
    pending: Vec<(NewLicense, Reply)>,
    flushing: bool,
}

pub(super) type GroupState = Mutex<Group>;

impl PgStore {
    /// Queues `new` for the next group commit and waits for its outcome.
    pub(super) async fn group_insert(&self, new: NewLicense) -> Result<EventRecord> {
        let (tx, rx) = oneshot::channel();
        let spawn = {
            let mut g = self.inner.group.lock().expect("group lock");
            g.pending.push((new, tx));
            !std::mem::replace(&mut g.flushing, true)
        };
        if spawn {
            let store = self.clone();
            tokio::spawn(async move { store.flush().await });
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the PostgreSQL writer stopped before answering".into(),
            ))
        })
    }

    /// Writes queued batches until the queue is empty.
    async fn flush(&self) {
        loop {
            let batch: Vec<(NewLicense, Reply)> = {
                let mut g = self.inner.group.lock().expect("group lock");
                if g.pending.is_empty() {
                    g.flushing = false;
                    return;
                }
                let n = g.pending.len().min(MAX_BATCH);
                g.pending.drain(..n).collect()
            };
            self.write_batch(batch).await;
        }
    }

    async fn write_batch(&self, batch: Vec<(NewLicense, Reply)>) {
        if batch.len() > 1 && batch.iter().all(|(n, _)| batchable(n)) {
            let news: Vec<&NewLicense> = batch.iter().map(|(n, _)| n).collect();
            match self.insert_many(&news).await {
                Ok(events) => {
                    for ((_, reply), event) in batch.into_iter().zip(events) {
                        let _ = reply.send(Ok(event));
                    }
                    return;
                }
                Err(StoreError::Unavailable(m)) => {
                    for (_, reply) in batch {
                        let _ = reply.send(Err(StoreError::Unavailable(m.clone())));
                    }
                    return;
                }
                // A row's data is at fault: retry each alone so that only it fails.
                Err(_) => {}
            }
        }
        for (new, reply) in batch {
            let _ = reply.send(self.insert_one(&new).await);
        }
    }

    /// One license in its own transaction.
    pub(super) async fn insert_one(&self, new: &NewLicense) -> Result<EventRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let event = insert_new(&tx, new, self.layout()).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Many licenses in one transaction; events in the order of `news`.
    async fn insert_many(&self, news: &[&NewLicense]) -> Result<Vec<EventRecord>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let rows = match self.layout() {
            Layout::Partitioned => insert_arrays(&tx, news).await?,
            Layout::Distributed => insert_values(&tx, news).await?,
        };
        let mut seqs = std::collections::HashMap::with_capacity(rows.len());
        for r in &rows {
            seqs.insert(get::<String>(r, 1)?, get::<i64>(r, 0)?);
        }
        let mut events = Vec::with_capacity(news.len());
        for n in news {
            let seq = *seqs.get(&n.license.identifier).ok_or_else(|| {
                StoreError::Corrupt(format!("no event for {}", n.license.identifier))
            })?;
            events.push(EventRecord {
                seq,
                ..n.event.clone()
            });
        }
        let journal: Vec<_> = news.iter().filter_map(|n| n.import_row.as_ref()).collect();
        if !journal.is_empty() {
            let jobs: Vec<&str> = journal.iter().map(|r| r.job.as_str()).collect();
            let nums = journal
                .iter()
                .map(|r| rows::param_u64(r.row, "import row"))
                .collect::<Result<Vec<i64>>>()?;
            let ids: Vec<Option<&str>> = journal.iter().map(|r| r.identifier.as_deref()).collect();
            let codes: Vec<Option<&str>> =
                journal.iter().map(|r| r.error_code.as_deref()).collect();
            let msgs: Vec<Option<&str>> =
                journal.iter().map(|r| r.error_message.as_deref()).collect();
            let st = tx
                .prepare_cached(
                    "INSERT INTO import_rows (job, row, identifier, error_code, error_message) \
                     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], \
                     $5::text[])",
                )
                .await?;
            tx.execute(&st, &[&jobs, &nums, &ids, &codes, &msgs])
                .await?;
        }
        // The event log, in sequence order, inside the same transaction: one append (one
        // frontier read and write, one insert per table) for the whole batch.
        let mut order: Vec<usize> = (0..news.len()).collect();
        order.sort_by_key(|&i| events[i].seq);
        let entries = order
            .into_iter()
            .map(|i| {
                let l = &news[i].license;
                let state = LeafState {
                    status: &l.status,
                    pledged: l.pledged,
                    credential: &l.credential,
                };
                LogEntry::lifecycle(&events[i], state)
            })
            .collect::<Result<Vec<LogEntry>>>()?;
        super::log::append_events(&tx, &entries).await?;
        tx.commit().await?;
        Ok(events)
    }
}

/// The claims, versions and events of `news` as one `unnest` statement per table (plain
/// PostgreSQL); returns `(seq, identifier)` of each event.
async fn insert_arrays(tx: &Transaction<'_>, news: &[&NewLicense]) -> Result<Vec<Row>> {
    let ls = news.iter().map(|n| &n.license);
    let identifiers: Vec<&str> = ls.clone().map(|l| l.identifier.as_str()).collect();
    let lineages: Vec<&str> = ls.clone().map(|l| l.lineage.as_str()).collect();
    let lists: Vec<i64> = ls.clone().map(|l| i64::from(l.status_list)).collect();
    let idxs: Vec<i64> = ls.clone().map(|l| i64::from(l.status_idx)).collect();
    let versions: Vec<i64> = ls.clone().map(|l| i64::from(l.version)).collect();
    let st = tx
        .prepare_cached(
            "INSERT INTO license_ids (identifier, lineage, version) \
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])",
        )
        .await?;
    tx.execute(&st, &[&identifiers, &lineages, &versions])
        .await?;
    let st = tx
        .prepare_cached(
            "INSERT INTO license_slots (status_list, status_idx, identifier) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])",
        )
        .await?;
    tx.execute(&st, &[&lists, &idxs, &identifiers]).await?;
    let types: Vec<&str> = ls.clone().map(|l| l.type_code.as_str()).collect();
    let cat_versions: Vec<i64> = ls.clone().map(|l| i64::from(l.catalogue_version)).collect();
    let issuers: Vec<&str> = ls.clone().map(|l| l.issuer.as_str()).collect();
    let holders: Vec<&str> = ls.clone().map(|l| l.holder_key.as_str()).collect();
    let statuses: Vec<&str> = ls.clone().map(|l| l.status.as_str()).collect();
    let values: Vec<i16> = ls.clone().map(|l| i16::from(l.status_value)).collect();
    let pledged: Vec<bool> = ls.clone().map(|l| l.pledged).collect();
    let metas: Vec<&str> = ls.clone().map(|l| l.meta.as_str()).collect();
    let creds: Vec<&str> = ls.clone().map(|l| l.credential.as_str()).collect();
    let algs: Vec<&str> = ls.clone().map(|l| l.alg.as_str()).collect();
    let kids: Vec<&str> = ls.clone().map(|l| l.kid.as_str()).collect();
    let issued: Vec<i64> = ls.clone().map(|l| l.issued_at).collect();
    let until: Vec<Option<i64>> = ls.clone().map(|l| l.valid_until).collect();
    let updated: Vec<i64> = ls.clone().map(|l| l.updated_at).collect();
    let representatives: Vec<Option<&str>> = ls
        .clone()
        .map(|l| l.representative_key.as_deref())
        .collect();
    let st = tx
        .prepare_cached(concat!(
            "INSERT INTO licenses (",
            super::queries::license_columns!(""),
            ") SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], \
                 $5::bigint[], $6::text[], $7::text[], $8::text[], $9::smallint[], \
                 $10::boolean[], $11::text[], $12::text[], $13::text[], $14::text[], \
                 $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], \
                 $20::text[])"
        ))
        .await?;
    tx.execute(
        &st,
        &[
            &identifiers,
            &lineages,
            &versions,
            &types,
            &cat_versions,
            &issuers,
            &holders,
            &statuses,
            &values,
            &pledged,
            &metas,
            &creds,
            &algs,
            &kids,
            &lists,
            &idxs,
            &issued,
            &until,
            &updated,
            &representatives,
        ],
    )
    .await?;
    // Sequence numbers in the order of `news` (ORDER BY ordinality draws them in order).
    let es = news.iter().map(|n| &n.event);
    let kinds: Vec<&str> = es.clone().map(|e| e.kind.as_str()).collect();
    let actors: Vec<&str> = es.clone().map(|e| e.actor.as_str()).collect();
    let ats: Vec<i64> = es.clone().map(|e| e.at).collect();
    let reasons: Vec<Option<&str>> = es.clone().map(|e| e.reason.as_deref()).collect();
    let details: Vec<&str> = es.clone().map(|e| e.detail.as_str()).collect();
    let categories: Vec<Option<&str>> = es.clone().map(|e| e.reason_category.as_deref()).collect();
    let st = tx
        .prepare_cached(
            "INSERT INTO events (seq, lineage, identifier, kind, actor, at, reason, detail, \
                 reason_category) \
                 SELECT nextval('events_seq'), lineage, identifier, kind, actor, at, reason, \
                 detail, reason_category FROM unnest($1::text[], $2::text[], $3::text[], \
                 $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY \
                 AS u(lineage, identifier, kind, actor, at, reason, detail, reason_category, ord) \
                 ORDER BY ord RETURNING seq, identifier",
        )
        .await?;
    let rows = tx
        .query(
            &st,
            &[
                &lineages,
                &identifiers,
                &kinds,
                &actors,
                &ats,
                &reasons,
                &details,
                &categories,
            ],
        )
        .await?;
    Ok(rows)
}

/// The claims, versions and events of `news` as multi-row `VALUES` statements (Citus splits
/// each by shard and sends the pieces over the transaction's connections; an `INSERT ..
/// SELECT unnest(..)` would run through the coordinator with a connection per shard). The
/// events take their numbers from the column default, which Citus evaluates on the
/// coordinator, row by row. Returns `(seq, identifier)` of each event.
async fn insert_values(tx: &Transaction<'_>, news: &[&NewLicense]) -> Result<Vec<Row>> {
    let n = news.len();
    let nums: Vec<[i64; 4]> = news
        .iter()
        .map(|x| {
            let l = &x.license;
            [
                i64::from(l.version),
                i64::from(l.catalogue_version),
                i64::from(l.status_list),
                i64::from(l.status_idx),
            ]
        })
        .collect();
    let values_of = |casts: &[&str]| super::federation::values(n, casts);

    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(n * 3);
    for (x, k) in news.iter().zip(&nums) {
        params.extend_from_slice(&[&x.license.identifier, &x.license.lineage, &k[0]]);
    }
    let sql = format!(
        "INSERT INTO license_ids (identifier, lineage, version) VALUES {}",
        values_of(&["text", "text", "bigint"])
    );
    tx.execute(sql.as_str(), &params).await?;

    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(n * 3);
    for (x, k) in news.iter().zip(&nums) {
        params.extend_from_slice(&[&k[2], &k[3], &x.license.identifier]);
    }
    let sql = format!(
        "INSERT INTO license_slots (status_list, status_idx, identifier) VALUES {}",
        values_of(&["bigint", "bigint", "text"])
    );
    tx.execute(sql.as_str(), &params).await?;

    let values: Vec<i16> = news
        .iter()
        .map(|x| i16::from(x.license.status_value))
        .collect();
    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(n * 20);
    for ((x, k), v) in news.iter().zip(&nums).zip(&values) {
        let l = &x.license;
        params.extend_from_slice(&[
            &l.identifier,
            &l.lineage,
            &k[0],
            &l.type_code,
            &k[1],
            &l.issuer,
            &l.holder_key,
            &l.status,
            v,
            &l.pledged,
            &l.meta,
            &l.credential,
            &l.alg,
            &l.kid,
            &k[2],
            &k[3],
            &l.issued_at,
            &l.valid_until,
            &l.updated_at,
            &l.representative_key,
        ]);
    }
    let sql = format!(
        concat!(
            "INSERT INTO licenses (",
            super::queries::license_columns!(""),
            ") VALUES {}"
        ),
        values_of(&[
            "text", "text", "bigint", "text", "bigint", "text", "text", "text", "smallint",
            "boolean", "text", "text", "text", "text", "bigint", "bigint", "bigint", "bigint",
            "bigint", "text",
        ])
    );
    tx.execute(sql.as_str(), &params).await?;

    let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(n * 8);
    for x in news {
        let e = &x.event;
        params.extend_from_slice(&[
            &x.license.lineage,
            &x.license.identifier,
            &e.kind,
            &e.actor,
            &e.at,
            &e.reason,
            &e.detail,
            &e.reason_category,
        ]);
    }
    let sql = format!(
        "INSERT INTO events (lineage, identifier, kind, actor, at, reason, detail, \
         reason_category) VALUES {} RETURNING seq, identifier",
        values_of(&["text", "text", "text", "text", "bigint", "text", "text", "text"])
    );
    Ok(tx.query(sql.as_str(), &params).await?)
}

/// A license whose event is about itself (every issue and import): its lineage is known
/// without a lookup, so it can join a multi-row batch.
fn batchable(n: &NewLicense) -> bool {
    n.event.identifier == n.license.identifier
}
