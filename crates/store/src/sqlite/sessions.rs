//! Wallet sessions and failed sign-ins on SQLite. Every write runs on the writer thread;
//! disabling an account and ending its sessions are one job (one savepoint), so they commit
//! together or not at all.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::SqliteStore;
use crate::error::Result;
use crate::records::*;
use crate::traits::SessionStore;

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: r.get(0)?,
        account: r.get(1)?,
        created_at: r.get(2)?,
        last_seen: r.get(3)?,
        ended_at: r.get(4)?,
    })
}

fn failure_from_row(r: &Row<'_>) -> rusqlite::Result<SignInFailureRecord> {
    Ok(SignInFailureRecord {
        account: r.get(0)?,
        at: r.get(1)?,
        client: r.get(2)?,
        reason: r.get(3)?,
    })
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn put_session(&self, s: SessionRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO sessions (id, account, created_at, last_seen, ended_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                s.id,
                s.account,
                s.created_at,
                s.last_seen,
                s.ended_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, account, created_at, last_seen, ended_at FROM sessions \
                     WHERE id = ?1",
                )?
                .query_row(params![id], session_from_row)
                .optional()?)
        })
        .await
    }

    async fn touch_session(&self, id: &str, at: i64) -> Result<()> {
        let id = id.to_owned();
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE sessions SET last_seen = ?2 \
                 WHERE id = ?1 AND ended_at IS NULL AND last_seen < ?2",
            )?
            .execute(params![id, at])?;
            Ok(())
        })
        .await
    }

    async fn end_session(&self, id: &str, at: i64) -> Result<bool> {
        let id = id.to_owned();
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE sessions SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
                )?
                .execute(params![id, at])?;
            Ok(n == 1)
        })
        .await
    }

    async fn purge_sessions(&self, before: i64) -> Result<u64> {
        self.write(move |conn| {
            let n = conn
                .prepare_cached("DELETE FROM sessions WHERE created_at < ?1")?
                .execute(params![before])?;
            Ok(n as u64)
        })
        .await
    }

    async fn record_sign_in_failure(&self, f: SignInFailureRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO sign_in_failures (account, at, client, reason) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![f.account, f.at, f.client, f.reason])?;
            Ok(())
        })
        .await
    }

    async fn sign_in_failures(
        &self,
        account: &str,
        limit: u32,
    ) -> Result<Vec<SignInFailureRecord>> {
        let account = account.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT account, at, client, reason FROM sign_in_failures WHERE account = ?1 \
                 ORDER BY at DESC, rowid DESC LIMIT ?2",
            )?;
            let rows = st.query_map(params![account, limit], failure_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn purge_sign_in_failures(&self, before: i64) -> Result<u64> {
        self.write(move |conn| {
            let n = conn
                .prepare_cached("DELETE FROM sign_in_failures WHERE at < ?1")?
                .execute(params![before])?;
            Ok(n as u64)
        })
        .await
    }
}
