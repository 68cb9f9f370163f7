//! The region operator's keys and events on SQLite (tables of migration 9, see `schema`). An
//! operator event, the change it makes and its log leaf (with its opening when committed) are
//! one job on the writer thread (one savepoint): they commit together or not at all.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::log::openings_by_seq;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::log::OperatorOpeningRecord;
use crate::records::*;
use crate::traits::OperatorStore;

const EVENT_COLUMNS: &str = "seq, action, subject, actor, at, since";

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<OperatorEventRecord> {
    Ok(OperatorEventRecord {
        seq: r.get(0)?,
        action: r.get(1)?,
        subject: r.get(2)?,
        actor: r.get(3)?,
        at: r.get(4)?,
        since: r.get(5)?,
    })
}

/// The table of one owner's API keys.
pub(crate) fn key_table(owner: ApiKeyOwner) -> &'static str {
    match owner {
        ApiKeyOwner::Issuer => "api_keys",
        ApiKeyOwner::Institution => "institution_keys",
        ApiKeyOwner::Operator => "operator_keys",
    }
}

/// The UPDATE that applies `change` only if it changes something, its parameters (`value`
/// is `None` to clear a column), and the query that tells an unchanged subject (`Conflict`)
/// from a missing one (`NotFound`). Shared by both back-ends.
pub(crate) struct ChangeSql {
    pub update: String,
    pub subject: String,
    pub value: Option<i64>,
    /// A third parameter (`?3`), for the one change that sets a text too (a successor).
    pub text: Option<String>,
    pub exists: String,
    pub what: String,
}

impl ChangeSql {
    /// The error of a change that changed nothing: `Conflict` when the subject `exists`
    /// (it is already so), `NotFound` when it does not.
    pub fn unchanged(self, exists: bool) -> StoreError {
        if exists {
            StoreError::Conflict(format!("{} is already so", self.what))
        } else {
            StoreError::NotFound(self.what)
        }
    }
}

/// The statements of one change that updates a row, with `?`-numbered parameters
/// `1` = subject, `2` = value, `3` = text when there is one (`$1`, `$2`, `$3` on PostgreSQL:
/// the caller rewrites the placeholders). `None` for the account changes, which each
/// back-end writes with statements of their own ([`account_change`]).
pub(crate) fn change_sql(change: &OperatorChange) -> Option<ChangeSql> {
    let (table, key, set, guard, subject, value, what) = match change {
        OperatorChange::RevokeApiKey { owner, id, at } => (
            key_table(*owner),
            "id",
            "revoked_at = ?2",
            "revoked_at IS NULL",
            id,
            Some(*at),
            format!("API key {id}"),
        ),
        OperatorChange::InstitutionDisabled { code, disabled_at } => (
            "institutions",
            "code",
            "disabled_at = ?2",
            if disabled_at.is_some() {
                "disabled_at IS NULL"
            } else {
                "disabled_at IS NOT NULL"
            },
            code,
            *disabled_at,
            format!("institution {code}"),
        ),
        OperatorChange::AccountDisabled {
            account,
            disabled_at,
        } => (
            "accounts",
            "id",
            "disabled_at = ?2",
            if disabled_at.is_some() {
                "disabled_at IS NULL"
            } else {
                "disabled_at IS NOT NULL"
            },
            account,
            *disabled_at,
            format!("account {account}"),
        ),
        OperatorChange::RetireKey { kid, not_after } => (
            "issuer_keys",
            "kid",
            "not_after = ?2",
            "(not_after IS NULL OR not_after > ?2)",
            kid,
            Some(*not_after),
            format!("issuer key {kid}"),
        ),
        OperatorChange::RevokeKey { kid, revoked_at } => (
            "issuer_keys",
            "kid",
            "revoked_at = ?2",
            "(revoked_at IS NULL OR revoked_at > ?2)",
            kid,
            Some(*revoked_at),
            format!("issuer key {kid}"),
        ),
        OperatorChange::Succeed { code, ended_at, .. } => (
            "issuers",
            "code",
            "ended_at = ?2, successor = ?3",
            "successor IS NULL",
            code,
            Some(*ended_at),
            format!("issuer {code}"),
        ),
        OperatorChange::CreateAccount(_) | OperatorChange::ResetPassword { .. } => return None,
    };
    let text = match change {
        OperatorChange::Succeed { successor, .. } => Some(successor.clone()),
        _ => None,
    };
    Some(ChangeSql {
        update: format!("UPDATE {table} SET {set} WHERE {key} = ?1 AND {guard}"),
        subject: subject.clone(),
        value,
        text,
        exists: format!("SELECT 1 FROM {table} WHERE {key} = ?1"),
        what,
    })
}

