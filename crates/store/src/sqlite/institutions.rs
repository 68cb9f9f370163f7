//! Relying institutions, their API keys and their sharing requests on SQLite (tables of
//! migration 4, see `schema`). Every write runs on the writer thread; a request and its
//! decision append their events and log entries in the same job (savepoint) through
//! `impls::append_use_event`, as an authorization does, so they commit together or not at all.
//!
//! `institutions.matters` is a JSON array of strings.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::impls::append_use_event;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::records::*;
use crate::traits::InstitutionStore;

const INSTITUTION_COLUMNS: &str = "code, name, area, matters, created_at, disabled_at";

/// An institution row; `matters` that is not a JSON array of strings is a conversion failure
/// (`Corrupt`).
fn institution_from_row(r: &Row<'_>) -> rusqlite::Result<InstitutionRecord> {
    let matters: String = r.get(3)?;
    let matters = serde_json::from_str(&matters).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(InstitutionRecord {
        code: r.get(0)?,
        name: r.get(1)?,
        area: r.get(2)?,
        matters,
        created_at: r.get(4)?,
        disabled_at: r.get(5)?,
    })
}

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        hash: r.get(1)?,
        issuer: r.get(2)?,
        label: r.get(3)?,
        created_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}

const STAFF_COLUMNS: &str =
    "institution, username, name, matters, created_at, disabled_at, person_key";

fn staff_from_row(r: &Row<'_>) -> rusqlite::Result<StaffRecord> {
    let matters: String = r.get(3)?;
    Ok(StaffRecord {
        institution: r.get(0)?,
        username: r.get(1)?,
        name: r.get(2)?,
        matters: serde_json::from_str(&matters).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
        })?,
        created_at: r.get(4)?,
        disabled_at: r.get(5)?,
        person_key: r.get(6)?,
    })
}

const SHARE_COLUMNS: &str = "id, institution, staff, matter, purpose, identifier, lineage, \
    holder_key, basis, state, created_at, expires_at, decided_at, copy, copy_until, keep_days";

/// Newest first; the id breaks ties.
const SHARES_ORDER: &str = "ORDER BY created_at DESC, id DESC";

fn share_from_row(r: &Row<'_>) -> rusqlite::Result<ShareRecord> {
    Ok(ShareRecord {
        id: r.get(0)?,
        institution: r.get(1)?,
        staff: r.get(2)?,
        matter: r.get(3)?,
        purpose: r.get(4)?,
        identifier: r.get(5)?,
        lineage: r.get(6)?,
        holder_key: r.get(7)?,
        basis: r.get(8)?,
        state: r.get(9)?,
        created_at: r.get(10)?,
        expires_at: r.get(11)?,
        decided_at: r.get(12)?,
        copy: r.get(13)?,
        copy_until: r.get(14)?,
        keep_days: r.get(15)?,
    })
}

pub(super) fn insert_share(conn: &Connection, s: &ShareRecord) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO shares ({SHARE_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    ))?
    .execute(params![
        s.id,
        s.institution,
        s.staff,
        s.matter,
        s.purpose,
        s.identifier,
        s.lineage,
        s.holder_key,
        s.basis,
        s.state,
        s.created_at,
        s.expires_at,
        s.decided_at,
        s.copy,
        s.copy_until,
        s.keep_days
    ])?;
    Ok(())
}

/// Appends `events` in order; the first that fails fails the job (its savepoint rolls back).
pub(super) fn append_use_events(
    conn: &Connection,
    events: &[EventRecord],
) -> Result<Vec<EventRecord>> {
    events.iter().map(|e| append_use_event(conn, e)).collect()
}

fn decide(
    conn: &Connection,
    id: &str,
    state: &str,
    at: i64,
    copy: Option<(String, i64)>,
    events: &[EventRecord],
) -> Result<Vec<EventRecord>> {
    let (copy, copy_until) = copy.unzip();
    let n = conn
        .prepare_cached(
            "UPDATE shares SET state = ?2, decided_at = ?3, copy = ?4, copy_until = ?5 \
             WHERE id = ?1 AND state = 'pending'",
        )?
        .execute(params![id, state, at, copy, copy_until])?;
    if n == 0 {
        let exists = conn
            .prepare_cached("SELECT 1 FROM shares WHERE id = ?1")?
            .exists(params![id])?;
        return Err(if exists {
            StoreError::Conflict(format!("share {id} is no longer pending"))
        } else {
            StoreError::NotFound(format!("share {id}"))
        });
    }
    append_use_events(conn, events)
}

