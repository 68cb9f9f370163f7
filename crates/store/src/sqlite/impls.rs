//! The storage traits on SQLite.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::log::LeafState;
use crate::records::*;
use crate::traits::*;

const LICENSE_COLUMNS: &str = "identifier, lineage, version, type_code, catalogue_version, \
    issuer, holder_key, status, status_value, pledged, meta, credential, alg, kid, status_list, \
    status_idx, issued_at, valid_until, updated_at, representative_key";

fn license_from_row(r: &Row<'_>) -> rusqlite::Result<LicenseRecord> {
    Ok(LicenseRecord {
        identifier: r.get(0)?,
        lineage: r.get(1)?,
        version: r.get(2)?,
        type_code: r.get(3)?,
        catalogue_version: r.get(4)?,
        issuer: r.get(5)?,
        holder_key: r.get(6)?,
        status: r.get(7)?,
        status_value: r.get(8)?,
        pledged: r.get(9)?,
        meta: r.get(10)?,
        credential: r.get(11)?,
        alg: r.get(12)?,
        kid: r.get(13)?,
        status_list: r.get(14)?,
        status_idx: r.get(15)?,
        issued_at: r.get(16)?,
        valid_until: r.get(17)?,
        updated_at: r.get(18)?,
        representative_key: r.get(19)?,
    })
}

const EVENT_COLUMNS: &str = "seq, identifier, kind, actor, at, reason, detail, reason_category";

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        seq: r.get(0)?,
        identifier: r.get(1)?,
        kind: r.get(2)?,
        actor: r.get(3)?,
        at: r.get(4)?,
        reason: r.get(5)?,
        detail: r.get(6)?,
        reason_category: r.get(7)?,
    })
}

const KEY_COLUMNS: &str =
    "kid, issuer, alg, public_jwk, encrypted_pem, sm2_signer_id, not_before, not_after, revoked_at";

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        kid: r.get(0)?,
        issuer: r.get(1)?,
        alg: r.get(2)?,
        public_jwk: r.get(3)?,
        encrypted_pem: r.get(4)?,
        sm2_signer_id: r.get(5)?,
        not_before: r.get(6)?,
        not_after: r.get(7)?,
        revoked_at: r.get(8)?,
    })
}

fn list_from_row(r: &Row<'_>) -> rusqlite::Result<StatusListRecord> {
    Ok(StatusListRecord {
        id: r.get(0)?,
        issuer: r.get(1)?,
        len: r.get(2)?,
        alg: r.get(3)?,
    })
}

fn import_row_from_row(r: &Row<'_>) -> rusqlite::Result<ImportRowRecord> {
    Ok(ImportRowRecord {
        job: r.get(0)?,
        row: r.get(1)?,
        identifier: r.get(2)?,
        error_code: r.get(3)?,
        error_message: r.get(4)?,
    })
}

fn insert_license(conn: &Connection, l: &LicenseRecord) -> Result<()> {
    let sql = format!(
        "INSERT INTO licenses ({LICENSE_COLUMNS}) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
         ?20)"
    );
    conn.prepare_cached(&sql)?
        .execute(params![
            l.identifier,
            l.lineage,
            l.version,
            l.type_code,
            l.catalogue_version,
            l.issuer,
            l.holder_key,
            l.status,
            l.status_value,
            l.pledged,
            l.meta,
            l.credential,
            l.alg,
            l.kid,
            l.status_list,
            l.status_idx,
            l.issued_at,
            l.valid_until,
            l.updated_at,
            l.representative_key,
        ])
        .map_err(|e| match StoreError::from(e) {
            StoreError::Duplicate(_) => {
                StoreError::Duplicate(format!("license {} (or its status slot)", l.identifier))
            }
            other => other,
        })?;
    Ok(())
}

