//! What OpenID4VP verification at a counter keeps: the presentation requests relying
//! institutions start, until a wallet answers them (and the institution's backend has been
//! told).
//!
//! Invariants:
//! - A request is answered at most once: [`PresentationRequestStore::answer_vp_request`]
//!   sets the answer only on an unanswered request (`Conflict` otherwise) and writes the
//!   sharing requests it grants, with its use events and log entries, in the same
//!   transaction; so two wallets answering at once (or a replayed response) give exactly one
//!   annotated copy.
//! - Nothing secret is stored: the response encryption key of a `direct_post.jwt` request is
//!   derived from the node's secret and the request id when needed (`elicense_app`), the
//!   nonce and `state` are public to whoever scanned the QR code.

use async_trait::async_trait;

use crate::error::Result;
use crate::records::{EventRecord, ShareRecord};

/// The `share` column's text for these share ids (`None` for none).
pub(crate) fn join_shares<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let joined = ids.into_iter().collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// The share ids of a `share` column.
pub(crate) fn split_shares(column: Option<String>) -> Vec<String> {
    column
        .map(|c| {
            c.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A presentation request (OpenID4VP) an institution started for a matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpRequestRecord {
    /// Random id: the request object is at `/oid4vp/requests/{id}`.
    pub id: String,
    /// USCC of the institution.
    pub institution: String,
    /// Username of the registered staff member who started it.
    pub staff: String,
    /// Matter code.
    pub matter: String,
    /// Why, in the institution's words.
    pub purpose: String,
    /// Days the annotated copy may be used.
    pub keep_days: u32,
    /// `direct_post` or `direct_post.jwt`.
    pub response_mode: String,
    /// The nonce the KB-JWT must carry.
    pub nonce: String,
    /// The `state` the response must carry.
    pub state: String,
    /// Where the result is posted when answered (the institution's backend), if anywhere.
    pub webhook: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// After this no response is accepted (unix seconds).
    pub expires_at: i64,
    /// When a wallet first fetched the request object.
    pub fetched_at: Option<i64>,
    /// When it was answered.
    pub answered_at: Option<i64>,
    /// `granted` or `refused` once answered.
    pub outcome: Option<String>,
    /// The sharing requests (each with its annotated copy) a granted answer made: one per
    /// license, several for a joint matter. Stored in the `share` column, space-separated
    /// (ids are URL-safe base64), so rows from before joint matters read as one.
    pub shares: Vec<String>,
    /// Webhook deliveries tried.
    pub webhook_attempts: u32,
    /// When the webhook was delivered.
    pub webhook_done_at: Option<i64>,
    /// The keyed hash of the person the request is addressed to (a counter that scanned their
    /// one code, 一码通): it waits in their wallet, and only a license they hold or represent
    /// answers it. `None`: whoever scans the QR code.
    pub holder_key: Option<String>,
}

/// Storage of presentation requests.
#[async_trait]
pub trait PresentationRequestStore: Send + Sync {
    /// Stores a new request; an id in use is `Duplicate`.
    async fn put_vp_request(&self, r: VpRequestRecord) -> Result<()>;
    /// The request `id`.
    async fn vp_request(&self, id: &str) -> Result<Option<VpRequestRecord>>;
    /// An institution's requests, newest first, at most `limit`.
    async fn vp_requests_of(&self, institution: &str, limit: u32) -> Result<Vec<VpRequestRecord>>;
    /// Notes the first fetch of the request object; `false` when it was fetched before (or
    /// there is no such request).
    async fn mark_vp_fetched(&self, id: &str, at: i64) -> Result<bool>;
    /// Answers request `id` (`outcome` `granted` with the sharing requests `shares` and
    /// their events, or `refused` with neither), only if it is still unanswered: `Conflict` when it
    /// was answered already, `NotFound` when there is no such request. Returns the events as
    /// stored.
    async fn answer_vp_request(
        &self,
        id: &str,
        at: i64,
        outcome: &str,
        shares: Vec<ShareRecord>,
        events: Vec<EventRecord>,
    ) -> Result<Vec<EventRecord>>;
    /// Counts a webhook delivery attempt of request `id`, and its success when `delivered_at`
    /// is given.
    async fn record_vp_webhook(&self, id: &str, delivered_at: Option<i64>) -> Result<()>;
    /// Answered requests whose webhook is not delivered yet after fewer than `max_attempts`
    /// tries, oldest answer first, at most `limit`.
    async fn vp_webhooks_pending(
        &self,
        max_attempts: u32,
        limit: u32,
    ) -> Result<Vec<VpRequestRecord>>;
    /// Unanswered requests addressed to any of `holder_keys` that lapse after `now`, newest
    /// first.
    async fn vp_requests_for_holders(
        &self,
        holder_keys: &[String],
        now: i64,
    ) -> Result<Vec<VpRequestRecord>>;
    /// Deletes unanswered requests that expired before `before`; returns how many.
    async fn purge_vp_requests(&self, before: i64) -> Result<u64>;
}
