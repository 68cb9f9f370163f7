//! The holder wallet on PostgreSQL (tables of migration 4, see `schema`).
//!
//! An authorization, its withdrawal and a use are written like a transition: one transaction
//! that holds the event-order lock, appends the event and its log entry through
//! `licenses::append_use_event` (the path a transition's event takes, without the status
//! change), and commits; `Ok` means all of it committed.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::licenses::{append_use_event, hold_event_order};
use super::rows::{self, ACCOUNT_COLUMNS, AUTHORIZATION_COLUMNS, PRESENTATION_COLUMNS};
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::records::*;
use crate::traits::{WalletStore, MAX_BINDINGS};

const AUTHORIZATIONS_ORDER: &str = "ORDER BY created_at DESC, ord DESC";

impl PgStore {
    async fn account_where(&self, sql: &str, value: &str) -> Result<Option<AccountRecord>> {
        let client = self.client().await?;
        let st = client.prepare_cached(sql).await?;
        client
            .query_opt(&st, &[&value])
            .await?
            .map(|r| rows::account(&r))
            .transpose()
    }

    async fn authorizations_where(
        &self,
        sql: &str,
        value: &str,
    ) -> Result<Vec<AuthorizationRecord>> {
        let client = self.client().await?;
        let st = client.prepare_cached(sql).await?;
        rows::all(&client.query(&st, &[&value]).await?, rows::authorization)
    }
}

/// Why an update of presentation `id` guarded by a state matched no row: `NotFound` if there is
/// no such presentation (or, for an opening, it was never completed), else `Conflict`.
async fn missing_or_done(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
    opening: bool,
) -> Result<StoreError> {
    let st = tx
        .prepare_cached("SELECT completed_at FROM presentations WHERE id = $1")
        .await?;
    let completed: Option<Option<i64>> = tx.query_opt(&st, &[&id]).await?.map(|r| r.get(0));
    Ok(crate::error::presentation_refusal(id, completed, opening))
}

/// Inserts an account; `UsernameTaken` when its username is taken (after the other writer
/// committed; a taken id still fails as `Duplicate`). Also the operator's `CreateAccount`.
pub(crate) async fn insert_account(c: &impl GenericClient, a: &AccountRecord) -> Result<()> {
    let st = c
        .prepare_cached(&format!(
            "INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (username) DO NOTHING"
        ))
        .await?;
    let n = c
        .execute(
            &st,
            &[
                &a.id,
                &a.username,
                &a.password_hash,
                &a.profile,
                &a.holder_keys,
                &a.created_at,
                &a.disabled_at,
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::UsernameTaken(a.username.clone()));
    }
    Ok(())
}

#[async_trait]
impl WalletStore for PgStore {
    async fn put_account(&self, a: AccountRecord) -> Result<()> {
        insert_account(&self.client().await?, &a).await
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1");
        self.account_where(&sql, username).await
    }

