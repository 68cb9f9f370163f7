//! OpenID4VP presentation requests on PostgreSQL (the `VP_REQUESTS` migration). An answer,
//! its sharing request and their events are one transaction; the conditional UPDATE takes
//! the request's row lock, so of two answers at once exactly one finds it unanswered.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::institutions::{append_use_events, insert_share};
use super::licenses::hold_event_order;
use super::rows::{self, get};
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::records::{EventRecord, ShareRecord};
use crate::vp::{PresentationRequestStore, VpRequestRecord};

const COLUMNS: &str = "id, institution, staff, matter, purpose, keep_days, response_mode, \
    nonce, state, webhook, created_at, expires_at, fetched_at, answered_at, outcome, share, \
    webhook_attempts, webhook_done_at, holder_key";

fn from_row(r: &Row) -> Result<VpRequestRecord> {
    Ok(VpRequestRecord {
        id: get(r, 0)?,
        institution: get(r, 1)?,
        staff: get(r, 2)?,
        matter: get(r, 3)?,
        purpose: get(r, 4)?,
        keep_days: rows::get_u32(r, 5)?,
        response_mode: get(r, 6)?,
        nonce: get(r, 7)?,
        state: get(r, 8)?,
        webhook: get(r, 9)?,
        created_at: get(r, 10)?,
        expires_at: get(r, 11)?,
        fetched_at: get(r, 12)?,
        answered_at: get(r, 13)?,
        outcome: get(r, 14)?,
        shares: crate::vp::split_shares(get(r, 15)?),
        webhook_attempts: rows::get_u32(r, 16)?,
        webhook_done_at: get(r, 17)?,
        holder_key: get(r, 18)?,
    })
}

#[async_trait]
impl PresentationRequestStore for PgStore {
    async fn put_vp_request(&self, r: VpRequestRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO vp_requests ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
            ))
            .await?;
        client
            .execute(
                &st,
                &[
                    &r.id,
                    &r.institution,
                    &r.staff,
                    &r.matter,
                    &r.purpose,
                    &i64::from(r.keep_days),
                    &r.response_mode,
                    &r.nonce,
                    &r.state,
                    &r.webhook,
                    &r.created_at,
                    &r.expires_at,
                    &r.fetched_at,
                    &r.answered_at,
                    &r.outcome,
                    &crate::vp::join_shares(r.shares.iter().map(String::as_str)),
                    &i64::from(r.webhook_attempts),
                    &r.webhook_done_at,
                    &r.holder_key,
                ],
            )
            .await?;
        Ok(())
    }

    async fn vp_request(&self, id: &str) -> Result<Option<VpRequestRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!("SELECT {COLUMNS} FROM vp_requests WHERE id = $1"))
            .await?;
        client
            .query_opt(&st, &[&id])
            .await?
            .map(|r| from_row(&r))
            .transpose()
    }

    async fn vp_requests_of(&self, institution: &str, limit: u32) -> Result<Vec<VpRequestRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM vp_requests WHERE institution = $1 \
                 ORDER BY created_at DESC, id DESC LIMIT $2"
            ))
            .await?;
        rows::all(
            &client
                .query(&st, &[&institution, &i64::from(limit)])
                .await?,
            from_row,
        )
    }

    async fn mark_vp_fetched(&self, id: &str, at: i64) -> Result<bool> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "UPDATE vp_requests SET fetched_at = $2 WHERE id = $1 AND fetched_at IS NULL",
            )
            .await?;
        Ok(client.execute(&st, &[&id, &at]).await? == 1)
    }

    async fn answer_vp_request(
        &self,
        id: &str,
        at: i64,
        outcome: &str,
        shares: Vec<ShareRecord>,
        events: Vec<EventRecord>,
    ) -> Result<Vec<EventRecord>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let st = tx
            .prepare_cached(
                "UPDATE vp_requests SET answered_at = $2, outcome = $3, share = $4 \
                 WHERE id = $1 AND answered_at IS NULL",
            )
            .await?;
        let share_id = crate::vp::join_shares(shares.iter().map(|s| s.id.as_str()));
        if tx.execute(&st, &[&id, &at, &outcome, &share_id]).await? == 0 {
            let st = tx
                .prepare_cached("SELECT 1 FROM vp_requests WHERE id = $1")
                .await?;
            return Err(if tx.query_opt(&st, &[&id]).await?.is_some() {
                StoreError::Conflict(format!("presentation request {id} was answered"))
            } else {
                StoreError::NotFound(format!("presentation request {id}"))
            });
        }
        for s in &shares {
            insert_share(&tx, s).await?;
        }
        let events = append_use_events(&tx, &events, self.layout()).await?;
        tx.commit().await?;
        Ok(events)
    }

    async fn record_vp_webhook(&self, id: &str, delivered_at: Option<i64>) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "UPDATE vp_requests SET webhook_attempts = webhook_attempts + 1, \
                 webhook_done_at = COALESCE(webhook_done_at, $2) WHERE id = $1",
            )
            .await?;
        client.execute(&st, &[&id, &delivered_at]).await?;
        Ok(())
    }

    async fn vp_webhooks_pending(
        &self,
        max_attempts: u32,
        limit: u32,
    ) -> Result<Vec<VpRequestRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM vp_requests WHERE webhook IS NOT NULL \
                 AND webhook_done_at IS NULL AND answered_at IS NOT NULL \
                 AND webhook_attempts < $1 ORDER BY answered_at, id LIMIT $2"
            ))
            .await?;
        rows::all(
            &client
                .query(&st, &[&i64::from(max_attempts), &i64::from(limit)])
                .await?,
            from_row,
        )
    }

    async fn vp_requests_for_holders(
        &self,
        holder_keys: &[String],
        now: i64,
    ) -> Result<Vec<VpRequestRecord>> {
        if holder_keys.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM vp_requests WHERE holder_key = ANY($1) \
                 AND answered_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id DESC"
            ))
            .await?;
        rows::all(&client.query(&st, &[&holder_keys, &now]).await?, from_row)
    }

    async fn purge_vp_requests(&self, before: i64) -> Result<u64> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("DELETE FROM vp_requests WHERE answered_at IS NULL AND expires_at < $1")
            .await?;
        Ok(client.execute(&st, &[&before]).await?)
    }
}