/// Appends an event; its lineage is that of the license version it names. `affects_status`
/// is false for events that leave every status as it was (they do not move the status epoch).
fn insert_event(conn: &Connection, e: &EventRecord, affects_status: bool) -> Result<EventRecord> {
    let n = conn
        .prepare_cached(
            "INSERT INTO events (identifier, lineage, kind, actor, at, reason, detail, \
             affects_status, reason_category) \
             SELECT ?1, lineage, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM licenses WHERE identifier = ?1",
        )?
        .execute(params![
            e.identifier,
            e.kind,
            e.actor,
            e.at,
            e.reason,
            e.detail,
            affects_status,
            e.reason_category
        ])?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("license {}", e.identifier)));
    }
    Ok(EventRecord {
        seq: conn.last_insert_rowid(),
        ..e.clone()
    })
}

fn insert_import_row(conn: &Connection, r: &ImportRowRecord) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO import_rows (job, row, identifier, error_code, error_message) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        r.job,
        r.row,
        r.identifier,
        r.error_code,
        r.error_message
    ])?;
    Ok(())
}

fn insert_new(conn: &Connection, new: &NewLicense) -> Result<EventRecord> {
    insert_license(conn, &new.license)?;
    let event = insert_event(conn, &new.event, true)?;
    let l = &new.license;
    let state = LeafState {
        status: &l.status,
        pledged: l.pledged,
        credential: &l.credential,
    };
    super::log::append_lifecycle(conn, &event, state)?;
    if let Some(row) = &new.import_row {
        insert_import_row(conn, row)?;
    }
    Ok(event)
}

