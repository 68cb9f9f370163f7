//! The holder wallet on SQLite. Every write runs on the writer thread; an authorization, its
//! withdrawal and a use append their event and log entry in the same job (savepoint) through
//! `impls::append_use_event`, so they commit together or not at all.
//!
//! `accounts.holder_keys` is a JSON array of strings.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::impls::append_use_event;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::records::*;
use crate::traits::{WalletStore, MAX_BINDINGS};

pub(super) const ACCOUNT_COLUMNS: &str =
    "id, username, password_hash, profile, holder_keys, created_at, disabled_at";

/// An account row; a `holder_keys` that is not a JSON array of strings is a conversion
/// failure (`Corrupt`).
pub(super) fn account_from_row(r: &Row<'_>) -> rusqlite::Result<AccountRecord> {
    let keys: String = r.get(4)?;
    let holder_keys = serde_json::from_str(&keys).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(AccountRecord {
        id: r.get(0)?,
        username: r.get(1)?,
        password_hash: r.get(2)?,
        profile: r.get(3)?,
        holder_keys,
        created_at: r.get(5)?,
        disabled_at: r.get(6)?,
    })
}

fn account_where(conn: &Connection, column: &str, value: &str) -> Result<Option<AccountRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {column} = ?1"
        ))?
        .query_row(params![value], account_from_row)
        .optional()?)
}

fn binding_from_row(r: &Row<'_>) -> rusqlite::Result<BindingRecord> {
    Ok(BindingRecord {
        identifier: r.get(0)?,
        jkt: r.get(1)?,
        jwk: r.get(2)?,
        credential: r.get(3)?,
        created_at: r.get(4)?,
    })
}

const PRESENTATION_COLUMNS: &str = "id, identifier, presentation, matter, jkt, nonce, \
    created_at, expires_at, completed_at, opened_at";

fn presentation_from_row(r: &Row<'_>) -> rusqlite::Result<PresentationRecord> {
    Ok(PresentationRecord {
        id: r.get(0)?,
        identifier: r.get(1)?,
        presentation: r.get(2)?,
        matter: r.get(3)?,
        jkt: r.get(4)?,
        nonce: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        completed_at: r.get(8)?,
        opened_at: r.get(9)?,
    })
}

const AUTHORIZATION_COLUMNS: &str = "id, lineage, identifier, grantor_key, holder_key, \
    agent_key, agent_name, matter, valid_from, valid_until, created_at, withdrawn_at, ended_at";

fn authorization_from_row(r: &Row<'_>) -> rusqlite::Result<AuthorizationRecord> {
    Ok(AuthorizationRecord {
        id: r.get(0)?,
        lineage: r.get(1)?,
        identifier: r.get(2)?,
        grantor_key: r.get(3)?,
        holder_key: r.get(4)?,
        agent_key: r.get(5)?,
        agent_name: r.get(6)?,
        matter: r.get(7)?,
        valid_from: r.get(8)?,
        valid_until: r.get(9)?,
        created_at: r.get(10)?,
        withdrawn_at: r.get(11)?,
        ended_at: r.get(12)?,
    })
}

/// Authorizations whose `column` is `value`, newest first (insertion order breaks ties).
fn authorizations_where(
    conn: &Connection,
    column: &str,
    value: &str,
) -> Result<Vec<AuthorizationRecord>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {AUTHORIZATION_COLUMNS} FROM authorizations WHERE {column} = ?1 \
         ORDER BY created_at DESC, rowid DESC"
    ))?;
    let rows = st.query_map(params![value], authorization_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn insert_authorization(conn: &Connection, a: &AuthorizationRecord) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO authorizations ({AUTHORIZATION_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))?
    .execute(params![
        a.id,
        a.lineage,
        a.identifier,
        a.grantor_key,
        a.holder_key,
        a.agent_key,
        a.agent_name,
        a.matter,
        a.valid_from,
        a.valid_until,
        a.created_at,
        a.withdrawn_at,
        a.ended_at
    ])?;
    Ok(())
}

fn withdraw(conn: &Connection, id: &str, at: i64, event: &EventRecord) -> Result<EventRecord> {
    let n = conn
        .prepare_cached(
            "UPDATE authorizations SET withdrawn_at = ?2 WHERE id = ?1 AND withdrawn_at IS NULL",
        )?
        .execute(params![id, at])?;
    if n == 0 {
        let exists = conn
            .prepare_cached("SELECT 1 FROM authorizations WHERE id = ?1")?
            .exists(params![id])?;
        return Err(if exists {
            StoreError::Conflict(format!("authorization {id} was withdrawn already"))
        } else {
            StoreError::NotFound(format!("authorization {id}"))
        });
    }
    append_use_event(conn, event)
}

/// Why an update of presentation `id` guarded by a state matched no row: `NotFound` if there is
/// no such presentation (or, for an opening, it was never completed), else `Conflict`.
fn missing_or_done(conn: &Connection, id: &str, opening: bool) -> Result<StoreError> {
    let completed: Option<Option<i64>> = conn
        .prepare_cached("SELECT completed_at FROM presentations WHERE id = ?1")?
        .query_row(params![id], |r| r.get(0))
        .optional()?;
    Ok(crate::error::presentation_refusal(id, completed, opening))
}

