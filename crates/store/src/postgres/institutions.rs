//! Relying institutions, their API keys and their sharing requests on PostgreSQL (tables of
//! migration 5, see `schema`).
//!
//! A request and its decision are written like an authorization: one transaction that holds
//! the event-order lock, writes the row, appends the events and their log entries through
//! `licenses::append_use_event`, and commits; `Ok` means all of it committed.

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::distributed::Layout;
use super::licenses::{append_use_event, hold_event_order};
use super::rows::{self, get};
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::records::*;
use crate::traits::InstitutionStore;

const INSTITUTION_COLUMNS: &str = "code, name, area, matters, created_at, disabled_at";

fn institution(r: &Row) -> Result<InstitutionRecord> {
    Ok(InstitutionRecord {
        code: get(r, 0)?,
        name: get(r, 1)?,
        area: get(r, 2)?,
        matters: get(r, 3)?,
        created_at: get(r, 4)?,
        disabled_at: get(r, 5)?,
    })
}

const STAFF_COLUMNS: &str =
    "institution, username, name, matters, created_at, disabled_at, person_key";

fn staff(r: &Row) -> Result<StaffRecord> {
    Ok(StaffRecord {
        institution: get(r, 0)?,
        username: get(r, 1)?,
        name: get(r, 2)?,
        matters: get(r, 3)?,
        created_at: get(r, 4)?,
        disabled_at: get(r, 5)?,
        person_key: get(r, 6)?,
    })
}

const SHARE_COLUMNS: &str = "id, institution, staff, matter, purpose, identifier, lineage, \
    holder_key, basis, state, created_at, expires_at, decided_at, copy, copy_until, keep_days";

/// Newest first; the id breaks ties.
const SHARES_ORDER: &str = "ORDER BY created_at DESC, id DESC";

fn share(r: &Row) -> Result<ShareRecord> {
    Ok(ShareRecord {
        id: get(r, 0)?,
        institution: get(r, 1)?,
        staff: get(r, 2)?,
        matter: get(r, 3)?,
        purpose: get(r, 4)?,
        identifier: get(r, 5)?,
        lineage: get(r, 6)?,
        holder_key: get(r, 7)?,
        basis: get(r, 8)?,
        state: get(r, 9)?,
        created_at: get(r, 10)?,
        expires_at: get(r, 11)?,
        decided_at: get(r, 12)?,
        copy: get(r, 13)?,
        copy_until: get(r, 14)?,
        keep_days: rows::get_u32(r, 15)?,
    })
}

