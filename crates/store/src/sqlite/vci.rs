//! OpenID4VCI offers and nonces on SQLite (see `crate::vci`). Every write runs on the writer
//! thread; each decision is one conditional statement, and a redemption appends its use event
//! in the same job (savepoint) through `impls::append_use_event`.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::impls::append_use_event;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::records::EventRecord;
use crate::vci::{VciOfferRecord, VciStore};

const OFFER_COLUMNS: &str = "id, identifier, actor, tx_code, failures, created_at, expires_at, \
                             token, token_expires_at, redeemed_at";

fn offer(r: &Row<'_>) -> rusqlite::Result<VciOfferRecord> {
    Ok(VciOfferRecord {
        id: r.get(0)?,
        identifier: r.get(1)?,
        actor: r.get(2)?,
        tx_code: r.get(3)?,
        failures: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        token: r.get(7)?,
        token_expires_at: r.get(8)?,
        redeemed_at: r.get(9)?,
    })
}

/// Why a conditional update of offer `id` changed nothing: `NotFound` or `Conflict`.
fn missing_or_taken(conn: &Connection, id: &str) -> Result<StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM vci_offers WHERE id = ?1")?
        .query_row(params![id], |_| Ok(()))
        .optional()?
        .is_some();
    Ok(if exists {
        StoreError::Conflict(format!("credential offer {id} was taken"))
    } else {
        StoreError::NotFound(format!("credential offer {id}"))
    })
}

#[async_trait]
impl VciStore for SqliteStore {
    async fn put_vci_offer(&self, o: VciOfferRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO vci_offers ({OFFER_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))?
            .execute(params![
                o.id,
                o.identifier,
                o.actor,
                o.tx_code,
                o.failures,
                o.created_at,
                o.expires_at,
                o.token,
                o.token_expires_at,
                o.redeemed_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn vci_offer(&self, id: &str) -> Result<Option<VciOfferRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {OFFER_COLUMNS} FROM vci_offers WHERE id = ?1"
                ))?
                .query_row(params![id], offer)
                .optional()?)
        })
        .await
    }

    async fn vci_offer_by_token(&self, token: &str) -> Result<Option<VciOfferRecord>> {
        let token = token.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {OFFER_COLUMNS} FROM vci_offers WHERE token = ?1"
                ))?
                .query_row(params![token], offer)
                .optional()?)
        })
        .await
    }

    async fn fail_vci_tx_code(&self, id: &str, max_failures: i64) -> Result<Option<i64>> {
        let id = id.to_owned();
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "UPDATE vci_offers SET failures = failures + 1 \
                     WHERE id = ?1 AND token IS NULL AND failures < ?2 RETURNING failures",
                )?
                .query_row(params![id, max_failures], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn grant_vci_token(
        &self,
        id: &str,
        token: &str,
        expires_at: i64,
        max_failures: i64,
    ) -> Result<()> {
        let (id, token) = (id.to_owned(), token.to_owned());
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE vci_offers SET token = ?2, token_expires_at = ?3 \
                     WHERE id = ?1 AND token IS NULL AND failures < ?4",
                )?
                .execute(params![id, token, expires_at, max_failures])?;
            if n == 0 {
                return Err(missing_or_taken(conn, &id)?);
            }
            Ok(())
        })
        .await
    }

    async fn redeem_vci_offer(&self, id: &str, at: i64, event: EventRecord) -> Result<EventRecord> {
        let id = id.to_owned();
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE vci_offers SET redeemed_at = ?2 \
                     WHERE id = ?1 AND token IS NOT NULL AND redeemed_at IS NULL",
                )?
                .execute(params![id, at])?;
            if n == 0 {
                return Err(missing_or_taken(conn, &id)?);
            }
            append_use_event(conn, &event)
        })
        .await
    }

    async fn use_vci_nonce(&self, nonce: &str, expires_at: i64) -> Result<bool> {
        let nonce = nonce.to_owned();
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "INSERT INTO vci_nonces (nonce, expires_at) VALUES (?1, ?2) \
                     ON CONFLICT (nonce) DO NOTHING",
                )?
                .execute(params![nonce, expires_at])?
                == 1)
        })
        .await
    }

    async fn purge_vci(&self, before: i64) -> Result<u64> {
        self.write(move |conn| {
            let nonces = conn
                .prepare_cached("DELETE FROM vci_nonces WHERE expires_at < ?1")?
                .execute(params![before])?;
            let offers = conn
                .prepare_cached(
                    "DELETE FROM vci_offers WHERE expires_at < ?1 \
                     AND (token_expires_at IS NULL OR token_expires_at < ?1)",
                )?
                .execute(params![before])?;
            Ok((nonces + offers) as u64)
        })
        .await
    }
}