    async fn account(&self, id: &str) -> Result<Option<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        self.account_where(&sql, id).await
    }

    async fn put_binding(&self, b: BindingRecord) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let st = tx
            .prepare_cached(
                "INSERT INTO bindings (identifier, jkt, jwk, credential, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (identifier, jkt) DO UPDATE SET \
                 jwk = excluded.jwk, credential = excluded.credential, \
                 created_at = excluded.created_at",
            )
            .await?;
        tx.execute(
            &st,
            &[&b.identifier, &b.jkt, &b.jwk, &b.credential, &b.created_at],
        )
        .await?;
        let st = tx
            .prepare_cached(
                "DELETE FROM bindings WHERE identifier = $1 AND jkt NOT IN \
                 (SELECT jkt FROM bindings WHERE identifier = $1 \
                  ORDER BY created_at DESC, jkt DESC LIMIT $2)",
            )
            .await?;
        tx.execute(&st, &[&b.identifier, &(MAX_BINDINGS as i64)])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn binding(&self, identifier: &str, jkt: &str) -> Result<Option<BindingRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT identifier, jkt, jwk, credential, created_at FROM bindings \
                 WHERE identifier = $1 AND jkt = $2",
            )
            .await?;
        client
            .query_opt(&st, &[&identifier, &jkt])
            .await?
            .map(|r| rows::binding(&r))
            .transpose()
    }

    async fn put_presentation(&self, p: PresentationRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO presentations ({PRESENTATION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .await?;
        client
            .execute(
                &st,
                &[
                    &p.id,
                    &p.identifier,
                    &p.presentation,
                    &p.matter,
                    &p.jkt,
                    &p.nonce,
                    &p.created_at,
                    &p.expires_at,
                    &p.completed_at,
                    &p.opened_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn presentation(&self, id: &str) -> Result<Option<PresentationRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {PRESENTATION_COLUMNS} FROM presentations WHERE id = $1"
            ))
            .await?;
        client
            .query_opt(&st, &[&id])
            .await?
            .map(|r| rows::presentation(&r))
            .transpose()
    }

    async fn complete_presentation(
        &self,
        id: &str,
        presentation: &str,
        at: i64,
        expires_at: i64,
        event: EventRecord,
    ) -> Result<EventRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let st = tx
            .prepare_cached(
                "UPDATE presentations SET presentation = $2, completed_at = $3, \
                 expires_at = $4 WHERE id = $1 AND completed_at IS NULL",
            )
            .await?;
        if tx
            .execute(&st, &[&id, &presentation, &at, &expires_at])
            .await?
            == 0
        {
            return Err(missing_or_done(&tx, id, false).await?);
        }
        let event = append_use_event(&tx, &event, self.layout()).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn open_presentation(
        &self,
        id: &str,
        at: i64,
        event: EventRecord,
    ) -> Result<Option<EventRecord>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let st = tx
            .prepare_cached(
                "UPDATE presentations SET opened_at = $2 \
                 WHERE id = $1 AND opened_at IS NULL AND completed_at IS NOT NULL",
            )
            .await?;
        if tx.execute(&st, &[&id, &at]).await? == 0 {
            return match missing_or_done(&tx, id, true).await? {
                StoreError::Conflict(_) => Ok(None),
                e => Err(e),
            };
        }
        let event = append_use_event(&tx, &event, self.layout()).await?;
        tx.commit().await?;
        Ok(Some(event))
    }

    async fn purge_presentations(&self, before: i64) -> Result<u64> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("DELETE FROM presentations WHERE expires_at < $1")
            .await?;
        Ok(client.execute(&st, &[&before]).await?)
    }

    async fn put_authorization(
        &self,
        a: AuthorizationRecord,
        event: EventRecord,
    ) -> Result<EventRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let st = tx
            .prepare_cached(&format!(
                "INSERT INTO authorizations ({AUTHORIZATION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ))
            .await?;
        tx.execute(
            &st,
            &[
                &a.id,
                &a.lineage,
                &a.identifier,
                &a.grantor_key,
                &a.holder_key,
                &a.agent_key,
                &a.agent_name,
                &a.matter,
                &a.valid_from,
                &a.valid_until,
                &a.created_at,
                &a.withdrawn_at,
                &a.ended_at,
            ],
        )
        .await?;
        let event = append_use_event(&tx, &event, self.layout()).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn authorizations(&self, lineage: &str) -> Result<Vec<AuthorizationRecord>> {
        let sql = format!(
            "SELECT {AUTHORIZATION_COLUMNS} FROM authorizations WHERE lineage = $1 \
             {AUTHORIZATIONS_ORDER}"
        );
        self.authorizations_where(&sql, lineage).await
    }

    async fn authorizations_for_agent(&self, agent_key: &str) -> Result<Vec<AuthorizationRecord>> {
        let sql = format!(
            "SELECT {AUTHORIZATION_COLUMNS} FROM authorizations WHERE agent_key = $1 \
             {AUTHORIZATIONS_ORDER}"
        );
        self.authorizations_where(&sql, agent_key).await
    }

    async fn withdraw_authorization(
        &self,
        id: &str,
        at: i64,
        event: EventRecord,
    ) -> Result<EventRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        // A concurrent withdrawal of the same id waits for this row lock, then finds it
        // withdrawn: exactly one of them succeeds.
        let st = tx
            .prepare_cached(
                "UPDATE authorizations SET withdrawn_at = $2 \
                 WHERE id = $1 AND withdrawn_at IS NULL",
            )
            .await?;
        if tx.execute(&st, &[&id, &at]).await? == 0 {
            let st = tx
                .prepare_cached("SELECT 1 FROM authorizations WHERE id = $1")
                .await?;
            return Err(if tx.query_opt(&st, &[&id]).await?.is_some() {
                StoreError::Conflict(format!("authorization {id} was withdrawn already"))
            } else {
                StoreError::NotFound(format!("authorization {id}"))
            });
        }
        let event = append_use_event(&tx, &event, self.layout()).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn record_use(&self, event: EventRecord) -> Result<EventRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let event = append_use_event(&tx, &event, self.layout()).await?;
        tx.commit().await?;
        Ok(event)
    }
}
