//! Wallet sessions and failed sign-ins on PostgreSQL (tables of the `SESSIONS` migration).
//! Disabling an account and ending its open sessions are one transaction.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::rows::{self, get};
use super::PgStore;
use crate::error::Result;
use crate::records::*;
use crate::traits::SessionStore;

fn session(r: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id: get(r, 0)?,
        account: get(r, 1)?,
        created_at: get(r, 2)?,
        last_seen: get(r, 3)?,
        ended_at: get(r, 4)?,
    })
}

fn failure(r: &Row) -> Result<SignInFailureRecord> {
    Ok(SignInFailureRecord {
        account: get(r, 0)?,
        at: get(r, 1)?,
        client: get(r, 2)?,
        reason: get(r, 3)?,
    })
}

impl PgStore {
    /// Runs one statement with `params`; returns the number of rows it changed.
    async fn run(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64> {
        let client = self.client().await?;
        let st = client.prepare_cached(sql).await?;
        Ok(client.execute(&st, params).await?)
    }
}

#[async_trait]
impl SessionStore for PgStore {
    async fn put_session(&self, s: SessionRecord) -> Result<()> {
        self.run(
            "INSERT INTO sessions (id, account, created_at, last_seen, ended_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&s.id, &s.account, &s.created_at, &s.last_seen, &s.ended_at],
        )
        .await?;
        Ok(())
    }

    async fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT id, account, created_at, last_seen, ended_at FROM sessions WHERE id = $1",
            )
            .await?;
        client
            .query_opt(&st, &[&id])
            .await?
            .map(|r| session(&r))
            .transpose()
    }

    async fn touch_session(&self, id: &str, at: i64) -> Result<()> {
        self.run(
            "UPDATE sessions SET last_seen = $2 \
             WHERE id = $1 AND ended_at IS NULL AND last_seen < $2",
            &[&id, &at],
        )
        .await?;
        Ok(())
    }

    async fn end_session(&self, id: &str, at: i64) -> Result<bool> {
        let n = self
            .run(
                "UPDATE sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL",
                &[&id, &at],
            )
            .await?;
        Ok(n == 1)
    }

    async fn purge_sessions(&self, before: i64) -> Result<u64> {
        self.run("DELETE FROM sessions WHERE created_at < $1", &[&before])
            .await
    }

    async fn record_sign_in_failure(&self, f: SignInFailureRecord) -> Result<()> {
        self.run(
            "INSERT INTO sign_in_failures (account, at, client, reason) VALUES ($1, $2, $3, $4)",
            &[&f.account, &f.at, &f.client, &f.reason],
        )
        .await?;
        Ok(())
    }

    async fn sign_in_failures(
        &self,
        account: &str,
        limit: u32,
    ) -> Result<Vec<SignInFailureRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT account, at, client, reason FROM sign_in_failures WHERE account = $1 \
                 ORDER BY at DESC, ord DESC LIMIT $2",
            )
            .await?;
        let rows = client.query(&st, &[&account, &i64::from(limit)]).await?;
        rows::all(&rows, failure)
    }

    async fn purge_sign_in_failures(&self, before: i64) -> Result<u64> {
        self.run("DELETE FROM sign_in_failures WHERE at < $1", &[&before])
            .await
    }
}
