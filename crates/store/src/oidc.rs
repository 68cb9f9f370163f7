//! What OpenID Connect sign-in keeps: the pre-login records of authorization requests under
//! way, and the link of a provider's subject to the account it signs in to.
//!
//! Invariants:
//! - A pre-login record is single use: [`OidcStore::take_oidc_login`] deletes it and returns
//!   it in one statement, so of two callbacks with the same `state` at most one gets it.
//! - A subject of an issuer is linked to at most one account, and an account to at most one
//!   subject: [`OidcStore::put_oidc_account`] stores the account and its link in one
//!   transaction (`Duplicate` when the subject is linked already: another sign-in made it).

use async_trait::async_trait;

use crate::error::Result;
use crate::records::AccountRecord;

/// An authorization request under way, keyed by a hash of its `state`.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcLoginRecord {
    /// Hex SHA-256 of the `state` sent to the provider.
    pub id: String,
    /// Hex SHA-256 of the value of the browser's pre-login cookie (binds the request to it).
    pub binding: String,
    /// The `nonce` sent to the provider, expected in the ID token.
    pub nonce: String,
    /// The PKCE code verifier (RFC 7636).
    pub verifier: String,
    /// Where the browser goes after sign-in (a local path, checked when it was taken).
    pub next: String,
    /// When the request started (unix seconds).
    pub created_at: i64,
    /// When it can no longer be finished (unix seconds).
    pub expires_at: i64,
}

impl std::fmt::Debug for OidcLoginRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLoginRecord")
            .field("id", &self.id)
            .field("next", &self.next)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The provider's subject an account is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcLinkRecord {
    /// The provider's issuer identifier (`iss`).
    pub issuer: String,
    /// The subject (`sub`) at that issuer.
    pub subject: String,
    /// The account.
    pub account: String,
    /// When the link was made (unix seconds).
    pub created_at: i64,
}

/// Storage of OpenID Connect sign-in.
#[async_trait]
pub trait OidcStore: Send + Sync {
    /// Stores a new pre-login record; an id in use is `Duplicate`.
    async fn put_oidc_login(&self, l: OidcLoginRecord) -> Result<()>;
    /// Deletes and returns the pre-login record `id`; `None` when there is none (never
    /// stored, taken already, or purged).
    async fn take_oidc_login(&self, id: &str) -> Result<Option<OidcLoginRecord>>;
    /// Deletes pre-login records that expired before `before`; returns how many.
    async fn purge_oidc_logins(&self, before: i64) -> Result<u64>;
    /// The account linked to `subject` at `issuer`.
    async fn oidc_account(&self, issuer: &str, subject: &str) -> Result<Option<AccountRecord>>;
    /// Stores a new account and its link in one transaction. A linked subject or an account
    /// id in use is `Duplicate`, a taken username `UsernameTaken`; nothing is stored then.
    async fn put_oidc_account(&self, link: OidcLinkRecord, account: AccountRecord) -> Result<()>;
    /// Replaces the profile and holder keys of account `id` (what the provider said at the
    /// latest sign-in); `NotFound` if there is no such account.
    async fn update_account_profile(
        &self,
        id: &str,
        profile: String,
        holder_keys: Vec<String>,
    ) -> Result<()>;
}