/// Ends every open session of `account` at `at` (`?1` = account, `?2` = time): a disabled
/// account or a reset password leaves no session open.
pub(crate) const END_SESSIONS: &str =
    "UPDATE sessions SET ended_at = ?2 WHERE account = ?1 AND ended_at IS NULL";

/// Replaces a password hash (`?1` = account, `?2` = hash).
pub(crate) const SET_PASSWORD: &str = "UPDATE accounts SET password_hash = ?2 WHERE id = ?1";

fn apply_change(conn: &Connection, change: &OperatorChange) -> Result<()> {
    match change {
        OperatorChange::CreateAccount(a) => return super::wallet::insert_account(conn, a),
        OperatorChange::ResetPassword {
            account,
            password_hash,
            at,
        } => {
            let n = conn
                .prepare_cached(SET_PASSWORD)?
                .execute(params![account, password_hash])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("account {account}")));
            }
            conn.prepare_cached(END_SESSIONS)?
                .execute(params![account, at])?;
            return Ok(());
        }
        _ => {}
    }
    let sql = change_sql(change).expect("every other change updates a row");
    let mut st = conn.prepare_cached(&sql.update)?;
    let n = match &sql.text {
        Some(t) => st.execute(params![sql.subject, sql.value, t])?,
        None => st.execute(params![sql.subject, sql.value])?,
    };
    if n == 0 {
        let exists = conn
            .prepare_cached(&sql.exists)?
            .exists(params![sql.subject])?;
        return Err(sql.unchanged(exists));
    }
    if let OperatorChange::AccountDisabled {
        account,
        disabled_at: Some(at),
    } = change
    {
        conn.prepare_cached(END_SESSIONS)?
            .execute(params![account, at])?;
    }
    Ok(())
}

#[async_trait]
impl OperatorStore for SqliteStore {
    async fn put_operator_key(&self, k: ApiKeyRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO operator_keys (id, hash, label, created_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![k.id, k.hash, k.label, k.created_at, k.revoked_at])?;
            Ok(())
        })
        .await
    }

    async fn operator_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, hash, label, created_at, revoked_at FROM operator_keys \
                     WHERE id = ?1",
                )?
                .query_row(params![id], |r| {
                    Ok(ApiKeyRecord {
                        id: r.get(0)?,
                        hash: r.get(1)?,
                        issuer: String::new(),
                        label: r.get(2)?,
                        created_at: r.get(3)?,
                        revoked_at: r.get(4)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn apply_operator(
        &self,
        change: OperatorChange,
        event: OperatorEventRecord,
    ) -> Result<(OperatorEventRecord, u64)> {
        self.write(move |conn| {
            apply_change(conn, &change)?;
            conn.prepare_cached(
                "INSERT INTO operator_events (action, subject, actor, at, since) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                event.action,
                event.subject,
                event.actor,
                event.at,
                event.since
            ])?;
            let stored = OperatorEventRecord {
                seq: conn.last_insert_rowid(),
                ..event
            };
            let index = super::log::append_operator(conn, &stored)?;
            Ok((stored, index))
        })
        .await
    }

    async fn operator_events(&self, after: i64, limit: u32) -> Result<Vec<OperatorEventRecord>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM operator_events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            let rows = st.query_map(params![after, limit], event_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn operator_events_by_seq(&self, seqs: Vec<i64>) -> Result<Vec<OperatorEventRecord>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM operator_events WHERE seq = ?1"
            ))?;
            let mut out = Vec::with_capacity(seqs.len());
            for seq in seqs {
                out.extend(st.query_row(params![seq], event_from_row).optional()?);
            }
            Ok(out)
        })
        .await
    }

    async fn operator_openings(&self, seqs: Vec<i64>) -> Result<Vec<OperatorOpeningRecord>> {
        self.read(move |conn| {
            openings_by_seq(conn, "operator_openings", seqs, |seq, salt, event| {
                OperatorOpeningRecord { seq, salt, event }
            })
        })
        .await
    }
}
