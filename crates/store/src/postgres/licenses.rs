//! Licenses, their events and the reservation of serials and status-list slots on PostgreSQL.
//!
//! Invariants (the same as SQLite's): a license version, its identifier and slot claims, its
//! event and its import row commit together or not at all; a transition's UPDATE only applies
//! to the status and pledge the caller read, and its successor is written in the same
//! transaction; a reserved serial or slot is never handed out twice, whichever connection,
//! process or node asks.

use async_trait::async_trait;
use deadpool_postgres::Transaction;

use deadpool_postgres::GenericClient;

use super::distributed::Layout;
use super::queries::{self, license_columns};
use super::rows::{self, get};
use super::{PgStore, LOCK_EVENT_ORDER, LOCK_ISSUER_LISTS, LOCK_LIST_IDS};
use crate::error::{Result, StoreError};
use crate::log::LeafState;
use crate::records::*;
use crate::traits::LicenseStore;

/// Holds the event-order lock (shared) until the transaction ends: taken before a write
/// transaction draws any event number (see the module doc of `postgres`).
pub(super) async fn hold_event_order(tx: &Transaction<'_>, key: &str) -> Result<()> {
    let st = tx
        .prepare_cached("SELECT pg_advisory_xact_lock_shared($1, hashtext($2))")
        .await?;
    tx.execute(&st, &[&LOCK_EVENT_ORDER, &key]).await?;
    Ok(())
}

/// The primary key `(lineage, version)` of the license version named by `identifier`.
pub(super) async fn claim(
    c: &impl GenericClient,
    identifier: &str,
) -> Result<Option<(String, i64)>> {
    let st = c.prepare_cached(queries::CLAIM).await?;
    match c.query_opt(&st, &[&identifier]).await? {
        Some(r) => Ok(Some((get(&r, 0)?, get(&r, 1)?))),
        None => Ok(None),
    }
}

/// Renames a `Duplicate` so that it says which claim collided.
fn duplicate_as(e: StoreError, what: impl FnOnce() -> String) -> StoreError {
    match e {
        StoreError::Duplicate(_) => StoreError::Duplicate(what()),
        other => other,
    }
}

async fn insert_license(tx: &Transaction<'_>, l: &LicenseRecord) -> Result<()> {
    let st = tx
        .prepare_cached(
            "INSERT INTO license_ids (identifier, lineage, version) VALUES ($1, $2, $3)",
        )
        .await?;
    tx.execute(&st, &[&l.identifier, &l.lineage, &i64::from(l.version)])
        .await
        .map_err(|e| duplicate_as(e.into(), || format!("license {}", l.identifier)))?;
    let (list, idx) = (i64::from(l.status_list), i64::from(l.status_idx));
    let st = tx
        .prepare_cached(
            "INSERT INTO license_slots (status_list, status_idx, identifier) VALUES ($1, $2, $3)",
        )
        .await?;
    tx.execute(&st, &[&list, &idx, &l.identifier])
        .await
        .map_err(|e| {
            duplicate_as(e.into(), || {
                format!("status slot ({list}, {idx}) of license {}", l.identifier)
            })
        })?;
    let st = tx
        .prepare_cached(concat!(
            "INSERT INTO licenses (",
            license_columns!(""),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20)"
        ))
        .await?;
    tx.execute(
        &st,
        &[
            &l.identifier,
            &l.lineage,
            &i64::from(l.version),
            &l.type_code,
            &i64::from(l.catalogue_version),
            &l.issuer,
            &l.holder_key,
            &l.status,
            &i16::from(l.status_value),
            &l.pledged,
            &l.meta,
            &l.credential,
            &l.alg,
            &l.kid,
            &list,
            &idx,
            &l.issued_at,
            &l.valid_until,
            &l.updated_at,
            &l.representative_key,
        ],
    )
    .await
    .map_err(|e| {
        duplicate_as(e.into(), || {
            format!("license {} version {}", l.lineage, l.version)
        })
    })?;
    Ok(())
}