#[async_trait]
impl InstitutionStore for SqliteStore {
    async fn put_institution(&self, i: InstitutionRecord) -> Result<()> {
        let matters = serde_json::to_string(&i.matters).expect("strings always serialise");
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO institutions ({INSTITUTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, area = excluded.area, \
                 matters = excluded.matters"
            ))?
            .execute(params![
                i.code,
                i.name,
                i.area,
                matters,
                i.created_at,
                i.disabled_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn institution(&self, code: &str) -> Result<Option<InstitutionRecord>> {
        let code = code.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE code = ?1"
                ))?
                .query_row(params![code], institution_from_row)
                .optional()?)
        })
        .await
    }

    async fn put_staff(&self, s: StaffRecord) -> Result<()> {
        let matters = serde_json::to_string(&s.matters).expect("strings always serialise");
        self.write(move |conn| {
            let known = conn
                .prepare_cached("SELECT 1 FROM institutions WHERE code = ?1")?
                .exists(params![s.institution])?;
            if !known {
                return Err(StoreError::NotFound(format!(
                    "institution {}",
                    s.institution
                )));
            }
            conn.prepare_cached(&format!(
                "INSERT INTO staff ({STAFF_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (institution, username) DO UPDATE SET name = excluded.name, \
                 matters = excluded.matters, person_key = excluded.person_key"
            ))?
            .execute(params![
                s.institution,
                s.username,
                s.name,
                matters,
                s.created_at,
                s.disabled_at,
                s.person_key
            ])?;
            Ok(())
        })
        .await
    }

    async fn put_form(&self, f: FormRecord) -> Result<()> {
        self.write(move |conn| {
            let known = conn
                .prepare_cached("SELECT 1 FROM institutions WHERE code = ?1")?
                .exists(params![f.institution])?;
            if !known {
                return Err(StoreError::NotFound(format!(
                    "institution {}",
                    f.institution
                )));
            }
            conn.prepare_cached(
                "INSERT INTO forms (institution, matter, fields, updated_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (institution, matter) DO UPDATE SET \
                 fields = excluded.fields, updated_at = excluded.updated_at",
            )?
            .execute(params![f.institution, f.matter, f.fields, f.updated_at])?;
            Ok(())
        })
        .await
    }

    async fn form(&self, institution: &str, matter: &str) -> Result<Option<FormRecord>> {
        let (i, m) = (institution.to_owned(), matter.to_owned());
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT institution, matter, fields, updated_at FROM forms \
                     WHERE institution = ?1 AND matter = ?2",
                )?
                .query_row(params![i, m], |r| {
                    Ok(FormRecord {
                        institution: r.get(0)?,
                        matter: r.get(1)?,
                        fields: r.get(2)?,
                        updated_at: r.get(3)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn staff(&self, institution: &str, username: &str) -> Result<Option<StaffRecord>> {
        let (i, u) = (institution.to_owned(), username.to_owned());
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {STAFF_COLUMNS} FROM staff WHERE institution = ?1 AND username = ?2"
                ))?
                .query_row(params![i, u], staff_from_row)
                .optional()?)
        })
        .await
    }

    async fn staff_of(&self, institution: &str) -> Result<Vec<StaffRecord>> {
        let i = institution.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE institution = ?1 ORDER BY username"
            ))?;
            let rows = st.query_map(params![i], staff_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn staff_by_person(&self, person_key: &str) -> Result<Vec<StaffRecord>> {
        let k = person_key.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE person_key = ?1 \
                 ORDER BY institution, username"
            ))?;
            let rows = st.query_map(params![k], staff_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn set_staff_disabled(
        &self,
        institution: &str,
        username: &str,
        disabled_at: Option<i64>,
    ) -> Result<bool> {
        let (i, u) = (institution.to_owned(), username.to_owned());
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE staff SET disabled_at = ?3 WHERE institution = ?1 AND username = ?2",
                )?
                .execute(params![i, u, disabled_at])?;
            Ok(n > 0)
        })
        .await
    }

    async fn institutions(&self) -> Result<Vec<InstitutionRecord>> {
        self.read(|conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {INSTITUTION_COLUMNS} FROM institutions ORDER BY code"
            ))?;
            let rows = st.query_map([], institution_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn put_institution_key(&self, k: ApiKeyRecord) -> Result<()> {
        self.write(move |conn| {
            // Inserts only for a known institution: no row means `NotFound`; a taken id is
            // still a constraint violation (`Duplicate`).
            let n = conn
                .prepare_cached(
                    "INSERT INTO institution_keys \
                     (id, hash, institution, label, created_at, revoked_at) \
                     SELECT ?1, ?2, code, ?4, ?5, ?6 FROM institutions WHERE code = ?3",
                )?
                .execute(params![
                    k.id,
                    k.hash,
                    k.issuer,
                    k.label,
                    k.created_at,
                    k.revoked_at
                ])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("institution {}", k.issuer)));
            }
            Ok(())
        })
        .await
    }

    async fn institution_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, hash, institution, label, created_at, revoked_at \
                     FROM institution_keys WHERE id = ?1",
                )?
                .query_row(params![id], key_from_row)
                .optional()?)
        })
        .await
    }

    async fn put_share(
        &self,
        s: ShareRecord,
        events: Vec<EventRecord>,
    ) -> Result<Vec<EventRecord>> {
        self.write(move |conn| {
            insert_share(conn, &s)?;
            append_use_events(conn, &events)
        })
        .await
    }

    async fn share(&self, id: &str) -> Result<Option<ShareRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {SHARE_COLUMNS} FROM shares WHERE id = ?1"))?
                .query_row(params![id], share_from_row)
                .optional()?)
        })
        .await
    }

    async fn shares_for_holders(&self, holder_keys: &[String]) -> Result<Vec<ShareRecord>> {
        if holder_keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = serde_json::to_string(holder_keys).expect("strings always serialise");
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {SHARE_COLUMNS} FROM shares \
                 WHERE holder_key IN (SELECT value FROM json_each(?1)) {SHARES_ORDER}"
            ))?;
            let rows = st.query_map(params![keys], share_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn shares_of_institution(
        &self,
        institution: &str,
        limit: u32,
    ) -> Result<Vec<ShareRecord>> {
        let institution = institution.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {SHARE_COLUMNS} FROM shares WHERE institution = ?1 {SHARES_ORDER} \
                 LIMIT ?2"
            ))?;
            let rows = st.query_map(params![institution, limit], share_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn decide_share(
        &self,
        id: &str,
        state: &str,
        at: i64,
        copy: Option<(String, i64)>,
        events: Vec<EventRecord>,
    ) -> Result<Vec<EventRecord>> {
        let (id, state) = (id.to_owned(), state.to_owned());
        self.write(move |conn| decide(conn, &id, &state, at, copy, &events))
            .await
    }
}
