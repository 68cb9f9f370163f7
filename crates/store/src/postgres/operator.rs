//! The region operator's keys and events on PostgreSQL (tables of the `OPERATOR` migration).
//! An operator event, the change it makes and its log leaf (with its opening when committed)
//! are one transaction. The change's statements are SQLite's (`sqlite::operator::change_sql`)
//! with PostgreSQL placeholders.

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::rows::{self, get};
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::log::OperatorOpeningRecord;
use crate::records::*;
use crate::sqlite::operator::{change_sql, END_SESSIONS, SET_PASSWORD};
use crate::traits::OperatorStore;

const EVENT_COLUMNS: &str = "seq, action, subject, actor, at, since";

fn event(r: &Row) -> Result<OperatorEventRecord> {
    Ok(OperatorEventRecord {
        seq: get(r, 0)?,
        action: get(r, 1)?,
        subject: get(r, 2)?,
        actor: get(r, 3)?,
        at: get(r, 4)?,
        since: get(r, 5)?,
    })
}

fn pg(sql: &str) -> String {
    sql.replace("?1", "$1")
        .replace("?2", "$2")
        .replace("?3", "$3")
}

async fn apply_change(tx: &Transaction<'_>, change: &OperatorChange) -> Result<()> {
    match change {
        OperatorChange::CreateAccount(a) => return super::wallet::insert_account(tx, a).await,
        OperatorChange::ResetPassword {
            account,
            password_hash,
            at,
        } => {
            let st = tx.prepare_cached(&pg(SET_PASSWORD)).await?;
            if tx.execute(&st, &[account, password_hash]).await? == 0 {
                return Err(StoreError::NotFound(format!("account {account}")));
            }
            let st = tx.prepare_cached(&pg(END_SESSIONS)).await?;
            tx.execute(&st, &[account, at]).await?;
            return Ok(());
        }
        _ => {}
    }
    let sql = change_sql(change).expect("every other change updates a row");
    let st = tx.prepare_cached(&pg(&sql.update)).await?;
    let n = match &sql.text {
        Some(t) => tx.execute(&st, &[&sql.subject, &sql.value, t]).await?,
        None => tx.execute(&st, &[&sql.subject, &sql.value]).await?,
    };
    if n == 0 {
        let st = tx.prepare_cached(&pg(&sql.exists)).await?;
        let exists = tx.query_opt(&st, &[&sql.subject]).await?.is_some();
        return Err(sql.unchanged(exists));
    }
    if let OperatorChange::AccountDisabled {
        account,
        disabled_at: Some(at),
    } = change
    {
        let st = tx.prepare_cached(&pg(END_SESSIONS)).await?;
        tx.execute(&st, &[account, at]).await?;
    }
    Ok(())
}

#[async_trait]
impl OperatorStore for PgStore {
    async fn put_operator_key(&self, k: ApiKeyRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO operator_keys (id, hash, label, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .await?;
        client
            .execute(
                &st,
                &[&k.id, &k.hash, &k.label, &k.created_at, &k.revoked_at],
            )
            .await?;
        Ok(())
    }

    async fn operator_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT id, hash, label, created_at, revoked_at FROM operator_keys WHERE id = $1",
            )
            .await?;
        client
            .query_opt(&st, &[&id])
            .await?
            .map(|r| {
                Ok(ApiKeyRecord {
                    id: get(&r, 0)?,
                    hash: get(&r, 1)?,
                    issuer: String::new(),
                    label: get(&r, 2)?,
                    created_at: get(&r, 3)?,
                    revoked_at: get(&r, 4)?,
                })
            })
            .transpose()
    }

    async fn apply_operator(
        &self,
        change: OperatorChange,
        event: OperatorEventRecord,
    ) -> Result<(OperatorEventRecord, u64)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        apply_change(&tx, &change).await?;
        let st = tx
            .prepare_cached(
                "INSERT INTO operator_events (action, subject, actor, at, since) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING seq",
            )
            .await?;
        let row = tx
            .query_one(
                &st,
                &[
                    &event.action,
                    &event.subject,
                    &event.actor,
                    &event.at,
                    &event.since,
                ],
            )
            .await?;
        let stored = OperatorEventRecord {
            seq: get(&row, 0)?,
            ..event
        };
        let index = super::log::append_operator(&tx, &stored).await?;
        tx.commit().await?;
        Ok((stored, index))
    }

    async fn operator_events(&self, after: i64, limit: u32) -> Result<Vec<OperatorEventRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM operator_events WHERE seq > $1 ORDER BY seq LIMIT $2"
            ))
            .await?;
        let rows = client.query(&st, &[&after, &i64::from(limit)]).await?;
        rows::all(&rows, event)
    }

    async fn operator_events_by_seq(&self, seqs: Vec<i64>) -> Result<Vec<OperatorEventRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM operator_events WHERE seq = ANY($1) ORDER BY seq"
            ))
            .await?;
        let rows = client.query(&st, &[&seqs]).await?;
        rows::all(&rows, event)
    }

    async fn operator_openings(&self, seqs: Vec<i64>) -> Result<Vec<OperatorOpeningRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT seq, salt, event FROM operator_openings WHERE seq = ANY($1) ORDER BY seq",
            )
            .await?;
        let rows = client.query(&st, &[&seqs]).await?;
        rows::all(&rows, |r| {
            Ok(OperatorOpeningRecord {
                seq: get(r, 0)?,
                salt: get(r, 1)?,
                event: get(r, 2)?,
            })
        })
    }
}
