//! What OpenID4VCI credential offers keep (`elicense_app::wallet::vci`): the offers a holder
//! made, each for one license version, with the access token a redemption got, and the
//! `c_nonce` values used in proofs (the nonce endpoint itself writes nothing: its nonces are
//! sealed by the node and checked without the store).
//!
//! Secrets are kept only as hashes: the pre-authorized code (the offer's key), the
//! transaction code, the access token and the nonce.
//!
//! Invariants (each decision is one conditional write, so two requests at once cannot both
//! pass):
//! - a wrong transaction code counts only while the offer has no token and fewer than
//!   `max_failures` wrong tries ([`VciStore::fail_vci_tx_code`]);
//! - an offer gets at most one access token, never after `max_failures` wrong tries
//!   ([`VciStore::grant_vci_token`]);
//! - an offer is redeemed at most once, and its use event is written in the same transaction
//!   ([`VciStore::redeem_vci_offer`]);
//! - a nonce is used at most once ([`VciStore::use_vci_nonce`]).

use async_trait::async_trait;

use crate::error::Result;
use crate::records::EventRecord;

/// A credential offer, keyed by a hash of its pre-authorized code.
#[derive(Clone, PartialEq, Eq)]
pub struct VciOfferRecord {
    /// Hex SHA-256 of the pre-authorized code.
    pub id: String,
    /// The license version offered.
    pub identifier: String,
    /// Who made the offer (`holder` or `enterprise`): the actor of the use event.
    pub actor: String,
    /// Hex SHA-256 of the transaction code, salted with the pre-authorized code.
    pub tx_code: String,
    /// Wrong transaction codes tried so far.
    pub failures: i64,
    /// When the offer was made (unix seconds).
    pub created_at: i64,
    /// When its pre-authorized code can no longer be redeemed (unix seconds).
    pub expires_at: i64,
    /// Hex SHA-256 of the access token, once one was granted.
    pub token: Option<String>,
    /// When that token ends (unix seconds).
    pub token_expires_at: Option<i64>,
    /// When the credential was issued (unix seconds).
    pub redeemed_at: Option<i64>,
}

impl std::fmt::Debug for VciOfferRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VciOfferRecord")
            .field("identifier", &self.identifier)
            .field("actor", &self.actor)
            .field("failures", &self.failures)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("token_expires_at", &self.token_expires_at)
            .field("redeemed_at", &self.redeemed_at)
            .finish_non_exhaustive()
    }
}

/// Storage of OpenID4VCI offers and nonces.
#[async_trait]
pub trait VciStore: Send + Sync {
    /// Stores a new offer; an id in use is `Duplicate`.
    async fn put_vci_offer(&self, o: VciOfferRecord) -> Result<()>;
    /// The offer `id` (hash of its pre-authorized code).
    async fn vci_offer(&self, id: &str) -> Result<Option<VciOfferRecord>>;
    /// The offer whose access token hashes to `token`.
    async fn vci_offer_by_token(&self, token: &str) -> Result<Option<VciOfferRecord>>;
    /// Counts a wrong transaction code for offer `id` if it has no token and fewer than
    /// `max_failures` failures; returns the failures now, or `None` when nothing was counted
    /// (no such offer, a token granted, or burnt already).
    async fn fail_vci_tx_code(&self, id: &str, max_failures: i64) -> Result<Option<i64>>;
    /// Gives offer `id` the access token hash `token` until `expires_at`, only if it has none
    /// and fewer than `max_failures` failures; `Conflict` otherwise, `NotFound` without it.
    async fn grant_vci_token(
        &self,
        id: &str,
        token: &str,
        expires_at: i64,
        max_failures: i64,
    ) -> Result<()>;
    /// Marks offer `id` redeemed at `at` and appends the use `event` in one transaction, only
    /// if it has a token and was not redeemed; `Conflict` otherwise, `NotFound` without it.
    async fn redeem_vci_offer(&self, id: &str, at: i64, event: EventRecord) -> Result<EventRecord>;
    /// Records the nonce hash `nonce` as used, kept until it expires at `expires_at`; `false`
    /// when it was recorded already (a second use).
    async fn use_vci_nonce(&self, nonce: &str, expires_at: i64) -> Result<bool>;
    /// Deletes the nonces that expired before `before`, and the offers whose code and token
    /// both expired before it; returns how many rows went.
    async fn purge_vci(&self, before: i64) -> Result<u64>;
}