/// Appends an event; its lineage is that of the license version it names: `lineage` when the
/// caller knows it (it must on a Citus cluster, where `events` is distributed by lineage and
/// an `INSERT .. SELECT` from `license_ids` would cross shards), else found in the same
/// statement through `license_ids`. `affects_status` is false for events that leave every
/// status as it was (they do not move the status epoch).
async fn insert_event(
    tx: &Transaction<'_>,
    e: &EventRecord,
    affects_status: bool,
    lineage: Option<&str>,
) -> Result<EventRecord> {
    if let Some(lineage) = lineage {
        let st = tx
            .prepare_cached(
                "INSERT INTO events (lineage, identifier, kind, actor, at, reason, detail, \
                 affects_status, reason_category) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
            )
            .await?;
        let row = tx
            .query_one(
                &st,
                &[
                    &lineage,
                    &e.identifier,
                    &e.kind,
                    &e.actor,
                    &e.at,
                    &e.reason,
                    &e.detail,
                    &affects_status,
                    &e.reason_category,
                ],
            )
            .await?;
        return Ok(EventRecord {
            seq: get(&row, 0)?,
            ..e.clone()
        });
    }
    let st = tx
        .prepare_cached(
            "INSERT INTO events (lineage, identifier, kind, actor, at, reason, detail, \
             affects_status, reason_category) \
             SELECT lineage, $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::text, \
             $7::boolean, $8::text FROM license_ids WHERE identifier = $1::text RETURNING seq",
        )
        .await?;
    let row = tx
        .query_opt(
            &st,
            &[
                &e.identifier,
                &e.kind,
                &e.actor,
                &e.at,
                &e.reason,
                &e.detail,
                &affects_status,
                &e.reason_category,
            ],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("license {}", e.identifier)))?;
    Ok(EventRecord {
        seq: get(&row, 0)?,
        ..e.clone()
    })
}