/// Inserts an account; `UsernameTaken` when its username is taken (a taken id still fails
/// as `Duplicate`). Also the operator's `CreateAccount` change.
pub(crate) fn insert_account(conn: &Connection, a: &AccountRecord) -> Result<()> {
    let keys = serde_json::to_string(&a.holder_keys).expect("strings always serialise");
    let n = conn
        .prepare_cached(&format!(
            "INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (username) DO NOTHING"
        ))?
        .execute(params![
            a.id,
            a.username,
            a.password_hash,
            a.profile,
            keys,
            a.created_at,
            a.disabled_at
        ])?;
    if n == 0 {
        return Err(StoreError::UsernameTaken(a.username.clone()));
    }
    Ok(())
}

#[async_trait]
impl WalletStore for SqliteStore {
    async fn put_account(&self, a: AccountRecord) -> Result<()> {
        self.write(move |conn| insert_account(conn, &a)).await
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>> {
        let username = username.to_owned();
        self.read(move |conn| account_where(conn, "username", &username))
            .await
    }

    async fn account(&self, id: &str) -> Result<Option<AccountRecord>> {
        let id = id.to_owned();
        self.read(move |conn| account_where(conn, "id", &id)).await
    }

    async fn put_binding(&self, b: BindingRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO bindings (identifier, jkt, jwk, credential, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (identifier, jkt) DO UPDATE SET \
                 jwk = excluded.jwk, credential = excluded.credential, \
                 created_at = excluded.created_at",
            )?
            .execute(params![
                b.identifier,
                b.jkt,
                b.jwk,
                b.credential,
                b.created_at
            ])?;
            conn.prepare_cached(
                "DELETE FROM bindings WHERE identifier = ?1 AND rowid NOT IN \
                 (SELECT rowid FROM bindings WHERE identifier = ?1 \
                  ORDER BY created_at DESC, rowid DESC LIMIT ?2)",
            )?
            .execute(params![b.identifier, MAX_BINDINGS as i64])?;
            Ok(())
        })
        .await
    }

    async fn binding(&self, identifier: &str, jkt: &str) -> Result<Option<BindingRecord>> {
        let (identifier, jkt) = (identifier.to_owned(), jkt.to_owned());
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT identifier, jkt, jwk, credential, created_at FROM bindings \
                     WHERE identifier = ?1 AND jkt = ?2",
                )?
                .query_row(params![identifier, jkt], binding_from_row)
                .optional()?)
        })
        .await
    }

    async fn put_presentation(&self, p: PresentationRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO presentations ({PRESENTATION_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))?
            .execute(params![
                p.id,
                p.identifier,
                p.presentation,
                p.matter,
                p.jkt,
                p.nonce,
                p.created_at,
                p.expires_at,
                p.completed_at,
                p.opened_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn presentation(&self, id: &str) -> Result<Option<PresentationRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {PRESENTATION_COLUMNS} FROM presentations WHERE id = ?1"
                ))?
                .query_row(params![id], presentation_from_row)
                .optional()?)
        })
        .await
    }

    async fn complete_presentation(
        &self,
        id: &str,
        presentation: &str,
        at: i64,
        expires_at: i64,
        event: EventRecord,
    ) -> Result<EventRecord> {
        let (id, presentation) = (id.to_owned(), presentation.to_owned());
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE presentations SET presentation = ?2, completed_at = ?3, \
                     expires_at = ?4 WHERE id = ?1 AND completed_at IS NULL",
                )?
                .execute(params![id, presentation, at, expires_at])?;
            if n == 0 {
                return Err(missing_or_done(conn, &id, false)?);
            }
            append_use_event(conn, &event)
        })
        .await
    }

    async fn open_presentation(
        &self,
        id: &str,
        at: i64,
        event: EventRecord,
    ) -> Result<Option<EventRecord>> {
        let id = id.to_owned();
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE presentations SET opened_at = ?2 \
                     WHERE id = ?1 AND opened_at IS NULL AND completed_at IS NOT NULL",
                )?
                .execute(params![id, at])?;
            if n == 0 {
                return match missing_or_done(conn, &id, true)? {
                    StoreError::Conflict(_) => Ok(None),
                    e => Err(e),
                };
            }
            append_use_event(conn, &event).map(Some)
        })
        .await
    }

    async fn purge_presentations(&self, before: i64) -> Result<u64> {
        self.write(move |conn| {
            let n = conn
                .prepare_cached("DELETE FROM presentations WHERE expires_at < ?1")?
                .execute(params![before])?;
            Ok(n as u64)
        })
        .await
    }

    async fn put_authorization(
        &self,
        a: AuthorizationRecord,
        event: EventRecord,
    ) -> Result<EventRecord> {
        self.write(move |conn| {
            insert_authorization(conn, &a)?;
            append_use_event(conn, &event)
        })
        .await
    }

    async fn authorizations(&self, lineage: &str) -> Result<Vec<AuthorizationRecord>> {
        let lineage = lineage.to_owned();
        self.read(move |conn| authorizations_where(conn, "lineage", &lineage))
            .await
    }

    async fn authorizations_for_agent(&self, agent_key: &str) -> Result<Vec<AuthorizationRecord>> {
        let agent_key = agent_key.to_owned();
        self.read(move |conn| authorizations_where(conn, "agent_key", &agent_key))
            .await
    }

    async fn withdraw_authorization(
        &self,
        id: &str,
        at: i64,
        event: EventRecord,
    ) -> Result<EventRecord> {
        let id = id.to_owned();
        self.write(move |conn| withdraw(conn, &id, at, &event))
            .await
    }

    async fn record_use(&self, event: EventRecord) -> Result<EventRecord> {
        self.write(move |conn| append_use_event(conn, &event)).await
    }
}