fn reserve(
    conn: &Connection,
    type_code: &str,
    issuer: &str,
    alg: &str,
    n: u32,
    capacity: u32,
) -> Result<Reservation> {
    conn.prepare_cached(
        "INSERT INTO serials (type_code, issuer, next) VALUES (?1, ?2, 1) \
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![type_code, issuer])?;
    let first: u64 = conn
        .prepare_cached(
            "UPDATE serials SET next = next + ?3 WHERE type_code = ?1 AND issuer = ?2 \
             RETURNING next - ?3",
        )?
        .query_row(params![type_code, issuer, n], |r| r.get(0))?;
    let mut slots = Vec::with_capacity(n as usize);
    while slots.len() < n as usize {
        let last: Option<(u32, u32)> = conn
            .prepare_cached(
                "SELECT id, len FROM status_lists WHERE issuer = ?1 AND alg = ?2 \
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![issuer, alg], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (list, len) = match last {
            Some((id, len)) if len < capacity => (id, len),
            _ => {
                let next: u32 = conn
                    .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM status_lists")?
                    .query_row([], |r| r.get(0))?;
                (next, 0)
            }
        };
        let take = (capacity - len).min(n - slots.len() as u32);
        conn.prepare_cached(
            "INSERT INTO status_lists (id, issuer, len, alg) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET len = excluded.len",
        )?
        .execute(params![list, issuer, len + take, alg])?;
        slots.extend((len..len + take).map(|idx| (list, idx)));
    }
    Ok(Reservation {
        first_serial: first,
        slots,
    })
}

fn apply_transition(conn: &Connection, t: &TransitionRecord) -> Result<EventRecord> {
    let credential: Option<String> = conn
        .prepare_cached(
            "UPDATE licenses SET status = ?1, status_value = ?2, pledged = ?3, updated_at = ?4 \
             WHERE identifier = ?5 AND status = ?6 AND pledged = ?7 RETURNING credential",
        )?
        .query_row(
            params![
                t.new_status,
                t.new_status_value,
                t.new_pledged,
                t.at,
                t.identifier,
                t.expected_status,
                t.expected_pledged
            ],
            |r| r.get(0),
        )
        .optional()?;
    let Some(credential) = credential else {
        let exists: bool = conn
            .prepare_cached("SELECT 1 FROM licenses WHERE identifier = ?1")?
            .exists(params![t.identifier])?;
        return Err(if exists {
            StoreError::Conflict(format!("license {} changed meanwhile", t.identifier))
        } else {
            StoreError::NotFound(format!("license {}", t.identifier))
        });
    };
    let event = insert_event(conn, &t.event, true)?;
    let state = LeafState {
        status: &t.new_status,
        pledged: t.new_pledged,
        credential: &credential,
    };
    super::log::append_lifecycle(conn, &event, state)?;
    if let Some(next) = &t.successor {
        insert_new(conn, next)?;
    }
    if t.end_authorizations {
        conn.prepare_cached(
            "UPDATE authorizations SET ended_at = ?1 WHERE withdrawn_at IS NULL \
             AND ended_at IS NULL \
             AND lineage = (SELECT lineage FROM licenses WHERE identifier = ?2)",
        )?
        .execute(params![t.at, t.identifier])?;
    }
    Ok(event)
}

/// Appends an event that leaves its license as it is (a use, an authorization) and its log
/// entry, which carries the version's current status, pledge and credential. `NotFound` if the
/// license does not exist. Runs on the writer, so no transition can come in between.
pub(super) fn append_use_event(conn: &Connection, e: &EventRecord) -> Result<EventRecord> {
    let current: Option<(String, bool, String)> = conn
        .prepare_cached("SELECT status, pledged, credential FROM licenses WHERE identifier = ?1")?
        .query_row(params![e.identifier], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((status, pledged, credential)) = current else {
        return Err(StoreError::NotFound(format!("license {}", e.identifier)));
    };
    let event = insert_event(conn, e, false)?;
    let state = LeafState {
        status: &status,
        pledged,
        credential: &credential,
    };
    super::log::append_use(conn, &event, state)?;
    Ok(event)
}

#[async_trait]
impl CatalogueStore for SqliteStore {
    async fn put_type(&self, code: &str, definition: &str, at: i64) -> Result<u32> {
        let (code, definition) = (code.to_owned(), definition.to_owned());
        self.write(move |conn| {
            let latest: Option<(u32, String)> = conn
                .query_row(
                    "SELECT version, definition FROM catalogue WHERE code = ?1 \
                     ORDER BY version DESC LIMIT 1",
                    params![code],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match latest {
                Some((v, d)) if d == definition => Ok(v),
                other => {
                    let v = other.map_or(1, |(v, _)| v + 1);
                    conn.execute(
                        "INSERT INTO catalogue (code, version, definition, created_at) \
                         VALUES (?1, ?2, ?3, ?4)",
                        params![code, v, definition, at],
                    )?;
                    Ok(v)
                }
            }
        })
        .await
    }

    async fn types(&self) -> Result<Vec<CatalogueEntry>> {
        self.read(|conn| {
            let mut st = conn.prepare(
                "SELECT c.code, c.version, c.definition, c.created_at FROM catalogue c \
                 WHERE c.version = (SELECT MAX(version) FROM catalogue WHERE code = c.code) \
                 ORDER BY c.code",
            )?;
            let rows = st.query_map([], |r| {
                Ok(CatalogueEntry {
                    code: r.get(0)?,
                    version: r.get(1)?,
                    definition: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn type_version(
        &self,
        code: &str,
        version: Option<u32>,
    ) -> Result<Option<CatalogueEntry>> {
        let code = code.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT code, version, definition, created_at FROM catalogue \
                     WHERE code = ?1 AND (?2 IS NULL OR version = ?2) \
                     ORDER BY version DESC LIMIT 1",
                    params![code, version],
                    |r| {
                        Ok(CatalogueEntry {
                            code: r.get(0)?,
                            version: r.get(1)?,
                            definition: r.get(2)?,
                            created_at: r.get(3)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }
}

#[async_trait]
impl IssuerStore for SqliteStore {
    async fn put_issuer(&self, i: IssuerRecord) -> Result<()> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO issuers (code, name, area) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, area = excluded.area",
                params![i.code, i.name, i.area],
            )?;
            Ok(())
        })
        .await
    }

    async fn issuers(&self) -> Result<Vec<IssuerRecord>> {
        self.read(|conn| {
            let mut st = conn.prepare(
                "SELECT code, name, area, successor, ended_at FROM issuers ORDER BY code",
            )?;
            let rows = st.query_map([], |r| {
                Ok(IssuerRecord {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    area: r.get(2)?,
                    successor: r.get(3)?,
                    ended_at: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn issuer(&self, code: &str) -> Result<Option<IssuerRecord>> {
        let code = code.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT code, name, area, successor, ended_at FROM issuers WHERE code = ?1",
                    params![code],
                    |r| {
                        Ok(IssuerRecord {
                            code: r.get(0)?,
                            name: r.get(1)?,
                            area: r.get(2)?,
                            successor: r.get(3)?,
                            ended_at: r.get(4)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn put_key(&self, k: KeyRecord) -> Result<()> {
        self.write(move |conn| {
            conn.execute(
                &format!(
                    "INSERT INTO issuer_keys ({KEY_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"
                ),
                params![
                    k.kid,
                    k.issuer,
                    k.alg,
                    k.public_jwk,
                    k.encrypted_pem,
                    k.sm2_signer_id,
                    k.not_before,
                    k.not_after,
                    k.revoked_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn keys(&self, issuer: &str) -> Result<Vec<KeyRecord>> {
        let issuer = issuer.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {KEY_COLUMNS} FROM issuer_keys WHERE issuer = ?1 ORDER BY not_before, rowid"
            ))?;
            let rows = st.query_map(params![issuer], key_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn all_keys(&self) -> Result<Vec<KeyRecord>> {
        self.read(|conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {KEY_COLUMNS} FROM issuer_keys ORDER BY not_before, rowid"
            ))?;
            let rows = st.query_map([], key_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn put_api_key(&self, k: ApiKeyRecord) -> Result<()> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO api_keys (id, hash, issuer, label, created_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![k.id, k.hash, k.issuer, k.label, k.created_at, k.revoked_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, hash, issuer, label, created_at, revoked_at FROM api_keys \
                     WHERE id = ?1",
                    params![id],
                    |r| {
                        Ok(ApiKeyRecord {
                            id: r.get(0)?,
                            hash: r.get(1)?,
                            issuer: r.get(2)?,
                            label: r.get(3)?,
                            created_at: r.get(4)?,
                            revoked_at: r.get(5)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }
}

#[async_trait]
impl LicenseStore for SqliteStore {
    async fn reserve(
        &self,
        type_code: &str,
        issuer: &str,
        alg: &str,
        n: u32,
    ) -> Result<Reservation> {
        let (type_code, issuer, alg) = (type_code.to_owned(), issuer.to_owned(), alg.to_owned());
        let capacity = self.inner.options.list_capacity;
        self.write(move |conn| reserve(conn, &type_code, &issuer, &alg, n, capacity))
            .await
    }

    async fn insert(&self, new: NewLicense) -> Result<EventRecord> {
        self.write(move |conn| insert_new(conn, &new)).await
    }

    async fn transition(&self, t: TransitionRecord) -> Result<EventRecord> {
        self.write(move |conn| apply_transition(conn, &t)).await
    }

    async fn license(&self, identifier: &str) -> Result<Option<LicenseRecord>> {
        let id = identifier.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {LICENSE_COLUMNS} FROM licenses WHERE identifier = ?1"
                ))?
                .query_row(params![id], license_from_row)
                .optional()?)
        })
        .await
    }

    async fn metas(&self, identifiers: &[String]) -> Result<Vec<(String, String)>> {
        let ids = identifiers.to_vec();
        // One read task and one prepared statement for the lot: a point read by primary key
        // is a few microseconds, a blocking task per read many times that.
        self.read(move |conn| {
            let mut st = conn.prepare_cached("SELECT meta FROM licenses WHERE identifier = ?1")?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(meta) = st.query_row(params![id], |r| r.get(0)).optional()? {
                    out.push((id, meta));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn versions(&self, lineage: &str) -> Result<Vec<LicenseRecord>> {
        let lineage = lineage.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {LICENSE_COLUMNS} FROM licenses WHERE lineage = ?1 ORDER BY version"
            ))?;
            let rows = st.query_map(params![lineage], license_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn by_holder(&self, holder_key: &str) -> Result<Vec<LicenseRecord>> {
        let key = holder_key.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {LICENSE_COLUMNS} FROM licenses WHERE holder_key = ?1 \
                 ORDER BY issued_at DESC, identifier"
            ))?;
            let rows = st.query_map(params![key], license_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn represented_by(&self, representative_key: &str) -> Result<Vec<LicenseRecord>> {
        let key = representative_key.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {LICENSE_COLUMNS} FROM licenses WHERE representative_key = ?1 \
                 AND status <> 'superseded' ORDER BY issued_at DESC, identifier"
            ))?;
            let rows = st.query_map(params![key], license_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn expiring(&self, before: i64, limit: u32) -> Result<Vec<String>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT identifier FROM licenses WHERE status IN ('valid', 'suspended') \
                 AND valid_until IS NOT NULL AND valid_until < ?1 ORDER BY valid_until LIMIT ?2",
            )?;
            let rows = st.query_map(params![before, limit], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn events(&self, lineage: &str) -> Result<Vec<EventRecord>> {
        let lineage = lineage.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE lineage = ?1 ORDER BY seq"
            ))?;
            let rows = st.query_map(params![lineage], event_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn count(&self) -> Result<u64> {
        self.read(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM licenses", [], |r| r.get(0))?))
            .await
    }
}

#[async_trait]
impl StatusListStore for SqliteStore {
    async fn lists(&self) -> Result<Vec<StatusListRecord>> {
        self.read(|conn| {
            let mut st =
                conn.prepare("SELECT id, issuer, len, alg FROM status_lists ORDER BY id")?;
            let rows = st.query_map([], list_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn list(&self, id: u32) -> Result<Option<StatusListRecord>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT id, issuer, len, alg FROM status_lists WHERE id = ?1")?
                .query_row(params![id], list_from_row)
                .optional()?)
        })
        .await
    }

    async fn non_valid(&self, list: u32) -> Result<Vec<StatusEntry>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT status_idx, status_value FROM licenses \
                 WHERE status_list = ?1 AND status_value <> 0",
            )?;
            let rows = st.query_map(params![list], |r| {
                Ok(StatusEntry {
                    idx: r.get(0)?,
                    status: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn status_epoch(&self) -> Result<i64> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT seq FROM events WHERE affects_status = 1 ORDER BY seq DESC LIMIT 1",
                )?
                .query_row([], |r| r.get(0))
                .optional()?
                .unwrap_or(0))
        })
        .await
    }
}

#[async_trait]
impl ImportJournal for SqliteStore {
    async fn begin_job(&self, job: &str, source: &str, at: i64) -> Result<Vec<ImportRowRecord>> {
        let (job, source) = (job.to_owned(), source.to_owned());
        let j = job.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO import_jobs (job, source, started_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                params![j, source, at],
            )?;
            Ok(())
        })
        .await?;
        self.job_rows(&job).await
    }

    async fn record_failure(&self, row: ImportRowRecord) -> Result<()> {
        self.write(move |conn| insert_import_row(conn, &row)).await
    }

    async fn job_rows(&self, job: &str) -> Result<Vec<ImportRowRecord>> {
        let job = job.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare(
                "SELECT job, row, identifier, error_code, error_message FROM import_rows \
                 WHERE job = ?1 ORDER BY row",
            )?;
            let rows = st.query_map(params![job], import_row_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}