pub(super) async fn insert_import_row(tx: &Transaction<'_>, r: &ImportRowRecord) -> Result<()> {
    let st = tx
        .prepare_cached(
            "INSERT INTO import_rows (job, row, identifier, error_code, error_message) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    let row = rows::param_u64(r.row, "import row")?;
    tx.execute(
        &st,
        &[&r.job, &row, &r.identifier, &r.error_code, &r.error_message],
    )
    .await?;
    Ok(())
}

/// The lineage to give [`insert_event`] for an event about `identifier`: none on plain
/// PostgreSQL (the INSERT finds it), `known` when the event is about the license whose
/// lineage the caller holds, else the claim row's (`NotFound` without one).
async fn event_lineage(
    tx: &Transaction<'_>,
    layout: Layout,
    identifier: &str,
    known: (&str, &str),
) -> Result<Option<String>> {
    match layout {
        Layout::Partitioned => Ok(None),
        Layout::Distributed if identifier == known.0 => Ok(Some(known.1.to_owned())),
        Layout::Distributed => match claim(tx, identifier).await? {
            Some((lineage, _)) => Ok(Some(lineage)),
            None => Err(StoreError::NotFound(format!("license {identifier}"))),
        },
    }
}

pub(super) async fn insert_new(
    tx: &Transaction<'_>,
    new: &NewLicense,
    layout: Layout,
) -> Result<EventRecord> {
    insert_license(tx, &new.license).await?;
    let l = &new.license;
    let lineage = event_lineage(
        tx,
        layout,
        &new.event.identifier,
        (&l.identifier, &l.lineage),
    )
    .await?;
    let event = insert_event(tx, &new.event, true, lineage.as_deref()).await?;
    let state = LeafState {
        status: &l.status,
        pledged: l.pledged,
        credential: &l.credential,
    };
    super::log::append_lifecycle(tx, &event, state).await?;
    if let Some(row) = &new.import_row {
        insert_import_row(tx, row).await?;
    }
    Ok(event)
}

async fn reserve(
    tx: &Transaction<'_>,
    type_code: &str,
    issuer: &str,
    alg: &str,
    n: u32,
    capacity: u32,
    keys: (String, String),
) -> Result<Reservation> {
    let n64 = i64::from(n);
    // The upsert locks the serials row until commit: concurrent callers queue here.
    let st = tx
        .prepare_cached(
            "INSERT INTO serials (type_code, issuer, next) VALUES ($1, $2, 1 + $3::bigint) \
             ON CONFLICT (type_code, issuer) DO UPDATE SET next = serials.next + $3::bigint \
             RETURNING next - $3::bigint",
        )
        .await?;
    let row = tx.query_one(&st, &[&type_code, &issuer, &n64]).await?;
    let first = rows::get_u64(&row, 0)?;
    // One reserver per issuer's lists at a time, even before the issuer has a list row.
    let st = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .await?;
    tx.execute(&st, &[&LOCK_ISSUER_LISTS, &keys.0]).await?;
    let current = tx
        .prepare_cached(
            "SELECT id, len FROM status_lists WHERE issuer = $1 AND alg = $2 \
             ORDER BY id DESC LIMIT 1 FOR UPDATE",
        )
        .await?;
    let mut slots = Vec::with_capacity(n as usize);
    while slots.len() < n as usize {
        let last = match tx.query_opt(&current, &[&issuer, &alg]).await? {
            Some(r) => Some((rows::get_u32(&r, 0)?, rows::get_u32(&r, 1)?)),
            None => None,
        };
        let (list, len, fresh) = match last {
            Some((id, len)) if len < capacity => (id, len, false),
            _ => {
                // List ids are global: the lock is held until commit, so the next caller
                // sees this list before it computes max + 1.
                let st = tx
                    .prepare_cached("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                    .await?;
                tx.execute(&st, &[&LOCK_LIST_IDS, &keys.1]).await?;
                let st = tx
                    .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM status_lists")
                    .await?;
                let next = rows::get_u32(&tx.query_one(&st, &[]).await?, 0)?;
                (next, 0, true)
            }
        };
        let take = (capacity - len).min(n - slots.len() as u32);
        let (id64, len64) = (i64::from(list), i64::from(len + take));
        if fresh {
            let st = tx
                .prepare_cached(
                    "INSERT INTO status_lists (id, issuer, len, alg) VALUES ($1, $2, $3, $4)",
                )
                .await?;
            tx.execute(&st, &[&id64, &issuer, &len64, &alg]).await?;
        } else {
            let st = tx
                .prepare_cached("UPDATE status_lists SET len = $2 WHERE id = $1")
                .await?;
            tx.execute(&st, &[&id64, &len64]).await?;
        }
        slots.extend((len..len + take).map(|idx| (list, idx)));
    }
    Ok(Reservation {
        first_serial: first,
        slots,
    })
}

async fn apply_transition(
    tx: &Transaction<'_>,
    t: &TransitionRecord,
    layout: Layout,
) -> Result<EventRecord> {
    let Some((lineage, version)) = claim(tx, &t.identifier).await? else {
        return Err(StoreError::NotFound(format!("license {}", t.identifier)));
    };
    let st = tx
        .prepare_cached(
            "UPDATE licenses SET status = $1, status_value = $2, pledged = $3, updated_at = $4 \
             WHERE lineage = $5 AND version = $9 AND identifier = $6 AND status = $7 \
             AND pledged = $8 RETURNING credential",
        )
        .await?;
    let changed = tx
        .query_opt(
            &st,
            &[
                &t.new_status,
                &i16::from(t.new_status_value),
                &t.new_pledged,
                &t.at,
                &lineage,
                &t.identifier,
                &t.expected_status,
                &t.expected_pledged,
                &version,
            ],
        )
        .await?;
    let Some(row) = changed else {
        return Err(StoreError::Conflict(format!(
            "license {} changed meanwhile",
            t.identifier
        )));
    };
    let credential: String = get(&row, 0)?;
    let lineage_of_event =
        event_lineage(tx, layout, &t.event.identifier, (&t.identifier, &lineage)).await?;
    let event = insert_event(tx, &t.event, true, lineage_of_event.as_deref()).await?;
    let state = LeafState {
        status: &t.new_status,
        pledged: t.new_pledged,
        credential: &credential,
    };
    super::log::append_lifecycle(tx, &event, state).await?;
    if let Some(next) = &t.successor {
        insert_new(tx, next, layout).await?;
    }
    if t.end_authorizations {
        let st = tx
            .prepare_cached(
                "UPDATE authorizations SET ended_at = $1 \
                 WHERE lineage = $2 AND withdrawn_at IS NULL AND ended_at IS NULL",
            )
            .await?;
        tx.execute(&st, &[&t.at, &lineage]).await?;
    }
    Ok(event)
}

/// Appends an event that leaves its license as it is (a use, an authorization) and its log
/// entry, which carries the version's current status, pledge and credential. The license row
/// is locked `FOR SHARE` until commit, so a transition of it commits wholly before this reads
/// it or after this commits: the log never shows a status older than one it logged before.
/// `NotFound` if the license does not exist. The caller holds the event-order lock.
///
/// On a Citus cluster the claim row is read first and the license row is then locked by its
/// primary key: one shard each (Citus locks rows only in a single-shard statement).
pub(super) async fn append_use_event(
    tx: &Transaction<'_>,
    e: &EventRecord,
    layout: Layout,
) -> Result<EventRecord> {
    let (row, lineage) = match layout {
        Layout::Partitioned => {
            let st = tx
                .prepare_cached(concat!(
                    "SELECT status, pledged, credential FROM licenses WHERE ",
                    queries::route!("$1"),
                    " AND identifier = $1 FOR SHARE"
                ))
                .await?;
            (tx.query_opt(&st, &[&e.identifier]).await?, None)
        }
        Layout::Distributed => match claim(tx, &e.identifier).await? {
            None => (None, None),
            Some((lineage, version)) => {
                let st = tx
                    .prepare_cached(
                        "SELECT status, pledged, credential FROM licenses \
                         WHERE lineage = $1 AND version = $2 AND identifier = $3 FOR SHARE",
                    )
                    .await?;
                let row = tx
                    .query_opt(&st, &[&lineage, &version, &e.identifier])
                    .await?;
                (row, Some(lineage))
            }
        },
    };
    let Some(row) = row else {
        return Err(StoreError::NotFound(format!("license {}", e.identifier)));
    };
    let (status, pledged, credential): (String, bool, String) =
        (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
    let event = insert_event(tx, e, false, lineage.as_deref()).await?;
    let state = LeafState {
        status: &status,
        pledged,
        credential: &credential,
    };
    super::log::append_use(tx, &event, state).await?;
    Ok(event)
}

#[async_trait]
impl LicenseStore for PgStore {
    async fn reserve(
        &self,
        type_code: &str,
        issuer: &str,
        alg: &str,
        n: u32,
    ) -> Result<Reservation> {
        let capacity = self.inner.options.list_capacity.max(1);
        let keys = (self.lock_key(issuer), self.lock_key(""));
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let r = reserve(&tx, type_code, issuer, alg, n, capacity, keys).await?;
        tx.commit().await?;
        Ok(r)
    }

    async fn insert(&self, new: NewLicense) -> Result<EventRecord> {
        // Group commit: see `batch`.
        self.group_insert(new).await
    }

    async fn transition(&self, t: TransitionRecord) -> Result<EventRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let event = apply_transition(&tx, &t, self.layout()).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn license(&self, identifier: &str) -> Result<Option<LicenseRecord>> {
        let client = self.client().await?;
        let row = match self.layout() {
            Layout::Partitioned => {
                let st = client.prepare_cached(queries::LICENSE).await?;
                client.query_opt(&st, &[&identifier]).await?
            }
            Layout::Distributed => {
                let Some((lineage, version)) = claim(&client, identifier).await? else {
                    return Ok(None);
                };
                let st = client.prepare_cached(queries::LICENSE_BY_KEY).await?;
                client
                    .query_opt(&st, &[&lineage, &version, &identifier])
                    .await?
            }
        };
        row.map(|r| rows::license(&r)).transpose()
    }

    async fn metas(&self, identifiers: &[String]) -> Result<Vec<(String, String)>> {
        let client = self.client().await?;
        let rows = match self.layout() {
            Layout::Partitioned => {
                let st = client.prepare_cached(queries::METAS).await?;
                client.query(&st, &[&identifiers]).await?
            }
            // The claims (their shards of `license_ids`), then the versions by lineage (only
            // the shards of `licenses` that hold them): two statements without a join across
            // differently distributed tables, which Citus refuses.
            Layout::Distributed => {
                let st = client.prepare_cached(queries::CLAIMS).await?;
                let lineages: Vec<String> = client
                    .query(&st, &[&identifiers])
                    .await?
                    .iter()
                    .map(|r| rows::get(r, 0))
                    .collect::<Result<_>>()?;
                let st = client.prepare_cached(queries::METAS_BY_LINEAGE).await?;
                client.query(&st, &[&lineages, &identifiers]).await?
            }
        };
        rows::all(&rows, |r| Ok((rows::get(r, 0)?, rows::get(r, 1)?)))
    }

    async fn versions(&self, lineage: &str) -> Result<Vec<LicenseRecord>> {
        let client = self.client().await?;
        let st = client.prepare_cached(queries::VERSIONS).await?;
        rows::all(&client.query(&st, &[&lineage]).await?, rows::license)
    }

    async fn by_holder(&self, holder_key: &str) -> Result<Vec<LicenseRecord>> {
        let client = self.client().await?;
        let st = client.prepare_cached(queries::BY_HOLDER).await?;
        rows::all(&client.query(&st, &[&holder_key]).await?, rows::license)
    }

    async fn represented_by(&self, representative_key: &str) -> Result<Vec<LicenseRecord>> {
        let client = self.client().await?;
        let st = client.prepare_cached(queries::REPRESENTED_BY).await?;
        rows::all(
            &client.query(&st, &[&representative_key]).await?,
            rows::license,
        )
    }

    async fn expiring(&self, before: i64, limit: u32) -> Result<Vec<String>> {
        let client = self.client().await?;
        let st = client.prepare_cached(queries::EXPIRING).await?;
        let rows = client.query(&st, &[&before, &i64::from(limit)]).await?;
        rows.iter().map(|r| get(r, 0)).collect()
    }

    async fn events(&self, lineage: &str) -> Result<Vec<EventRecord>> {
        let client = self.client().await?;
        let st = client.prepare_cached(queries::EVENTS).await?;
        rows::all(&client.query(&st, &[&lineage]).await?, rows::event)
    }

    async fn count(&self) -> Result<u64> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT count(*) FROM licenses")
            .await?;
        rows::get_u64(&client.query_one(&st, &[]).await?, 0)
    }
}
