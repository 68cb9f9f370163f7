//! OpenID4VCI offers and nonces on PostgreSQL (tables of the `VCI` migration, see
//! `crate::vci`). Each decision is one conditional statement; a redemption holds the
//! event-order lock and appends its use event in the same transaction
//! (`licenses::append_use_event`).

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::licenses::{append_use_event, hold_event_order};
use super::rows::get;
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::records::EventRecord;
use crate::vci::{VciOfferRecord, VciStore};

const OFFER_COLUMNS: &str = "id, identifier, actor, tx_code, failures, created_at, expires_at, \
                             token, token_expires_at, redeemed_at";

fn offer(r: &Row) -> Result<VciOfferRecord> {
    Ok(VciOfferRecord {
        id: get(r, 0)?,
        identifier: get(r, 1)?,
        actor: get(r, 2)?,
        tx_code: get(r, 3)?,
        failures: get(r, 4)?,
        created_at: get(r, 5)?,
        expires_at: get(r, 6)?,
        token: get(r, 7)?,
        token_expires_at: get(r, 8)?,
        redeemed_at: get(r, 9)?,
    })
}

/// Why a conditional update of offer `id` changed nothing: `NotFound` or `Conflict`.
async fn missing_or_taken(c: &impl GenericClient, id: &str) -> Result<StoreError> {
    let st = c
        .prepare_cached("SELECT 1 FROM vci_offers WHERE id = $1")
        .await?;
    Ok(if c.query_opt(&st, &[&id]).await?.is_some() {
        StoreError::Conflict(format!("credential offer {id} was taken"))
    } else {
        StoreError::NotFound(format!("credential offer {id}"))
    })
}

impl PgStore {
    async fn vci_offer_where(&self, column: &str, value: &str) -> Result<Option<VciOfferRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {OFFER_COLUMNS} FROM vci_offers WHERE {column} = $1"
            ))
            .await?;
        client
            .query_opt(&st, &[&value])
            .await?
            .map(|r| offer(&r))
            .transpose()
    }
}

#[async_trait]
impl VciStore for PgStore {
    async fn put_vci_offer(&self, o: VciOfferRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO vci_offers ({OFFER_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .await?;
        client
            .execute(
                &st,
                &[
                    &o.id,
                    &o.identifier,
                    &o.actor,
                    &o.tx_code,
                    &o.failures,
                    &o.created_at,
                    &o.expires_at,
                    &o.token,
                    &o.token_expires_at,
                    &o.redeemed_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn vci_offer(&self, id: &str) -> Result<Option<VciOfferRecord>> {
        self.vci_offer_where("id", id).await
    }

    async fn vci_offer_by_token(&self, token: &str) -> Result<Option<VciOfferRecord>> {
        self.vci_offer_where("token", token).await
    }

    async fn fail_vci_tx_code(&self, id: &str, max_failures: i64) -> Result<Option<i64>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "UPDATE vci_offers SET failures = failures + 1 \
                 WHERE id = $1 AND token IS NULL AND failures < $2 RETURNING failures",
            )
            .await?;
        client
            .query_opt(&st, &[&id, &max_failures])
            .await?
            .map(|r| get(&r, 0))
            .transpose()
    }

    async fn grant_vci_token(
        &self,
        id: &str,
        token: &str,
        expires_at: i64,
        max_failures: i64,
    ) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "UPDATE vci_offers SET token = $2, token_expires_at = $3 \
                 WHERE id = $1 AND token IS NULL AND failures < $4",
            )
            .await?;
        if client
            .execute(&st, &[&id, &token, &expires_at, &max_failures])
            .await?
            == 0
        {
            return Err(missing_or_taken(&client, id).await?);
        }
        Ok(())
    }

    async fn redeem_vci_offer(&self, id: &str, at: i64, event: EventRecord) -> Result<EventRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        hold_event_order(&tx, &self.lock_key("")).await?;
        let st = tx
            .prepare_cached(
                "UPDATE vci_offers SET redeemed_at = $2 \
                 WHERE id = $1 AND token IS NOT NULL AND redeemed_at IS NULL",
            )
            .await?;
        if tx.execute(&st, &[&id, &at]).await? == 0 {
            return Err(missing_or_taken(&tx, id).await?);
        }
        let event = append_use_event(&tx, &event, self.layout()).await?;
        tx.commit().await?;
        Ok(event)
    }

    async fn use_vci_nonce(&self, nonce: &str, expires_at: i64) -> Result<bool> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO vci_nonces (nonce, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (nonce) DO NOTHING",
            )
            .await?;
        Ok(client.execute(&st, &[&nonce, &expires_at]).await? == 1)
    }

    async fn purge_vci(&self, before: i64) -> Result<u64> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("DELETE FROM vci_nonces WHERE expires_at < $1")
            .await?;
        let nonces = client.execute(&st, &[&before]).await?;
        let st = client
            .prepare_cached(
                "DELETE FROM vci_offers WHERE expires_at < $1 \
                 AND (token_expires_at IS NULL OR token_expires_at < $1)",
            )
            .await?;
        Ok(nonces + client.execute(&st, &[&before]).await?)
    }
}
