//! OpenID4VP presentation requests on SQLite (see `crate::vp`). An answer, its sharing
//! request and their events are one writer job (one savepoint).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};

use super::institutions::{append_use_events, insert_share};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::records::{EventRecord, ShareRecord};
use crate::vp::{PresentationRequestStore, VpRequestRecord};

const COLUMNS: &str = "id, institution, staff, matter, purpose, keep_days, response_mode, \
    nonce, state, webhook, created_at, expires_at, fetched_at, answered_at, outcome, share, \
    webhook_attempts, webhook_done_at, holder_key";

fn from_row(r: &Row) -> rusqlite::Result<VpRequestRecord> {
    Ok(VpRequestRecord {
        id: r.get(0)?,
        institution: r.get(1)?,
        staff: r.get(2)?,
        matter: r.get(3)?,
        purpose: r.get(4)?,
        keep_days: r.get(5)?,
        response_mode: r.get(6)?,
        nonce: r.get(7)?,
        state: r.get(8)?,
        webhook: r.get(9)?,
        created_at: r.get(10)?,
        expires_at: r.get(11)?,
        fetched_at: r.get(12)?,
        answered_at: r.get(13)?,
        outcome: r.get(14)?,
        shares: crate::vp::split_shares(r.get(15)?),
        webhook_attempts: r.get(16)?,
        webhook_done_at: r.get(17)?,
        holder_key: r.get(18)?,
    })
}

#[async_trait]
impl PresentationRequestStore for SqliteStore {
    async fn put_vp_request(&self, r: VpRequestRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO vp_requests ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
                 ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
            ))?
            .execute(params![
                r.id,
                r.institution,
                r.staff,
                r.matter,
                r.purpose,
                r.keep_days,
                r.response_mode,
                r.nonce,
                r.state,
                r.webhook,
                r.created_at,
                r.expires_at,
                r.fetched_at,
                r.answered_at,
                r.outcome,
                crate::vp::join_shares(r.shares.iter().map(String::as_str)),
                r.webhook_attempts,
                r.webhook_done_at,
                r.holder_key
            ])?;
            Ok(())
        })
        .await
    }

    async fn vp_request(&self, id: &str) -> Result<Option<VpRequestRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM vp_requests WHERE id = ?1"))?
                .query_row(params![id], from_row)
                .optional()?)
        })
        .await
    }

    async fn vp_requests_of(&self, institution: &str, limit: u32) -> Result<Vec<VpRequestRecord>> {
        let institution = institution.to_owned();
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM vp_requests WHERE institution = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ))?;
            let rows = st.query_map(params![institution, limit], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn mark_vp_fetched(&self, id: &str, at: i64) -> Result<bool> {
        let id = id.to_owned();
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "UPDATE vp_requests SET fetched_at = ?2 WHERE id = ?1 AND fetched_at IS NULL",
                )?
                .execute(params![id, at])?
                == 1)
        })
        .await
    }

    async fn answer_vp_request(
        &self,
        id: &str,
        at: i64,
        outcome: &str,
        shares: Vec<ShareRecord>,
        events: Vec<EventRecord>,
    ) -> Result<Vec<EventRecord>> {
        let (id, outcome) = (id.to_owned(), outcome.to_owned());
        self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE vp_requests SET answered_at = ?2, outcome = ?3, share = ?4 \
                     WHERE id = ?1 AND answered_at IS NULL",
                )?
                .execute(params![
                    id,
                    at,
                    outcome,
                    crate::vp::join_shares(shares.iter().map(|s| s.id.as_str()))
                ])?;
            if n == 0 {
                let exists = conn
                    .prepare_cached("SELECT 1 FROM vp_requests WHERE id = ?1")?
                    .query_row(params![id], |_| Ok(()))
                    .optional()?
                    .is_some();
                return Err(if exists {
                    StoreError::Conflict(format!("presentation request {id} was answered"))
                } else {
                    StoreError::NotFound(format!("presentation request {id}"))
                });
            }
            for s in &shares {
                insert_share(conn, s)?;
            }
            append_use_events(conn, &events)
        })
        .await
    }

    async fn record_vp_webhook(&self, id: &str, delivered_at: Option<i64>) -> Result<()> {
        let id = id.to_owned();
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE vp_requests SET webhook_attempts = webhook_attempts + 1, \
                 webhook_done_at = COALESCE(webhook_done_at, ?2) WHERE id = ?1",
            )?
            .execute(params![id, delivered_at])?;
            Ok(())
        })
        .await
    }

    async fn vp_webhooks_pending(
        &self,
        max_attempts: u32,
        limit: u32,
    ) -> Result<Vec<VpRequestRecord>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM vp_requests WHERE webhook IS NOT NULL \
                 AND webhook_done_at IS NULL AND answered_at IS NOT NULL \
                 AND webhook_attempts < ?1 ORDER BY answered_at, id LIMIT ?2"
            ))?;
            let rows = st.query_map(params![max_attempts, limit], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn vp_requests_for_holders(
        &self,
        holder_keys: &[String],
        now: i64,
    ) -> Result<Vec<VpRequestRecord>> {
        if holder_keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = serde_json::to_string(holder_keys).expect("strings always serialise");
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM vp_requests \
                 WHERE holder_key IN (SELECT value FROM json_each(?1)) \
                 AND answered_at IS NULL AND expires_at > ?2 ORDER BY created_at DESC, id DESC"
            ))?;
            let rows = st.query_map(params![keys, now], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn purge_vp_requests(&self, before: i64) -> Result<u64> {
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "DELETE FROM vp_requests WHERE answered_at IS NULL AND expires_at < ?1",
                )?
                .execute(params![before])? as u64)
        })
        .await
    }
}