/// Inserts a sharing request (in the caller's transaction).
pub(super) async fn insert_share(tx: &Transaction<'_>, s: &ShareRecord) -> Result<()> {
    let st = tx
        .prepare_cached(&format!(
            "INSERT INTO shares ({SHARE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .await?;
    tx.execute(
        &st,
        &[
            &s.id,
            &s.institution,
            &s.staff,
            &s.matter,
            &s.purpose,
            &s.identifier,
            &s.lineage,
            &s.holder_key,
            &s.basis,
            &s.state,
            &s.created_at,
            &s.expires_at,
            &s.decided_at,
            &s.copy,
            &s.copy_until,
            &i64::from(s.keep_days),
        ],
    )
    .await?;
    Ok(())
}

/// Appends `events` in order; the first that fails fails the transaction.
pub(super) async fn append_use_events(
    tx: &Transaction<'_>,
    events: &[EventRecord],
    layout: Layout,
) -> Result<Vec<EventRecord>> {
    let mut stored = Vec::with_capacity(events.len());
    for e in events {
        stored.push(append_use_event(tx, e, layout).await?);
    }
    Ok(stored)
}

#[async_trait]
impl InstitutionStore for PgStore {
    async fn put_institution(&self, i: InstitutionRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO institutions ({INSTITUTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, area = excluded.area, \
                 matters = excluded.matters"
            ))
            .await?;
        client
            .execute(
                &st,
                &[
                    &i.code,
                    &i.name,
                    &i.area,
                    &i.matters,
                    &i.created_at,
                    &i.disabled_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn institution(&self, code: &str) -> Result<Option<InstitutionRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {INSTITUTION_COLUMNS} FROM institutions WHERE code = $1"
            ))
            .await?;
        client
            .query_opt(&st, &[&code])
            .await?
            .map(|r| institution(&r))
            .transpose()
    }

    async fn put_staff(&self, s: StaffRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO staff ({STAFF_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7 \
                 WHERE EXISTS (SELECT 1 FROM institutions WHERE code = $1) \
                 ON CONFLICT (institution, username) DO UPDATE SET name = excluded.name, \
                 matters = excluded.matters, person_key = excluded.person_key"
            ))
            .await?;
        let n = client
            .execute(
                &st,
                &[
                    &s.institution,
                    &s.username,
                    &s.name,
                    &s.matters,
                    &s.created_at,
                    &s.disabled_at,
                    &s.person_key,
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "institution {}",
                s.institution
            )));
        }
        Ok(())
    }

    async fn put_form(&self, f: FormRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO forms (institution, matter, fields, updated_at) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM institutions WHERE code = $1) \
                 ON CONFLICT (institution, matter) DO UPDATE SET fields = excluded.fields, \
                 updated_at = excluded.updated_at",
            )
            .await?;
        let n = client
            .execute(&st, &[&f.institution, &f.matter, &f.fields, &f.updated_at])
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "institution {}",
                f.institution
            )));
        }
        Ok(())
    }

    async fn form(&self, institution: &str, matter: &str) -> Result<Option<FormRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT institution, matter, fields, updated_at FROM forms \
                 WHERE institution = $1 AND matter = $2",
            )
            .await?;
        client
            .query_opt(&st, &[&institution, &matter])
            .await?
            .map(|r| {
                Ok(FormRecord {
                    institution: get(&r, 0)?,
                    matter: get(&r, 1)?,
                    fields: get(&r, 2)?,
                    updated_at: get(&r, 3)?,
                })
            })
            .transpose()
    }

    async fn staff(&self, institution: &str, username: &str) -> Result<Option<StaffRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE institution = $1 AND username = $2"
            ))
            .await?;
        client
            .query_opt(&st, &[&institution, &username])
            .await?
            .map(|r| staff(&r))
            .transpose()
    }

    async fn staff_by_person(&self, person_key: &str) -> Result<Vec<StaffRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE person_key = $1 \
                 ORDER BY institution, username"
            ))
            .await?;
        rows::all(&client.query(&st, &[&person_key]).await?, staff)
    }

    async fn staff_of(&self, institution: &str) -> Result<Vec<StaffRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE institution = $1 ORDER BY username"
            ))
            .await?;
        rows::all(&client.query(&st, &[&institution]).await?, staff)
    }

    async fn set_staff_disabled(
        &self,
        institution: &str,
        username: &str,
        disabled_at: Option<i64>,
    ) -> Result<bool> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "UPDATE staff SET disabled_at = $3 WHERE institution = $1 AND username = $2",
            )
            .await?;
        Ok(client
            .execute(&st, &[&institution, &username, &disabled_at])
            .await?
            > 0)
    }

    async fn institutions(&self) -> Result<Vec<InstitutionRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {INSTITUTION_COLUMNS} FROM institutions ORDER BY code"
            ))
            .await?;
        rows::all(&client.query(&st, &[]).await?, institution)
    }

    async fn put_institution_key(&self, k: ApiKeyRecord) -> Result<()> {
        let client = self.client().await?;
        // Inserts only for a known institution: no row means `NotFound`; a taken id is still
        // a unique violation (`Duplicate`).
        let st = client
            .prepare_cached(
                "INSERT INTO institution_keys \
                 (id, hash, institution, label, created_at, revoked_at) \
                 SELECT $1::text, $2::text, code, $4::text, $5::bigint, $6::bigint \
                 FROM institutions WHERE code = $3::text",
            )
            .await?;
        let n = client
            .execute(
                &st,
                &[
                    &k.id,
                    &k.hash,
                    &k.issuer,
                    &k.label,
                    &k.created_at,
                    &k.revoked_at,
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("institution {}", k.issuer)));
        }
        Ok(())
    }

    async fn institution_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT id, hash, institution, label, created_at, revoked_at \
                 FROM institution_keys WHERE id = $1",
            )
            .await?;
        client
            .query_opt(&st, &[&id])
            .await?
            .map(|r| rows::api_key(&r))
            .transpose()
    }

    async fn put_share(
        &self,
        s: ShareRecord,
        events: Vec<EventRecord>,
    ) -> Result<Vec<EventRecord>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        insert_share(&tx, &s).await?;
        let events = append_use_events(&tx, &events, self.layout()).await?;
        tx.commit().await?;
        Ok(events)
    }

    async fn share(&self, id: &str) -> Result<Option<ShareRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!("SELECT {SHARE_COLUMNS} FROM shares WHERE id = $1"))
            .await?;
        client
            .query_opt(&st, &[&id])
            .await?
            .map(|r| share(&r))
            .transpose()
    }

    async fn shares_for_holders(&self, holder_keys: &[String]) -> Result<Vec<ShareRecord>> {
        if holder_keys.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {SHARE_COLUMNS} FROM shares WHERE holder_key = ANY($1) {SHARES_ORDER}"
            ))
            .await?;
        rows::all(&client.query(&st, &[&holder_keys]).await?, share)
    }

    async fn shares_of_institution(
        &self,
        institution: &str,
        limit: u32,
    ) -> Result<Vec<ShareRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {SHARE_COLUMNS} FROM shares WHERE institution = $1 {SHARES_ORDER} \
                 LIMIT $2"
            ))
            .await?;
        rows::all(
            &client
                .query(&st, &[&institution, &i64::from(limit)])
                .await?,
            share,
        )
    }

    async fn decide_share(
        &self,
        id: &str,
        state: &str,
        at: i64,
        copy: Option<(String, i64)>,
        events: Vec<EventRecord>,
    ) -> Result<Vec<EventRecord>> {
        let (copy, copy_until) = copy.unzip();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        // A concurrent decision of the same id waits for this row lock, then finds it no
        // longer pending: exactly one of them succeeds.
        let st = tx
            .prepare_cached(
                "UPDATE shares SET state = $2, decided_at = $3, copy = $4, copy_until = $5 \
                 WHERE id = $1 AND state = 'pending'",
            )
            .await?;
        if tx
            .execute(&st, &[&id, &state, &at, &copy, &copy_until])
            .await?
            == 0
        {
            let st = tx
                .prepare_cached("SELECT 1 FROM shares WHERE id = $1")
                .await?;
            return Err(if tx.query_opt(&st, &[&id]).await?.is_some() {
                StoreError::Conflict(format!("share {id} is no longer pending"))
            } else {
                StoreError::NotFound(format!("share {id}"))
            });
        }
        let events = append_use_events(&tx, &events, self.layout()).await?;
        tx.commit().await?;
        Ok(events)
    }
}
